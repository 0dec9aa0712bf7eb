"""Message-ID vocabulary: extract and normalise ids from header values.

Ids are kept *without* angle brackets, as notmuch stores them.
"""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"<([^<>\s]+)>")
# Inside a list header a folded id may carry whitespace ("<abc\n @x>"); notmuch
# accepts it and removes the whitespace, so do we. A "<" restarts the id, which
# drops an unterminated "<junk" in front of a good id.
_LIST_ITEM = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
# Free-text In-Reply-To written by old MUAs quotes the author's address next
# to the real id: "Joe <joe@x>'s message of ...", "Message from Joe <joe@x> of
# ... <id>". A possessive right after the brackets marks an address.
_POSSESSIVE = re.compile(r"\s*['’]s\b", re.IGNORECASE)


def parse_message_id(value: str | None) -> str | None:
    """The id of a Message-ID header value, without angle brackets.

    >>> parse_message_id(" <abc@example.org> ")
    'abc@example.org'
    >>> parse_message_id("no-brackets@example.org")
    'no-brackets@example.org'
    >>> parse_message_id("") is None
    True
    """
    if not value:
        return None
    found = _BRACKETED.search(value)
    if found:
        return found.group(1)
    stripped = value.strip().strip("<>").strip()
    if not stripped or any(c.isspace() for c in stripped):
        return None
    return stripped


def parse_id_list(value: str | None) -> list[str]:
    """Every bracketed id of a References or In-Reply-To value, in order.

    Free text and bare addresses around them are ignored; whitespace that
    folding left inside an id is removed; an unterminated ``<`` yields nothing.

    >>> parse_id_list("<a@x> junk <b@y>")
    ['a@x', 'b@y']
    >>> parse_id_list("<a\\n @x> <unterminated@y")
    ['a@x']
    >>> parse_id_list("Your message of Tue, 1 Jan")
    []
    """
    if not value:
        return []
    ids = (_WHITESPACE.sub("", m.group(1)) for m in _LIST_ITEM.finditer(value))
    return [i for i in ids if i]


def _strip_comments(value: str) -> str:
    """``value`` without RFC 5322 (comments), which never hold a parent id."""
    out: list[str] = []
    depth = 0
    in_brackets = False
    for c in value:
        if depth == 0 and c == "<":
            in_brackets = True
        elif depth == 0 and c == ">":
            in_brackets = False
        if not in_brackets and c == "(":
            depth += 1
            continue
        if depth and c == ")":
            depth -= 1
            continue
        if depth == 0:
            out.append(c)
    return "".join(out)


def parse_in_reply_to(value: str | None) -> list[str]:
    """The parent ids of an In-Reply-To value, with author addresses left out.

    Besides :func:`parse_id_list`'s cleaning, this drops ids that are
    really the quoted author's address: those followed by a possessive
    (``<joe@x>'s message``) and, when another id is present, those written
    right after a name (``Message from Joe Bloggs <joe@x> of ... <id>``).
    Comments in parentheses are ignored.

    >>> parse_in_reply_to('Message from Ralf <ralf@a.de> of "Mon, 25 Nov." <15842.1@host>')
    ['15842.1@host']
    >>> parse_in_reply_to("Joe Bloggs <joe@example.org>'s message of Tue, 1 Jan")
    []
    >>> parse_in_reply_to("<id@host>; from joe@example.org on Thu, Jan 02, 2003")
    ['id@host']
    """
    if not value:
        return []
    text = _strip_comments(value)
    kept: list[str] = []
    after_name: list[str] = []
    for match in _LIST_ITEM.finditer(text):
        ident = _WHITESPACE.sub("", match.group(1))
        if not ident:
            continue
        if _POSSESSIVE.match(text, match.end()):
            continue
        before = text[: match.start()].rstrip()
        if before and before[-1].isalpha():
            after_name.append(ident)
        else:
            kept.append(ident)
    # A lone id after a word ("In reply to <id>") is still the best guess.
    return kept if kept else after_name
