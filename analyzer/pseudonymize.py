"""Pseudonymisation of union exports: keyed hashes, person pseudonyms, scrubbed text.

A member's export must not expose the member, their advisors or anyone in
their mail, yet two exports of the same member must still line up and the
three tables of one export must still join. So:

* every identifier (Message-ID, case, ticket) becomes an HMAC-SHA256 of the
  value under a key that never leaves the member's machine
  (:func:`load_or_create_key`), truncated and prefixed: ``m-…``, ``case-…``,
  ``ticket-…``. The same key gives the same ids; another member's key gives
  ids that share nothing;
* people become ``me``, ``agency-person-…``, ``contractor-person-…`` or
  ``other-person-…`` from the same keyed hash of who they are;
* free text (subjects, only when asked) loses every address, every name
  the mailbox knows (display names, signatures, greetings, names after a
  civility such as "Mme"), phone numbers and dossier or ticket numbers
  (:class:`Scrubber`);
* counterparts keep their names, aggregated by a canonical id
  (:func:`canonical_counterpart_id`).

>>> p = Pseudonymizer(b"k" * 32)
>>> p.identifier("message", "q1@exemple-perso.fr")
'm-8add3c157209faaf'
>>> p.person("agency", "Sandrine Lefebvre") == p.person("agency", "sandrine  LEFEBVRE")
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from analyzer.analysis import Analysis
    from analyzer.config import Config, Counterpart

KEY_FILENAME = "export-key"
KEY_BYTES = 32
#: Prefixes of the identifier kinds; the hash is keyed per kind too, so a
#: ticket number that equals a case id still gets unrelated pseudonyms.
PREFIXES: dict[str, tuple[str, int]] = {
    "message": ("m-", 16),
    "case": ("case-", 12),
    "ticket": ("ticket-", 12),
}
#: Hex digits of a person's pseudonym: six keep collisions unlikely in a
#: mailbox of a few hundred people while staying readable.
PERSON_DIGITS = 6

EMAIL_TOKEN = "[email]"
NAME_TOKEN = "[name]"
PHONE_TOKEN = "[phone]"
NUMBER_TOKEN = "[number]"


class KeyError_(AnalyzerError):
    """Raised when the member's key file cannot be read or created."""

    default_key = "export.key_unreadable"


def default_key_path() -> Path:
    """Where the member's key lives: the user's data folder, never an export.

    >>> default_key_path().name
    'export-key'
    """
    import platformdirs

    return Path(platformdirs.user_data_dir("analyzer")) / KEY_FILENAME


def load_or_create_key(path: str | Path | None = None) -> bytes:
    """The member's pseudonymisation key, created (mode 0600) on first use.

    The file holds the key in hex on one line. A file that holds anything
    else raises :class:`KeyError_` rather than being replaced: replacing it
    would silently break the link between this member's exports.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = load_or_create_key(Path(tmp) / "k")
    ...     first == load_or_create_key(Path(tmp) / "k"), len(first)
    (True, 32)
    """
    target = Path(path) if path is not None else default_key_path()
    try:
        text = target.read_text("ascii").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyError_("export.key_unreadable", path=str(target),
                        detail=getattr(exc, "strerror", None) or str(exc)) from None
    if text:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise KeyError_("export.key_invalid", path=str(target))
        return key
    key = secrets.token_bytes(KEY_BYTES)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two exports started at once must not write two keys.
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_key(target)
    except OSError as exc:
        raise KeyError_("export.key_unreadable", path=str(target),
                        detail=exc.strerror or str(exc)) from None
    with os.fdopen(handle, "w", encoding="ascii") as stream:
        stream.write(key.hex() + "\n")
    return key


def key_fingerprint(key: bytes) -> str:
    """A public fingerprint of the key: the same member gives the same value,
    and the key cannot be recovered from it.

    >>> key_fingerprint(b"k" * 32)
    'sha256:0a0e5fc4e0fba32a39e4b1a0'
    """
    digest = hashlib.sha256(b"analyzer-export-key-fingerprint\0" + key).hexdigest()
    return "sha256:" + digest[:24]


def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed.

    >>> fold("  Hélène   LEFÈVRE ")
    'helene lefevre'
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(plain.split())


@dataclass(frozen=True)
class Pseudonymizer:
    """Keyed hashes of identifiers and people for one member."""

    key: bytes

    def digest(self, kind: str, value: str) -> str:
        """Hex HMAC-SHA256 of ``value`` under the key, separated per ``kind``."""
        message = kind.encode() + b"\0" + value.encode("utf-8", "surrogateescape")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def identifier(self, kind: str, value: str | None) -> str | None:
        """``value`` as a prefixed, truncated keyed hash; ``None`` stays ``None``.

        >>> Pseudonymizer(b"k" * 32).identifier("case", "C-2ddbaa09")
        'case-bf0ca21c7722'
        """
        if value is None or value != value:  # None or NaN
            return None
        prefix, digits = PREFIXES[kind]
        return prefix + self.digest(kind, str(value))[:digits]

    def person(self, party: str, identity: str | None) -> str | None:
        """The pseudonym of a person of ``party`` (``me`` for the member).

        ``identity`` is what tells people apart (a name, else an address);
        it is folded first, so "Nadia Benali" and "NADIA BENALI" are one.

        >>> Pseudonymizer(b"k" * 32).person("me", "julie@x.fr")
        'me'
        """
        if party == "me":
            return "me"
        if not identity:
            return None
        return f"{party}-person-{self.digest('person', fold(identity))[:PERSON_DIGITS]}"


# --- counterparts -----------------------------------------------------------------


def canonical_counterpart_id(counterpart: Counterpart) -> str:
    """The id a counterpart is aggregated on across members.

    The configured ``id`` (set by presets) wins; otherwise a preset whose
    domains the counterpart shares, so a member who typed "Pôle emploi" by
    hand still counts with France Travail; otherwise ``domains:`` and the
    sorted domains (those of its single addresses included).

    >>> from analyzer.config import Counterpart
    >>> canonical_counterpart_id(Counterpart("Pôle emploi", "agency", ("pole-emploi.fr",)))
    'france-travail'
    >>> canonical_counterpart_id(Counterpart("Cabinet", "contractor", ("cab.fr",),
    ...                                      ("rdv@relais.fr",)))
    'domains:cab.fr,relais.fr'
    """
    if counterpart.id:
        return counterpart.id
    from analyzer.presets import presets

    domains = {d.lower() for d in counterpart.domains}
    domains |= {a.rsplit("@", 1)[-1].lower() for a in counterpart.addresses}
    matches = [p.id for p in presets() if not p.blank and domains & set(p.domains)]
    if len(matches) == 1:
        return matches[0]
    return "domains:" + ",".join(sorted(domains))


def counterpart_ids(config: Config) -> dict[str, str]:
    """``{counterpart name: canonical id}`` for a configuration."""
    return {cp.name: canonical_counterpart_id(cp) for cp in config.counterparts}


# --- scrubbing free text --------------------------------------------------------

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_CIVILITY = re.compile(
    r"\b(M\.|Mme\.?|Mlle\.?|Madame|Monsieur|Mademoiselle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Maître)"
    r"(\s+)([A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w'’-]*)?)"
)
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{2,3}[\s.-]?(?:\(0\)[\s.-]?)?\d|0\d)(?:[\s.-]?\d{2}){4}(?!\w)"
)
_NUMBER_TOKEN = re.compile(r"[\w#/.-]*\d[\w#/.-]*")
# Helpdesk thread tokens (Salesforce "ref:…:ref", Zendesk "[XYZ-123]" ids) and
# long letter-and-digit codes identify a dossier as surely as a number does.
_THREAD_TOKEN = re.compile(r"ref:\S+?:ref|\b(?=[\w!.]*\d)(?=[\w!.]*[A-Za-z])[\w!.]{8,}\b")
_REFERENCE = re.compile(
    r"(?:n°|nº|no\.|num[ée]ro|r[ée]f(?:[ée]rence)?\.?|ticket|dossier|demande|incident|case|#)"
    r"\s*[:#]?\s*([A-Za-z]{0,6}[-#]?\d[\w/-]*)", re.I)
# A dossier or ticket number has several digits; a bare "2" or a year "2024"
# says nothing about anyone.
MIN_NUMBER_DIGITS = 5
# Tokens too common to be a person's name, kept out of the name list even
# when they sit in a display name or an address.
_NOT_NAMES = frozenset((
    "contact", "noreply", "reply", "ne", "pas", "repondre", "info", "infos", "service",
    "services", "support", "agence", "accueil", "conseil", "conseiller", "conseillere",
    "secretariat", "mail", "admin", "rdv", "planification", "notification", "notifications",
    "equipe", "team", "direction", "madame", "monsieur", "mme", "mlle", "mr", "mrs", "ms",
    "dr", "the", "les", "des", "une", "pour", "avec", "votre", "vous", "mon", "ma", "mes",
    "nos",
))
MIN_NAME_LENGTH = 3


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """``text`` folded character by character, and for each folded character
    the index of the original one, so a match in the folded text can be cut
    out of the original."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode().lower()
        for piece in plain:
            out.append(piece)
            origin.append(index)
    return "".join(out), origin


def name_tokens(name: str) -> set[str]:
    """The folded words of a name worth scrubbing on their own.

    >>> sorted(name_tokens("Mme Hélène Le Gall"))
    ['gall', 'helene']
    """
    words = re.split(r"[\s._+\-'’0-9]+", fold(name))
    return {w for w in words if len(w) >= MIN_NAME_LENGTH and w not in _NOT_NAMES}


@dataclass
class Scrubber:
    """Removes addresses, known names, phone numbers and dossier numbers from text.

    >>> s = Scrubber.from_identities(["Sandrine Lefebvre"], ["s.lefebvre@francetravail.fr"])
    >>> s.scrub("RE: dossier 2020021910000012 - Sandrine LEFÈBVRE (s.lefebvre@francetravail.fr)")
    'RE: dossier [number] - [name] ([email])'
    >>> s.scrub("Rendez-vous avec M. Gérard Fabre au 01 23 45 67 89")
    'Rendez-vous avec M. [name] au [phone]'
    """

    names: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_identities(cls, names: Iterable[str], addresses: Iterable[str],
                        keep: Iterable[str] = (), person_addresses: Iterable[str] = ()
                        ) -> Scrubber:
        """A scrubber for these people. ``person_addresses``: the addresses of
        people (not services), whose local parts are names too. ``keep``:
        words never scrubbed as names (the counterparts' own names, which the
        export keeps anyway)."""
        kept = {t for k in keep for t in name_tokens(k)}
        folded_names: set[str] = set()
        for name in names:
            # "Madame MOREAU" is scrubbed as "moreau": the civility stays readable.
            full = " ".join(w for w in fold(name).split() if w not in _NOT_NAMES)
            if len(full) >= MIN_NAME_LENGTH:
                folded_names.add(full)
            folded_names |= name_tokens(name) - kept
        folded_addresses = {fold(a) for a in addresses if a and "@" in a}
        # Only people's addresses lend their local part ("julie.moreau"):
        # a service's ("controle.recherche@…") is made of ordinary words.
        for address in {fold(a) for a in person_addresses if a and "@" in a}:
            folded_names |= name_tokens(address.split("@", 1)[0]) - kept
        folded_names -= kept
        return cls(folded_names, folded_addresses)

    def _names_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.names:
            # Longest first, so "helene le gall" goes before "helene".
            parts = sorted(self.names, key=lambda n: (-len(n), n))
            alternatives = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in parts)
            self._pattern = re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")
        return self._pattern

    def scrub(self, text: str | None) -> str | None:
        """``text`` without addresses, names, phone numbers or dossier numbers."""
        if text is None:
            return None
        text = _EMAIL.sub(EMAIL_TOKEN, text)
        text = _PHONE.sub(PHONE_TOKEN, text)
        text = _THREAD_TOKEN.sub(NUMBER_TOKEN, text)
        text = _REFERENCE.sub(lambda m: m.group(0).replace(m.group(1), NUMBER_TOKEN), text)
        text = _NUMBER_TOKEN.sub(
            lambda m: NUMBER_TOKEN if sum(c.isdigit() for c in m.group(0)) >= MIN_NUMBER_DIGITS
            else m.group(0), text)
        text = _CIVILITY.sub(lambda m: f"{m.group(1)}{m.group(2)}{NAME_TOKEN}", text)
        pattern = self._names_pattern()
        if pattern is None:
            return text
        folded, origin = _folded_with_origin(text)
        spans = [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(folded)]
        for start, end in reversed(spans):
            text = text[:start] + NAME_TOKEN + text[end:]
        return text


def civility_names(text: str) -> list[str]:
    """Names written after a civility ("Mme Hélène Faure"), wherever they are.

    >>> civility_names("Votre conseillère, Mme Hélène Faure, vous recevra.")
    ['Hélène Faure']
    """
    return [m.group(3) for m in _CIVILITY.finditer(text)]


def collect_identities(analysis: Analysis) -> tuple[set[str], set[str], set[str]]:
    """Every person's name and every address the mailbox knows: senders and
    recipients (display names and addresses), the people behind messages,
    signatures, greetings and names after a civility in bodies and subjects,
    attachment names, and the member's own addresses. Returns ``(names,
    addresses, person_addresses)``, the last being the member's addresses and
    those shown with a person's name; services' display names ("France
    Travail - Agence") are left out because
    :func:`analyzer.people.is_person_name` says so.
    """
    from analyzer.people import greeted_names, is_person_name, sender_person, signature_name

    names: set[str] = set()
    addresses: set[str] = set(analysis.config.me)
    person_addresses: set[str] = set(analysis.config.me)

    def add_name(name: str | None, address: str | None = None) -> None:
        if not name:
            return
        clean = " ".join(name.strip().strip('"').split())
        # A lone first name ("Julie") is a person's unless it names a service;
        # is_person_name wants two words, so it judges it beside a stand-in.
        if is_person_name(clean) or (" " not in clean and is_person_name(clean + " X")):
            names.add(clean)
            if address:
                person_addresses.add(address)

    for row in analysis.store.message_rows():
        if row["from_addr"]:
            addresses.add(row["from_addr"])
        add_name(row["from_name"], row["from_addr"])
        for column in ("to_json", "cc_json"):
            for name, address in json.loads(row[column] or "[]"):
                if address:
                    addresses.add(address)
                add_name(name, address)
        for found in civility_names(row["subject"] or ""):
            names.add(found)
    bodies = {r["message_id"]: r for r in analysis.store.body_rows()}
    for row in analysis.store.message_rows():
        body_row = bodies.get(row["message_id"])
        body = body_row["body_text"] if body_row is not None else ""
        add_name(sender_person(row["from_name"] or "", row["from_addr"] or "", body or ""))
        if body_row is None or not body:
            continue
        add_name(signature_name(body))
        for greeted in greeted_names(body):
            add_name(greeted)
        names.update(civility_names(body))
        addresses.update(m.group(0) for m in _EMAIL.finditer(body))
        for attachment in json.loads(body_row["attachments_json"] or "[]"):
            for found in civility_names(str(attachment.get("filename", ""))):
                names.add(found)
    return names, addresses, person_addresses


def scrubber_for(analysis: Analysis) -> Scrubber:
    """The :class:`Scrubber` of one member's mailbox, sparing the counterparts' names."""
    names, addresses, person_addresses = collect_identities(analysis)
    keep = [cp.name for cp in analysis.config.counterparts]
    return Scrubber.from_identities(names, addresses, keep=keep,
                                    person_addresses=person_addresses)
