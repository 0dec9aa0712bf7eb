"""Message-ID header parsing, including malformed In-Reply-To values."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest

from analyzer.msgids import parse_id_list, parse_in_reply_to, parse_message_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" <abc@example.org> ", "abc@example.org"),
        ("<abc@example.org> (comment)", "abc@example.org"),
        ("no-brackets@example.org", "no-brackets@example.org"),
        ("<<abc@example.org>>", "abc@example.org"),
        ("", None),
        (None, None),
        ("   ", None),
        ("two words", None),
    ],
)
def test_parse_message_id(value: str | None, expected: str | None) -> None:
    assert parse_message_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@x> junk <b@y>", ["a@x", "b@y"]),
        ("<a@x>\n <b@y>\n\t<c@z>", ["a@x", "b@y", "c@z"]),
        ("<a@x><b@y>", ["a@x", "b@y"]),
        ("<a@x> <a@x>", ["a@x", "a@x"]),  # repeats are the threader's business
        ("<broken\n @x>", ["broken@x"]),  # folded inside the id, as notmuch reads it
        ("<unterminated@x <good@y>", ["good@y"]),
        ("<unterminated@x", []),
        ("<>", []),
        ("Your message of Tue, 1 Jan", []),
        ("", []),
        (None, []),
        ("<yes>", ["yes"]),  # not a Message-ID, but notmuch threads on it: kept
    ],
)
def test_parse_id_list(value: str | None, expected: list[str]) -> None:
    assert parse_id_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<parent@x>", ["parent@x"]),
        ("  <parent@x>  ", ["parent@x"]),
        ("<a@x> <b@y>", ["a@x", "b@y"]),
        # mutt: id, then the author without brackets
        (
            "<20030102152943.D635@hermione.osp.nl>; from abigail@foad.org on Thu, Jan 02, 2003",
            ["20030102152943.D635@hermione.osp.nl"],
        ),
        # exmh: author address in brackets, then the id
        (
            'Message from Ralf Fassel <ralf@akutech.de> \n   of "Mon, 25 Nov 2002 14:46:29 '
            '+0100." <15842.10677.577458.656565@jupiter.akutech-local.de> ',
            ["15842.10677.577458.656565@jupiter.akutech-local.de"],
        ),
        # Gnus/Emacs: possessive address, no id at all
        ('Joe Bloggs <joe@example.org>\'s message of "Tue, 1 Jan 2002"', []),
        ("Joe Bloggs <joe@example.org>’s message of Tue", []),
        # free text before the id (hyperkitty's strange-in-reply-to-header)
        (
            "Other person's message of  Saturday, 7 April 2007 00:53:46 +0300 "
            "<200704070053.46646.other.person@example.com>",
            ["200704070053.46646.other.person@example.com"],
        ),
        # comments never hold the parent
        ("<id@x> (from Joe <joe@example.org>)", ["id@x"]),
        # a lone id after a word is still the best guess
        ("In reply to <id@x>", ["id@x"]),
        ('"Kurt D. Starsinic"\'s message of "Wed, 19 Jul 2000 15:50:37 -0400"', []),
        ("Joanna Farley's message as of Nov 13,  9:56am.", []),
        ("<200704070053.46646.other.person@example", []),
        ("", []),
        (None, []),
    ],
)
def test_parse_in_reply_to(value: str | None, expected: list[str]) -> None:
    assert parse_in_reply_to(value) == expected


def _hyperkitty_expectations(path: Path) -> dict[str, str | None]:
    expected: dict[str, str | None] = {}
    for line in path.read_text().splitlines():
        found = re.match(r"(\S+\.txt)\s+->\s+(\S+)", line)
        if found:
            ref = found.group(2)
            expected[found.group(1)] = None if ref == "None" else ref
    return expected


def test_hyperkitty_malformed_in_reply_to(corpora_dir: Path) -> None:
    base = corpora_dir / "hyperkitty"
    expected = _hyperkitty_expectations(base / "expected-refs.txt")
    assert expected == {
        "strange-in-reply-to-header.txt": "200704070053.46646.other.person@example.com",
        "wrong-in-reply-to-header.txt": None,
    }
    got: dict[str, str | None] = {}
    for name in expected:
        with (base / "testdata" / name).open("rb") as f:
            msg = email.message_from_binary_file(f)
        parents = parse_in_reply_to(msg.get("in-reply-to"))
        got[name] = parents[-1] if parents else None
    assert got == expected
