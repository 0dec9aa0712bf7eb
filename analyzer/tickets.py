"""Helpdesk ticket markers: which ticket a message belongs to, and its state.

Helpdesk systems stamp the mail they send with a ticket number (subject tag,
vendor header, Message-ID shape, body watermark). A citizen's thread with
France Travail or one of its contractors is cut into many tickets, closed and
reopened behind their back; these markers are what lets the analyzer stitch
the tickets back into one case and see when a ticket was closed.

Detected systems, their markers, and where each is looked for:

============  ===============================================  =====================
system        marker                                           source
============  ===============================================  =====================
otrs          ``[Ticket#2020021910000123]`` (hook on the       subject, body
              left, date-checksum number)
zammad        ``Subject [Ticket#31001]`` (hook on the right);  subject, body,
              Message-ID ``<yyyymmddhhmmss.ID.UUID@fqdn>``     message_id, references
rt            ``[rtname #123]``; ``RT-Ticket: rtname #123``;   subject, header,
              Message-ID ``rt-VERSION-…-RAND.ID-…@``;          message_id, references
              reference ``RT-Ticket-ID@``
zendesk       Message-ID ``ENCID_hex_hex_sprut@zendesk.com``;  message_id, references,
              ``Your request (12345)``, ``Votre demande        subject, body
              (#12345)``; ``Request #12345`` with Zendesk
              headers or delimiter
freshdesk     ``[#123]``, ``[#Prefix-123]``                    subject, body
osticket      ``[#AB12C]``, or ``[#123]`` with osTicket        subject
              wording (``Support Ticket Opened``, ``Closed``)
glpi          ``[GLPI #0001234]``, ``[ENTITY #0001234]``;      subject, message_id,
              Message-ID ``GLPI_…-Ticket-ID/…``, ``GLPI-ID.``  references
redmine       ``[Project - Tracker #123]``;                    subject, header,
              ``X-Redmine-Issue-Id``; ``redmine.issue-ID.``    message_id, references
jira          ``[JIRA] (KEY-123)``; ``KEY-123`` when           subject
              ``X-JIRA-FingerPrint`` is present
salesforce    ``ref:_00D…._500…:ref``, ``thread::…::``; an     subject, body
              8-digit case number beside them
servicenow    ``INC0012345`` and other record numbers;         subject, body
              watermark ``Ref:MSG123…`` (the last one wins)
dynamics      ``CRM:0001001``                                  subject
fr-reference  prose: ``demande n° …``, ``dossier n° …``,       subject, body
              ``N° de demande : …``, ``référence : …``,
              ``réf. …``, ``dossier 00040520``, ``Ticket
              #…`` with no vendor evidence
============  ===============================================  =====================

Refs come most trustworthy first: vendor headers, then subject tags, then
Message-ID and References shapes, then body markers, then prose. A prose
reference repeating a vendor number is dropped.

Numbers are kept as written, except GLPI's zero padding (``#0001234``), which is
dropped so that the subject tag and the Message-ID (``Ticket-1234``) give one
key, and prose references, upper-cased. Zammad's Message-ID holds the internal
id, not the displayed number, so it is reported as ``id:<n>``; Zendesk's
encoded id (ENCID) is in every mail of a thread, the numeric id only in some,
so both are reported and the ENCID ranks first.

Prose references refuse what only looks like one: dates, years, phone numbers
(10 digits, or "39 49"), postcodes followed by a town, amounts.

Every scan of a body is capped (:data:`BODY_SCAN_LIMIT`): markers sit near the
top (tags, delimiters, template wording) or at the very foot (ServiceNow
watermark, scanned separately), and some bodies are whole forwarded chains or
converted newsletters of hundreds of kilobytes; the analyzer runs this on every
counterpart message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

Source = Literal["subject", "header", "message_id", "references", "body"]
TicketState = Literal["closed", "resolved", "reopened", "rejected_followup", "new", "pending"]

#: How much of a body is scanned. See the module docstring for why.
BODY_SCAN_LIMIT = 20_000
#: How much of the end of a body is scanned for foot-of-message watermarks.
BODY_TAIL_LIMIT = 2_000

SYSTEMS: tuple[str, ...] = (
    "otrs",
    "zammad",
    "rt",
    "zendesk",
    "freshdesk",
    "osticket",
    "glpi",
    "redmine",
    "jira",
    "salesforce",
    "servicenow",
    "dynamics",
    "fr-reference",
)


@dataclass(frozen=True, slots=True)
class TicketRef:
    """One ticket number found in a message, with where it was found."""

    system: str
    number: str
    source: Source


# --- quoted text -----------------------------------------------------------

# A reply quoting an earlier notice must not be read as that notice, so wording
# rules only look at the text above the first quotation marker.
_QUOTE_START = re.compile(
    r"""^[\ \t]*(?:
        >
      | -{2,}\s*(?:Original\ Message|Message\ d'origine|Message\ original|Forwarded\ message
                  |Message\ transf[ée]r[ée])\s*-{2,}
      | (?:Le|On)\ (?=[^\n]*\d)[^\n]{4,200}?(?:\n[^\n]{0,200}?)?(?:a\ [ée]crit|wrote)\s*:
      | De\s?:\ [^\n]+\n(?:[^\n]*\n)?\s*(?:Envoy[ée]|Date)\s?:
      | From:\ [^\n]+\n(?:[^\n]*\n)?\s*(?:Sent|Date):
    )""",
    re.MULTILINE | re.VERBOSE | re.IGNORECASE,
)
_QUOTE_KEYS = (">", "--", "crit", "wrote", "de :", "de:", "from:")


# Automation, ticket and case rules each ask for the own text of the message
# at hand, one after the other: the last few answers are kept.
@lru_cache(maxsize=64)
def own_text(body: str, limit: int = BODY_SCAN_LIMIT) -> str:
    """The part of ``body`` written for this message: above the first quote, capped.

    >>> own_text("Merci.\\n\\nLe 3 mars 2024, Pôle emploi a écrit :\\n> Bonjour")
    'Merci.\\n\\n'
    >>> own_text("abcdef", limit=3)
    'abc'
    """
    head = body[:limit]
    if not mentions(head.lower(), _QUOTE_KEYS):
        return head
    found = _QUOTE_START.search(head)
    return head[: found.start()] if found else head


# --- vendor patterns -------------------------------------------------------

# Patterns run on lower-cased text (see lower_aligned) are written in lower case.
_HOOK_TAG = re.compile(r"(\[)?\b(?:ticket|call|myticket)#\s{0,2}:?\s{0,2}(\d{5,40})\b(\])?")
_BRACKET_TAG = re.compile(r"\[([^\[\]#\n]{1,80}?)\s+#\s?(\d{1,12})\s*\]")
_HASH_TAG = re.compile(r"\[#([A-Za-z0-9_-]{1,32})\]")
_HASH_DIGITS = re.compile(r"(?:[A-Za-z0-9_]+-)?(\d+)")
_JIRA_TAG = re.compile(r"\[JIRA\]\s*\(([A-Z][A-Z0-9]{1,9}-\d+)\)")
_JIRA_KEY = re.compile(r"\b([A-Z][A-Z0-9]{1,9}-\d+)\b")
# Record numbers are upper case by construction; matching case-sensitively keeps
# words like "inc1234567" in prose out.
_SNOW_RECORD = re.compile(r"\b((?:INC|RITM|REQ|SCTASK|CHG|PRB|CS)\d{7,})\b")
_SNOW_PREFIXES = ("INC", "RITM", "REQ", "SCTASK", "CHG", "PRB", "CS")
_SNOW_WATERMARK = re.compile(r"\bRef:((?:MSG|[A-Z][A-Z0-9]*?)\d+)(?:_[A-Za-z0-9]{20})?\b")
_SF_REF = re.compile(r"\bref:([_!]?00D[0-9A-Za-z]+\.[_!]?500[0-9A-Za-z]+):ref\b")
_SF_THREAD = re.compile(r"\bthread::([A-Za-z0-9_-]{10,})::")
_CRM_TOKEN = re.compile(r"\bCRM:(\d{4,})\b")
_ZENDESK_MSGID = re.compile(r"^([0-9A-Z]{10,11})(?:_[0-9a-f]+_[0-9a-f]+_sprut)?@zendesk\.com$")
# A space or "(" must separate the word from "#", or OTRS/Zammad's "Ticket#n" hook would match.
_ZENDESK_REQUEST = re.compile(
    r"\b(?:your request|votre demande|request|demande|ticket)(?:\s*(\()#|\s+#)(\d{1,9})\b(?(1)\))"
)
# Zendesk's default trigger writes "Your request (12345)" / "Votre demande (12345)".
_ZENDESK_TEMPLATE = re.compile(r"\b(?:your request|votre demande)\s*\(#?(\d{1,9})\)")
# Salesforce case numbers are an 8-digit auto-number; trusted only beside a
# Salesforce threading token or Message-ID.
_SF_CASE = re.compile(
    r"\b(?:case|dossier|requ[êe]te|demande|cas)\s*(?:n\s?[°º]|\#|no\.?)?\s*:?\s*(\d{8})\b", re.I
)
_SF_MSGID = re.compile(r"@(?:sfdc\.net|[\w.-]*salesforce\.com)$", re.I)
# Zammad builds "<yyyymmddhhmmss.TICKET_ID.UUID@fqdn>"; the UUID keeps other
# timestamped ids (many mail clients start with yyyymmddhhmmss.) out.
_ZAMMAD_MSGID = re.compile(
    r"^((\d{8})\d{6})\.(\d+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@"
)
_RT_MSGID = re.compile(r"^rt-[0-9.]+-\d+-\d+-\d+\.(\d+)-\d+-\d+@", re.I)
_RT_REF = re.compile(r"^RT-Ticket-(\d+)@", re.I)
_RT_HEADER = re.compile(r"#\s?(\d+)\b")
_REDMINE_MSGID = re.compile(r"^redmine\.issue-(\d+)\.\d+(?:\.[a-f0-9]+)?@", re.I)
_GLPI_MSGID = re.compile(r"^GLPI(?:_[0-9A-Za-z]+-Ticket-(\d+)[/@.]|-(\d+)\.\d+\.\d+@)")
_FRESHDESK_SPAN = re.compile(r"fd_tkt_identifier['\"]?>\s*(\d+):\d+")
_SUBJECT_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|tr|aw|wg|rép|rep)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_OSTICKET_HINT = re.compile(r"Support Ticket Opened|\]\s*Closed\s*$|\bRef-Mid:|data-mid=", re.I)
_FRESHDESK_HINT = re.compile(
    r"^(?:Ticket (?:Received|Updated|Resolved|Closed|re-opened)|Added as CC|New comment)\s+-"
    r"|fdtktid|fd_tkt_identifier",
    re.I,
)
_ZENDESK_BODY_HINT = re.compile(r"^##- .{10,80} -##\s*$", re.M)

# --- French (and vendor-less) prose references -----------------------------

# A reference holds a digit: the lookahead keeps "Référence : demande n° 12345"
# from being read as the reference "demande" (which would also hide the number).
_REF_TOKEN = r"(?P<num>(?=[A-Za-z/-]*\d)[A-Za-z0-9](?:[A-Za-z0-9]|[-/](?=[A-Za-z0-9])){2,30})"
_FR_NOUN = (
    r"(?:demandes?|dossiers?|requ[êe]tes?|r[ée]clamations?|tickets?|incidents?|affaires?"
    r"|courriers?|saisines?|signalements?|cases?|requests?)"
)
# "demandes 2023-418552 et 2023-447120": the numbers listed after the first.
_LISTED_TOKEN = re.compile(r"\s*(?:,|et|and|&|/)\s*(?:(?:n\s?[°º]|\#)\s*)?" + _REF_TOKEN)
_FR_REFERENCE = re.compile(
    r"(?:"
    rf"\b{_FR_NOUN}\s+(?:n\s?[°º]|no\.|num[ée]ro|num\.|\#)\s*:?\s*"
    rf"|\b{_FR_NOUN}\s+(?=\d[\d-]{{4,14}}\b)"
    rf"|\b(?:n\s?[°º]|num[ée]ro)\s+(?:de\s+|d['’])?(?:votre\s+|la\s+|ma\s+)?"
    rf"(?:{_FR_NOUN}|r[ée]f[ée]rence|suivi)\s*:?\s*"
    r"|\br[ée]f[ée]rence\s+(?:de\s+(?:votre|la|ma)\s+(?:demande|dossier)\s*)?:?\s*"
    r"|\br[ée]f[ée]rence\s*:\s*"
    r"|\br[ée]f\.\s*:?\s*|\br[ée]f\s*:\s*"
    rf"){_REF_TOKEN}",
)
_DATE_TOKEN = re.compile(r"^(?:\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?|\d{4}-\d{2}-\d{2})$")
_YEAR_TOKEN = re.compile(r"^(?:19|20)\d{2}$")
_PHONE_TOKEN = re.compile(r"^0[1-9]\d{8}$")
_AMOUNT_AFTER = re.compile(r"^(?:[,.]\d|\s*(?:€|eur\b|euros?\b))", re.I)
_TOWN_AFTER = re.compile(r"^ [A-ZÉÈ][a-zéèêëàâîïôöûüç]")


def _plausible_reference(token: str, after: str) -> bool:
    """Whether a token cued as a reference is not a date, year, phone, amount or postcode."""
    digits = sum(c.isdigit() for c in token)
    if digits < 3:
        return False
    if _DATE_TOKEN.match(token) or _YEAR_TOKEN.match(token) or _PHONE_TOKEN.match(token):
        return False
    if _AMOUNT_AFTER.match(after):
        return False
    return not (len(token) == 5 and token.isdigit() and _TOWN_AFTER.match(after))


# --- helpers -----------------------------------------------------------------


def _valid_yyyymmdd(text: str) -> bool:
    """Whether ``text`` starts like an OTRS DateChecksum number (a real date)."""
    try:
        year, month, day = int(text[:4]), int(text[4:6]), int(text[6:8])
        date(year, month, day)
    except ValueError:
        return False
    return 1990 <= year <= 2100


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name, "")


def lower_aligned(text: str) -> str:
    """``text`` lower-cased one character for one, so match offsets fit ``text``.

    Running lower-case patterns without ``re.IGNORECASE`` on this is several
    times faster on long bodies; the rare characters whose lower case is
    longer ("İ") are left as they are.

    >>> lower_aligned("Votre DEMANDE İ")
    'votre demande İ'
    """
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def mentions(text: str, keys: Iterable[str]) -> bool:
    """Whether lower-cased ``text`` holds any of ``keys``: a cheap gate before a regex.

    Substring tests run in C at memory speed; the case-insensitive alternations
    behind them cost far more per character, and most messages hold none of
    their words, so every wording rule is gated this way.

    >>> mentions("votre demande a été clôturée", ("clôtur", "ferm"))
    True
    """
    for key in keys:  # noqa: SIM110 (a generator costs more than most of these tests)
        if key in text:
            return True
    return False


def _zendesk_evidence(headers: Mapping[str, str], ids: Iterable[str], body: str) -> bool:
    if any(name.startswith("x-zendesk-") for name in headers):
        return True
    if "zendesk" in _header(headers, "x-mailer").lower():
        return True
    if any(_ZENDESK_MSGID.match(i) for i in ids):
        return True
    return "##-" in body and bool(_ZENDESK_BODY_HINT.search(body))


def _hook_system(subject: str, start: int, end: int, number: str, zammad: bool) -> str:
    """OTRS or Zammad for a ``Ticket#`` tag: both share the hook."""
    if zammad:
        return "zammad"
    before = _SUBJECT_PREFIX.sub("", subject[:start]).strip()
    after = subject[end:].strip()
    if before and not after:
        # Zammad puts the tag on the right by default, OTRS on the left.
        return "zammad"
    if not before and after:
        return "otrs"
    return "otrs" if len(number) >= 12 and _valid_yyyymmdd(number) else "zammad"


def _bracket_system(tag: str, number: str) -> tuple[str, str]:
    """RT, GLPI or Redmine for a ``[tag #n]`` subject tag."""
    if " - " in tag:
        return "redmine", number
    if tag.strip().upper() == "GLPI" or (len(number) >= 7 and number.startswith("0")):
        return "glpi", str(int(number))
    return "rt", number


class _Collector:
    """Accumulates refs with a confidence; local to one call."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, TicketRef]] = []

    def add(self, confidence: int, system: str, number: str, source: Source) -> None:
        self.items.append((-confidence, len(self.items), TicketRef(system, number, source)))

    def result(self) -> list[TicketRef]:
        vendor_numbers = {r.number for _, _, r in self.items if r.system != "fr-reference"}
        seen: set[tuple[str, str]] = set()
        out: list[TicketRef] = []
        for _, _, ref in sorted(self.items):
            key = (ref.system, ref.number)
            # Prose around a vendor tag ("Ticket #123") adds nothing the vendor ref lacks.
            if ref.system == "fr-reference" and ref.number in vendor_numbers:
                continue
            if key not in seen:
                seen.add(key)
                out.append(ref)
        return out


_FR_REFERENCE_KEYS = ("n°", "nº", "n °", "no.", "num", "réf", "ref", "#", "demandes ", "dossiers ")


def _scan_text(
    found: _Collector, text: str, source: Source, *, zendesk: bool, zammad: bool, strong: int
) -> None:
    """Markers that may sit in a subject or a body (``strong`` sets their confidence)."""
    low = lower_aligned(text)
    hashed = "#" in text
    for m in _HOOK_TAG.finditer(low) if hashed else ():
        number = m.group(2)
        if source == "subject":
            system = _hook_system(text, m.start(), m.end(), number, zammad)
        elif zammad:
            system = "zammad"
        else:
            system = "otrs" if len(number) >= 12 and _valid_yyyymmdd(number) else "zammad"
        # "[Ticket#n]" is the system's own tag; a bare "Ticket#n" may be a citation.
        found.add(strong + 2 if m.group(1) else strong, system, number, source)
    for m in _SF_REF.finditer(text) if "ref:" in text else ():
        found.add(strong, "salesforce", m.group(1).replace("_", "").replace("!", ""), source)
    for m in _SF_THREAD.finditer(text) if "thread::" in text else ():
        found.add(strong, "salesforce", m.group(1), source)
    for m in _SNOW_RECORD.finditer(text) if mentions(text, _SNOW_PREFIXES) else ():
        found.add(strong - 5, "servicenow", m.group(1), source)
    for m in _ZENDESK_TEMPLATE.finditer(low) if "(" in text else ():
        found.add(strong - 10, "zendesk", m.group(1), source)
    for m in _ZENDESK_REQUEST.finditer(low) if hashed else ():
        templated = m.group(1) is not None
        if zendesk or templated:
            found.add(strong - 10, "zendesk", m.group(2), source)
        else:
            found.add(strong - 50, "fr-reference", m.group(2), source)
    for m in _FR_REFERENCE.finditer(low) if mentions(low, _FR_REFERENCE_KEYS) else ():
        token = text[m.start("num") : m.end("num")]
        if _SNOW_WATERMARK.match(text, m.start()):
            continue  # "Ref:MSG…" is ServiceNow's watermark, handled on its own
        if _plausible_reference(token, text[m.end() : m.end() + 8]):
            found.add(strong - 55, "fr-reference", token.upper(), source)
            end = m.end()
            while (more := _LISTED_TOKEN.match(low, end)) is not None:
                listed = text[more.start("num") : more.end("num")]
                if not _plausible_reference(listed, text[more.end() : more.end() + 8]):
                    break
                found.add(strong - 56, "fr-reference", listed.upper(), source)
                end = more.end()


def detect_tickets(
    subject: str,
    headers: Mapping[str, str],
    message_id: str,
    references: Sequence[str],
    body: str,
) -> list[TicketRef]:
    """Every ticket number the message carries, most trustworthy first, de-duplicated.

    >>> detect_tickets("[Ticket#2020021910000123] Contrôle", {}, "x@y", [], "")
    [TicketRef(system='otrs', number='2020021910000123', source='subject')]
    >>> [r.system for r in detect_tickets("Re: Attestation [Ticket#31001]", {}, "a@b", [], "")]
    ['zammad']
    """
    found = _Collector()
    head = body[:BODY_SCAN_LIMIT]
    zendesk = _zendesk_evidence(headers, [message_id, *references], head)
    zammad_ids = [m for m in (_ZAMMAD_MSGID.match(i) for i in (message_id, *references)) if m]
    zammad = any(_valid_yyyymmdd(m.group(2)) for m in zammad_ids)

    # Vendor headers name the ticket outright.
    redmine_id = _header(headers, "x-redmine-issue-id").strip()
    if redmine_id.isdigit():
        found.add(100, "redmine", redmine_id, "header")
    for name in ("rt-ticket", "x-rt-ticket"):
        rt = _RT_HEADER.search(_header(headers, name))
        if rt:
            found.add(100, "rt", rt.group(1), "header")

    # Subject tags.
    for m in _BRACKET_TAG.finditer(subject):
        system, number = _bracket_system(m.group(1), m.group(2))
        found.add(90, system, number, "subject")
    hash_tags = list(_HASH_TAG.finditer(subject)) if "[#" in subject else []
    if hash_tags:
        osticket = bool(_OSTICKET_HINT.search(subject) or _OSTICKET_HINT.search(head))
        freshdesk = bool(_FRESHDESK_HINT.search(subject) or _FRESHDESK_HINT.search(head))
    for m in hash_tags:
        token = m.group(1)
        digits = _HASH_DIGITS.fullmatch(token)
        if digits and (freshdesk or not osticket):
            found.add(90, "freshdesk", digits.group(1), "subject")
        else:
            found.add(90, "osticket", token, "subject")
    jira = _JIRA_TAG.search(subject)
    if jira:
        found.add(90, "jira", jira.group(1), "subject")
    elif "x-jira-fingerprint" in headers:
        for m in _JIRA_KEY.finditer(subject):
            found.add(85, "jira", m.group(1), "subject")
    for m in _CRM_TOKEN.finditer(subject):
        found.add(90, "dynamics", m.group(1), "subject")
    _scan_text(found, subject, "subject", zendesk=zendesk, zammad=zammad, strong=90)

    # Message-ID and References shapes.
    for source, ids in (("message_id", [message_id]), ("references", list(references))):
        confidence = 85 if source == "message_id" else 75
        src: Source = "message_id" if source == "message_id" else "references"
        for ident in ids:
            if zm := _ZENDESK_MSGID.match(ident):
                found.add(confidence, "zendesk", zm.group(1), src)
            elif rm := _REDMINE_MSGID.match(ident):
                found.add(confidence, "redmine", rm.group(1), src)
            elif tm := (_RT_MSGID.match(ident) or _RT_REF.match(ident)):
                found.add(confidence, "rt", tm.group(1), src)
            elif gm := _GLPI_MSGID.match(ident):
                found.add(confidence, "glpi", str(int(gm.group(1) or gm.group(2))), src)
            elif (am := _ZAMMAD_MSGID.match(ident)) and _valid_yyyymmdd(am.group(2)):
                # Internal id, not the displayed number: least trusted of the ids.
                found.add(confidence - 35, "zammad", f"id:{am.group(3)}", src)

    # Body markers.
    _scan_text(found, head, "body", zendesk=zendesk, zammad=zammad, strong=70)
    if any(r.system == "salesforce" for _, _, r in found.items) or _SF_MSGID.search(message_id):
        for m in _SF_CASE.finditer(subject):
            found.add(88, "salesforce", m.group(1), "subject")
    fd = _FRESHDESK_SPAN.search(head) if "fd_tkt" in head else None
    if fd:
        found.add(70, "freshdesk", fd.group(1), "body")
    # ServiceNow puts its watermark at the foot and the last one is current.
    tail = body[-BODY_TAIL_LIMIT:]
    watermarks = _SNOW_WATERMARK.findall(tail) if "Ref:" in tail else []
    if not watermarks and "Ref:" in head:
        watermarks = _SNOW_WATERMARK.findall(head)
    if watermarks:
        found.add(50, "servicenow", watermarks[-1], "body")
    return found.result()


def primary_ticket(refs: Sequence[TicketRef]) -> TicketRef | None:
    """The ref to file the message under: the first one, as refs come best first.

    >>> refs = [TicketRef("rt", "12", "subject"), TicketRef("fr-reference", "A1B2", "body")]
    >>> primary_ticket(refs)
    TicketRef(system='rt', number='12', source='subject')
    >>> primary_ticket([]) is None
    True
    """
    return refs[0] if refs else None


def ticket_key(ref: TicketRef) -> str:
    """A stable ``system:number`` key, used as ticket id.

    >>> ticket_key(TicketRef("otrs", "2020021910000123", "subject"))
    'otrs:2020021910000123'
    """
    return f"{ref.system}:{ref.number}"


# --- earlier tickets cited in prose ----------------------------------------

_PREVIOUS_CUE = re.compile(
    r"\bsuite\s+[àa]\s+(?:ma|mon|notre|votre)\s+"
    r"(?:(?:pr[ée]c[ée]dente?|derni[èe]re?|premi[èe]re?|ancien(?:ne)?)\s+)?"
    r"(?:demande|ticket|dossier|r[ée]clamation|requ[êe]te|signalement|message|mail|courriel)"
    r"|\b(?:ma|mon|notre)\s+(?:pr[ée]c[ée]dente?|ancien(?:ne)?|derni[èe]re?|premi[èe]re?)\s+"
    r"(?:demande|ticket|dossier|r[ée]clamation|requ[êe]te|signalement)"
    r"|\b(?:ma|mon|notre)\s+(?:demande|ticket|dossier|r[ée]clamation|requ[êe]te)\s+"
    r"(?:pr[ée]c[ée]dente?|initiale?|ant[ée]rieure?|d[ée]j[àa]\s+\w+)"
    # "au sujet de / concernant / après la clôture de ma demande n° …": the
    # citizen names one of her own tickets, which can only be an earlier one.
    r"|\b(?:au\s+sujet\s+de|concernant|[àa]\s+propos\s+de|cl[ôo]ture\s+de|relative?\s+[àa])"
    r"\s+(?:ma|mon|notre)\s+(?:demande|ticket|dossier|r[ée]clamation|requ[êe]te|signalement)"
    r"|\b(?:my\s+|our\s+)?(?:previous|earlier|prior|original|old|closed)\s+(?:ticket|request|case)"
    r"|\b(?:regarding|about|closure\s+of)\s+(?:my|our)\s+(?:ticket|request|case)"
    r"|\bfollowing\s+up\s+on\s+(?:my\s+)?(?:ticket|request|case)",
)
_LABELLED_TOKEN = re.compile(
    r"(?:n\s?[°º]|num[ée]ro|no\.|\#|r[ée]f[ée]rence|r[ée]f\.?)\s*:?\s*" + _REF_TOKEN
)
_BARE_TOKEN = re.compile(r"(?<![\w/.-])" + _REF_TOKEN)
_CLOSED_TICKET = re.compile(
    rf"\b{_FR_NOUN}\s*(?:n\s?[°º]|\#|num[ée]ro)\s*:?\s*{_REF_TOKEN}\s*[,(]?\s*"
    r"(?:qui\s+|which\s+)?(?:a\s+[ée]t[ée]\s+|est\s+|[ée]tait\s+|was\s+|has\s+been\s+|is\s+)?"
    r"(?:ferm[ée]e?|cl[ôo]tur[ée]e?|close?|closed|r[ée]solue?|resolved|sold[ée]e?)\b",
)
_PREVIOUS_KEYS = (
    "suite", "précédent", "precedent", "ancien", "derni", "premi", "initial", "antérieur",
    "anterieur", "déjà", "deja", "previous", "earlier", "prior", "original", "old ", "closed",
    "following up", "sujet", "concernant", "propos", "clôture", "cloture", "relati",
    "regarding", "about", "closure",
)  # fmt: skip
_CLOSED_TICKET_KEYS = ("n°", "nº", "n °", "#", "num")
# "réf." and "no." end with a dot but not a sentence.
_SENTENCE_END = re.compile(r"(?<![Rr][ée]f)(?<![Nn]o)[.!?](?:\s|$)|\n\s*\n")


def _first_reference(window: str, low: str) -> str | None:
    """The first plausible number in ``window`` (``low`` is its lower-cased twin)."""
    for pattern in (_LABELLED_TOKEN, _BARE_TOKEN):
        for m in pattern.finditer(low):
            token = window[m.start("num") : m.end("num")]
            if _plausible_reference(token, window[m.end() : m.end() + 8]):
                return token.upper()
    return None


def detect_previous_ticket_mentions(body: str) -> list[str]:
    """Numbers of earlier tickets the writer cites, in order of appearance.

    A citizen whose ticket was closed under them often restarts with "suite à
    ma demande n° …"; the number links the new ticket to the old case.

    >>> detect_previous_ticket_mentions("Suite à ma demande n° 2023-004512 du 3 mars, rien.")
    ['2023-004512']
    >>> detect_previous_ticket_mentions("Le ticket #88123 a été fermé sans réponse.")
    ['88123']
    """
    text = own_text(body)
    low = lower_aligned(text)
    hits: list[tuple[int, str]] = []
    cues = _PREVIOUS_CUE.finditer(low) if mentions(low, _PREVIOUS_KEYS) else ()
    for m in cues:
        end = m.end() + 90
        stop = _SENTENCE_END.search(low, m.end(), end)
        end = stop.start() if stop else end
        token = _first_reference(text[m.end() : end], low[m.end() : end])
        if token:
            hits.append((m.start(), token))
    for m in _CLOSED_TICKET.finditer(low) if mentions(low, _CLOSED_TICKET_KEYS) else ():
        token = text[m.start("num") : m.end("num")]
        if _plausible_reference(token, ""):
            hits.append((m.start(), token.upper()))
    out: list[str] = []
    for _, token in sorted(hits):
        if token not in out:
            out.append(token)
    return out


# --- ticket state --------------------------------------------------------------

# Families are checked in this order; the first that matches wins.
# * An explicit refusal of the citizen's reply comes first: it also says
#   "closed".
# * "Reopen" patterns only accept statements of fact ("has been reopened"):
#   every resolution notice explains how to reopen.
# * "Please create a new request" alone means the reply was refused, but a
#   closure notice says the same as advice ("clôturée ; si besoin, créez une
#   nouvelle demande"), so that wording is only read after closed/resolved.
# Each family is gated by words that every one of its phrasings contains.
_StateRule = tuple[TicketState, tuple[str, ...], re.Pattern[str]]
_STATE_PATTERNS: tuple[_StateRule, ...] = (
    (
        "rejected_followup",
        ("closed", "rejected", "clôtur", "clotur", "rejet", "refus", "pas pu", "pas été",
         "pas ete", "ne peut plus", "ne pourra plus", "no longer", "impossible"),
        re.compile(
            r"your previous ticket is closed|your follow-?up has been rejected"
            r"|your e-?mail has been rejected|unable to update your closed (?:case|ticket)"
            r"|(?:ticket|request|case) is closed and cannot|can no longer (?:reply|respond)"
            r"|votre (?:courriel|e-?mail|message|relance|r[ée]ponse|suivi) a [ée]t[ée] "
            r"(?:rejet[ée]e?|refus[ée]e?)"
            r"|votre pr[ée]c[ée]dente? (?:ticket|demande|dossier) est (?:cl[ôo]tur[ée]e?|close?"
            r"|ferm[ée]e?)"
            r"|impossible de mettre [àa] jour votre (?:dossier|demande|ticket) "
            r"(?:cl[ôo]tur[ée]e?|close?|ferm[ée]e?)"
            r"|ne peut plus [êe]tre (?:mise? [àa] jour|compl[ée]t[ée]e?|modifi[ée]e?)"
            r"|ne (?:peut|pourra) plus recevoir de r[ée]ponse"
            r"|n'a pas (?:pu [êe]tre|[ée]t[ée]) (?:pris|prise) en compte",
            re.I,
        ),
    ),
    (
        "reopened",
        ("opened", "rejected", "ouvert", "refus"),
        re.compile(
            r"\bticket re-?opened\b|\bhas been re-?opened|\bwas re-?opened|\bsolution rejected"
            r"|a [ée]t[ée] (?:rouverte?|r[ée]ouverte?)|\bsolution refus[ée]e",
            re.I,
        ),
    ),
    (
        "closed",
        ("clos", "clôtur", "clotur", "ferm", "class"),
        re.compile(
            r"^ticket closed -|\]\s*closed\s*$|\bhas been closed\b|\bis now closed\b"
            r"|\bresolved and closed\b|\bclosing of the ticket\b|\bautoclose notice\b"
            r"|a [ée]t[ée] (?:cl[ôo]tur[ée]e?|ferm[ée]e?|close?|class[ée]e? sans suite)\b"
            r"|est (?:d[ée]sormais |maintenant )?(?:cl[ôo]tur[ée]e?|close?|ferm[ée]e?)\b"
            r"|cl[ôo]ture de (?:votre|la) demande|\((?:closed|ferm[ée]e?|clos)\)"
            r"|statut\s*:\s*(?:clos|cl[ôo]tur[ée]e?|ferm[ée]e?)\b",
            re.I | re.M,
        ),
    ),
    (
        "resolved",
        ("solved", "solution", "résolu", "resolu"),
        re.compile(
            r"^ticket resolved -|(?:^|\]\s*)resolved:|\bhas been (?:deemed )?(?:solved|resolved)\b"
            r"|\bindicated that your ticket has been resolved\b|\bticket solved\b"
            r"|\bsolution proposed\b"
            r"|consid[ée]r[ée]e? comme r[ée]solue?|a [ée]t[ée] r[ée]solue?\b"
            r"|marqu[ée]e? comme r[ée]solue?|\((?:resolved|r[ée]solue?)\)"
            r"|statut\s*:\s*r[ée]solue?\b",
            re.I | re.M,
        ),
    ),
    (
        "rejected_followup",
        ("nouve", " a new ", "plus r", "no longer"),
        re.compile(
            r"please (?:create|open|submit) a new (?:ticket|request|case)"
            r"|(?:merci|veuillez|nous vous invitons [àa]|il vous faut) (?:de |d')?(?:cr[ée]er"
            r"|ouvrir|soumettre|effectuer|d[ée]poser|faire) (?:une nouvelle demande"
            r"|un nouveau (?:ticket|dossier))"
            r"|vous ne pouvez plus r[ée]pondre",
            re.I,
        ),
    ),
    (
        "pending",
        ("awaiting", "waiting", "attente", "pending", "feedback"),
        re.compile(
            r"\bawaiting your (?:reply|response|feedback)\b|\bwaiting for your (?:reply|response)\b"
            r"|\ben attente de (?:votre|vos) (?:r[ée]ponse|retour|compl[ée]ment|pi[èe]ce)"
            r"|\bstatut\s*:\s*en attente\b|\((?:pending|feedback|en attente)\)",
            re.I,
        ),
    ),
    (
        "new",
        ("created", "received", "opened", "autoreply", "inquiry", "assigned", "bien été",
         "bien ete", "bien reçu", "bien recu", "réception", "reception", "créé", "cree",
         "(new)", "(nouveau)", "(nouvelle)", "nouveau ticket"),
        re.compile(
            r"\ba new ticket has been created\b|\bnew ticket has been created!"
            r"|\ba ticket has been created\b"
            r"|\byour request (?:\(#?[^)]*\) )?has been received\b|^support ticket opened\b"
            r"|^ticket received -|(?:^|\]\s*)autoreply:|\bthanks for your inquiry\b"
            r"|\bhas been assigned an id of\b|^case \S+ opened\b"
            r"|votre demande (?:\(#?[^)]*\) )?a bien [ée]t[ée] "
            r"(?:re[çc]ue|enregistr[ée]e|cr[ée][ée]e)"
            r"|nous avons bien re[çc]u votre (?:demande|message|courriel|e-?mail)"
            r"|bonne r[ée]ception de votre (?:demande|message|courriel|e-?mail)"
            r"|(?:un|votre) (?:ticket|demande|dossier)(?: n° ?[\w-]+)? a (?:bien )?[ée]t[ée] "
            r"cr[ée][ée]e?"
            r"|(?:^|\]\s*)nouveau ticket\b|\((?:new|nouveau|nouvelle)\)",
            re.I | re.M,
        ),
    ),
)  # fmt: skip


# Redmine writes the status after the tag: "[Projet - Support #7] (Résolu) …".
_REDMINE_STATUS = re.compile(r"\[[^\[\]]*#\d+\]\s*\(([^()]{2,30})\)")
_STATUS_NAMES: Mapping[str, TicketState] = MappingProxyType({
    "new": "new", "nouveau": "new", "nouvelle": "new",
    "resolved": "resolved", "résolu": "resolved", "résolue": "resolved", "resolu": "resolved",
    "closed": "closed", "fermé": "closed", "fermée": "closed", "ferme": "closed", "clos": "closed",
    "clôturé": "closed", "clôturée": "closed", "rejected": "closed", "rejeté": "closed",
    "feedback": "pending", "commentaire": "pending", "en attente": "pending",
    "pending": "pending",
})  # fmt: skip


def ticket_state(subject: str, body: str) -> TicketState | None:
    """The ticket state a helpdesk message announces, from its wording, if any.

    Only the message's own text is read (not quoted replies).

    >>> ticket_state("[Acme] Re: Attestation",
    ...              "Votre demande (#22287) a été considérée comme résolue. "
    ...              "Pour la rouvrir, répondez à cet e-mail.")
    'resolved'
    >>> ticket_state("Your email has been rejected! (RE: x)", "Your previous ticket is closed.")
    'rejected_followup'
    >>> ticket_state("Bonjour", "Merci pour votre message.") is None
    True
    """
    stripped = _SUBJECT_PREFIX.sub("", subject).strip()
    # A status the system prints in the subject outranks wording in the body,
    # which may be the citizen's own text echoed back.
    status = _REDMINE_STATUS.search(stripped) if "#" in stripped else None
    if status and status.group(1).strip().lower() in _STATUS_NAMES:
        return _STATUS_NAMES[status.group(1).strip().lower()]
    text = own_text(body)
    low = f"{stripped}\n{text}".lower()
    for state, keys, pattern in _STATE_PATTERNS:
        if mentions(low, keys) and (pattern.search(stripped) or pattern.search(text)):
            return state
    return None
