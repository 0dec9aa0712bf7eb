"""Subject lines: reply/forward prefixes, comparison keys, boilerplate.

Threading by subject is only a fallback for mail whose References were lost
(agency web forms, some webmail, forwarded-then-answered messages). It is
only safe when the subject actually says something, so this module also
decides which subjects are too generic to group on.

Comparison keys (:func:`normalize_subject`) are case- *and* accent-insensitive:
helpdesk tools and old gateways regularly drop or mangle French accents when
they quote a subject back ("Reponse a votre demande d'acces"), and two
subjects that differ only by accents are never two different conversations.
"""

from __future__ import annotations

import re
import unicodedata

# Reply and forward markers, in the languages our correspondents' clients
# use. Longer alternatives first so "antwort" is not read as "antw" + "ort".
# "r"/"i" are Italian Outlook (risposta/inoltro); "tr"/"réf" are French;
# "aw"/"wg" German; "sv"/"vs"/"vl" Nordic; "rv" Spanish; "odp" Polish.
_PREFIX_WORDS = (
    r"r[ée]ponse\s+automatique|automatic\s+reply|auto-?reply"
    r"|antwort|antw|fwd|fw|tr|r[ée]f\.?|aw|wg|sv|vs|vl|rif|rv|res|enc|odp|ynt"
    r"|re|r|i|回复|答复|转发"
)

# NBSP and narrow NBSP: French typography puts one before the colon ("RE :").
_SPACES = "[ \t\u00a0\u202f]"

_PREFIX = re.compile(
    rf"(?:{_PREFIX_WORDS})"
    r"(?:\[\d+\]|\^\d+|\(\d+\))?"  # Re[2]:, Re^3:, Re(2): (counted replies)
    rf"{_SPACES}*[:：]",
    re.IGNORECASE,
)
_TAG = re.compile(r"\[[^\[\]]*\]")
# A tag that numbers something ("#4512", "Bug 123", "PATCH 1/2") rather than
# naming a list ("p5ml", "notmuch").
_CASE_TAG = re.compile(r"#|\d{2,}|\s\d")
_LEADING_SPACE = re.compile(rf"{_SPACES}+")
_FWD_SUFFIX = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")

# Typographic variants that mail clients substitute for one another.
_FOLD_PUNCT = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-"})
_TRAILING_PUNCT = re.compile(r"[\s.!?…:;,-]+$")

# Below this many letters/digits a subject ("ok", "?", "re") identifies nothing.
MIN_MEANINGFUL_CHARS = 4

# Normalised (see normalize_subject) bases that helpdesks, notification
# systems and hurried users reuse for unrelated conversations.
# fmt: off
_BOILERPLATE = frozenset({
    "", "(no subject)", "(sans objet)", "(pas d'objet)", "no subject", "sans objet",
    "pas d'objet", "untitled", "(untitled)",
    # Agency and helpdesk notifications
    "votre demande", "votre dossier", "votre message", "votre courrier", "votre compte",
    "votre situation", "votre reclamation", "votre espace personnel", "votre espace",
    "votre rendez-vous", "votre inscription", "votre attestation", "votre document",
    "vos documents", "votre actualisation", "votre question", "votre requete",
    "votre ticket", "votre demande a ete enregistree", "votre demande a bien ete prise en compte",
    # ... and what citizens write when they restart from zero
    "mon dossier", "ma demande", "ma situation", "mon compte", "mon probleme", "ma question",
    "suite a ma demande", "nouvelle demande", "probleme", "aide",
    "nouveau message", "vous avez un nouveau message", "vous avez recu un nouveau message",
    "un nouveau message est disponible", "nouveau document", "nouveau courrier",
    "un nouveau document est disponible", "message", "messages", "courrier", "mail", "email",
    "e-mail", "information", "informations", "info", "infos", "notification", "notifications",
    "avis", "alerte", "rappel", "relance", "important", "urgent", "confirmation",
    "accuse de reception", "accuse reception", "reponse", "reponse a votre demande",
    "reponse a votre message", "reponse a votre courrier", "suite", "suivi",
    "suite a votre demande", "suite a notre echange", "suite a notre entretien",
    "demande", "demande d'information", "demande d'informations", "demande de renseignements",
    "renseignement", "renseignements", "question", "questions", "bonjour", "bonsoir",
    "madame, monsieur", "madame monsieur", "contact", "formulaire de contact",
    "document", "documents", "piece jointe", "pieces jointes", "pj", "justificatif",
    "justificatifs", "dossier", "reclamation", "mise a jour", "test", "essai",
    "reponse automatique", "absence", "absent", "absent du bureau",
    "message de votre conseiller", "votre conseiller vous a envoye un message",
    "vous avez un nouveau message de votre conseiller", "un nouveau courrier est disponible",
    "un nouveau courrier est disponible dans votre espace personnel",
    "information importante", "actualisation", "votre actualisation mensuelle",
    "convocation", "votre convocation", "confirmation de rendez-vous",
    "confirmation de votre rendez-vous", "avis de situation", "votre avis de situation",
    "attestation", "pieces justificatives", "demande de pieces justificatives",
    # Generic English helpdesk / system mail
    "your request", "your ticket", "your message", "your account", "your case",
    "your mail", "your email", "your e-mail", "votre mail", "votre e-mail", "votre email",
    "votre courriel", "ton mail", "ton message",
    "request received", "ticket received", "new message", "you have a new message",
    "new ticket", "ticket update", "ticket updated", "case update", "update", "updates",
    "request", "support", "help", "hello", "hi", "inquiry", "enquiry",
    "acknowledgement", "acknowledgment", "receipt", "read receipt", "read", "lu",
    "automatic reply", "auto reply", "autoreply", "out of office", "out of the office",
    "delivery status notification", "delivery status notification (failure)",
    "delivery status notification (delay)", "undeliverable", "undelivered mail returned to sender",
    "mail delivery failed", "mail delivery failed: returning message to sender",
    "returned mail", "non remis", "message non remis", "remis", "delivered",
    "fyi", "hello world", "documents requested", "follow up", "follow-up", "reminder",
})
# fmt: on


def strip_reply_prefixes(subject: str) -> tuple[str, bool]:
    """The base subject without reply/forward markers, and whether it had any.

    Leading bracketed tags are looked at wherever they sit among the
    prefixes: mailing-list tags (``[notmuch]``) are dropped, but tags with a
    number (``[Ticket#4512]``, ``[PATCH 1/2]``, ``[Bug 123]``) are kept, in
    front of the base, because they tell one case from another. Whitespace
    (including NBSP) is folded. The base keeps its case and accents (it is
    also shown to people); compare bases with :func:`normalize_subject`.

    >>> strip_reply_prefixes("RE : TR: Réf. : [pe] Re[2]: Votre  dossier")
    ('Votre dossier', True)
    >>> strip_reply_prefixes("[Ticket#4512] RE : [liste] Votre demande")
    ('[Ticket#4512] Votre demande', True)
    >>> strip_reply_prefixes("[notmuch] Working with Maildir storage?")
    ('Working with Maildir storage?', False)
    """
    rest = _WHITESPACE.sub(" ", subject.replace("\u00a0", " ").replace("\u202f", " ")).strip()
    had_prefix = False
    kept: list[str] = []
    while True:
        tag = _TAG.match(rest)
        if tag:
            if _CASE_TAG.search(tag.group()):
                kept.append(tag.group())
            rest = rest[tag.end() :].lstrip()
            continue
        # The pattern demands the colon, so "R"/"I" only match as "R:"/"I :".
        prefix = _PREFIX.match(rest)
        if prefix:
            rest = rest[prefix.end() :].lstrip()
            had_prefix = True
            continue
        break
    stripped = _FWD_SUFFIX.sub("", rest)
    if stripped != rest:
        had_prefix = True
    return " ".join([*kept, stripped.strip()]).strip(), had_prefix


def normalize_subject(subject: str) -> str:
    """A comparison key: base subject, casefolded, accents and typography folded.

    >>> normalize_subject("RE : Demande d’accès  à mon Espace ")
    "demande d'acces a mon espace"
    >>> normalize_subject("Re: Zip/Postal codes.") == normalize_subject("Zip/Postal codes")
    True
    """
    base, _ = strip_reply_prefixes(subject)
    decomposed = unicodedata.normalize("NFKD", base.translate(_FOLD_PUNCT))
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = _WHITESPACE.sub(" ", no_accents.casefold()).strip()
    return _TRAILING_PUNCT.sub("", folded)


def is_boilerplate_subject(base: str) -> bool:
    """Whether a subject is too generic to group messages on it alone.

    ``base`` may be a raw subject or an already stripped one: it is
    normalised here. Too short bases count as boilerplate.

    >>> is_boilerplate_subject("RE : Votre demande")
    True
    >>> is_boilerplate_subject("Accusé de réception")
    True
    >>> is_boilerplate_subject("Radiation du 12 mars contestée")
    False
    """
    return is_boilerplate_key(normalize_subject(base))


def is_boilerplate_key(key: str) -> bool:
    """:func:`is_boilerplate_subject` for an already normalised subject.

    >>> is_boilerplate_key(normalize_subject("RE : Accusé de réception"))
    True
    """
    if key in _BOILERPLATE:
        return True
    return sum(c.isalnum() for c in key) < MIN_MEANINGFUL_CHARS
