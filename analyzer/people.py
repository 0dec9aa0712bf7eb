"""The people behind messages: who signed, who is greeted.

Helpdesks often send an advisor's answer from a shared address
(``ape.lestilleuls@…``, ``no-reply@…``); the person only appears in the
signature. Counting interlocutors, and scrubbing names from exports, both
need that name.
"""

from __future__ import annotations

import re
import unicodedata

from analyzer.tickets import own_text

_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ"
_LOWER = "a-zàâäçéèêëîïôöùûüÿ"
_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
_SURNAME = rf"(?:[{_UPPER}][{_LOWER}]+|[{_UPPER}]{{2,}})(?:[- '][{_UPPER}][{_LOWER}{_UPPER}]+)?"
_NAME_LINE = re.compile(
    rf"^\s*(?:(?:M\.|Mme|Mlle|Madame|Monsieur|Mr\.?|Mrs\.?|Ms\.?)\s+)?({_WORD}\s+{_SURNAME})"
    r"\s*[,.]?\s*$"
)
_CLOSING = re.compile(
    r"^\s*(?:cordialement|bien (?:cordialement|à vous)|salutations|sincères salutations|"
    r"bonne (?:journée|soirée)|merci|best regards|regards|kind regards|sincerely|"
    r"(?:l'|l’)équipe|votre conseill[eè]re?|votre conseiller|votre coach)\b",
    re.I,
)
_GREETING = re.compile(
    rf"^[\s>]*(?:Bonjour|Bonsoir|Chère|Cher|Madame|Monsieur|Dear|Hello|Hi)\s+"
    rf"(?:(?:M\.|Mme|Madame|Monsieur)\s+)?({_WORD}(?:\s+{_SURNAME})?)\s*[,!]",
    re.M,
)
_GENERIC_NAME = re.compile(
    r"no.?reply|ne.?pas.?r[ée]pondre|nepasrepondre|service|équipe|equipe|team|support|"
    r"agence|conseil|contact|notification|messagerie|france travail|p[ôo]le emploi|"
    r"direction|accueil|relation|plateforme|centre|assistance",
    re.I,
)
# A signature sits in the last lines of the writer's own text.
SIGNATURE_LINES = 8


def is_person_name(name: str) -> bool:
    """True when a display name looks like a person's, not a service's.

    >>> is_person_name("Nadia Benali"), is_person_name("France Travail - Agence")
    (True, False)
    >>> is_person_name("ne-pas-repondre"), is_person_name("")
    (False, False)
    """
    name = name.strip().strip('"')
    if not name or _GENERIC_NAME.search(name) or "@" in name:
        return False
    words = name.split()
    return 2 <= len(words) <= 4 and all(w[0].isupper() for w in words if w[0].isalpha())


def signature_name(body: str) -> str | None:
    """The person who signed a message, from the last lines of its own text.

    >>> signature_name("Bonjour,\\n\\nVoici la réponse.\\n\\nCordialement,\\nNadia Benali\\n"
    ...                "Conseillère indemnisation")
    'Nadia Benali'
    >>> signature_name("Merci de votre message.") is None
    True
    """
    lines = [line.strip() for line in own_text(body).splitlines() if line.strip()]
    tail = lines[-SIGNATURE_LINES:]
    for i, line in enumerate(tail):
        found = _NAME_LINE.match(line)
        if not found or not is_person_name(found.group(1)):
            continue
        previous = tail[i - 1] if i else ""
        # A bare name line counts after a closing formula, or as one of the
        # very last lines (name, then title or service).
        if _CLOSING.match(previous) or i >= len(tail) - 3:
            return found.group(1)
    return None


def sender_person(from_name: str, from_addr: str, body: str) -> str | None:
    """The human behind a message: the display name when it is a person's,
    else the signature's name.

    >>> sender_person("Agence Les Tilleuls", "ape.lestilleuls@francetravail.fr",
    ...               "Cordialement,\\nClaire Dumont\\nConseillère")
    'Claire Dumont'
    """
    if is_person_name(from_name):
        return " ".join(from_name.strip().strip('"').split())
    return signature_name(body)


def greeted_names(body: str) -> list[str]:
    """Names in greetings ("Bonjour Julie,", "Chère Madame Moreau,").

    >>> greeted_names("Bonjour Julie,\\nmerci.\\n> Bonjour Madame Dupré,")
    ['Julie', 'Dupré']
    """
    return [m.group(1) for m in _GREETING.finditer(body)]


def fold(text: str) -> str:
    """Lower-case, accents removed: how names and words are compared.

    >>> fold("Élan Parcours")
    'elan parcours'
    """
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
