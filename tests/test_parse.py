from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import parse
from analyzer.parse import (
    SYNTHETIC_DOMAIN,
    decode_words,
    header_fields,
    html_to_text,
    parse_addresses,
    parse_body,
    parse_headers,
    sanitize_filename,
    simple_text,
    split_header_block,
    stdlib_utc_iso,
    to_utc_iso,
)
from analyzer.sources import MboxFile, Unit, read_unit, split_mbox, walk
from tests.builders import message


def test_parse_headers_reads_every_stored_field() -> None:
    raw = message(
        sender="=?UTF-8?Q?Conseill=C3=A8re_Dupr=C3=A9?= <c.dupre@francetravail.fr>",
        to="Julie <julie.moreau@exemple-perso.fr>, autre@exemple.fr",
        subject="=?UTF-8?Q?Contr=C3=B4le?= de votre dossier",
        in_reply_to="<a@x> (Julie's message)",
        references="<root@x>\n <a@x>",
        extra="Cc: Chef <Chef@FranceTravail.fr>\nAuto-Submitted: auto-generated\n"
              "Received: by mx.exemple-perso.fr; Wed, 19 Feb 2020 10:15:02 +0100",
    )
    h = parse_headers(raw)
    assert (h.message_id, h.synthetic_id) == ("m1@example.org", False)
    assert (h.from_name, h.from_addr) == ("Conseillère Dupré", "c.dupre@francetravail.fr")
    assert h.to == [("Julie", "julie.moreau@exemple-perso.fr"), ("", "autre@exemple.fr")]
    assert h.cc == [("Chef", "chef@francetravail.fr")]
    assert h.subject == "Contrôle de votre dossier"
    assert h.date_utc == "2020-02-19T09:14:00Z"
    assert h.delivered_utc == "2020-02-19T09:15:02Z"
    assert h.in_reply_to == ["a@x"]
    assert h.references == ["root@x", "a@x"]
    assert h.auto_headers == {"auto-submitted": "auto-generated",
                              "content-type": "text/plain; charset=utf-8"}
    assert h.problems == []
    assert h.size == len(raw)


def test_missing_message_id_gets_stable_synthetic_id() -> None:
    raw = message(message_id=None)
    first, second = parse_headers(raw), parse_headers(raw.replace(b"\n", b"\r\n"))
    assert first.synthetic_id is True
    assert first.message_id.endswith("@" + SYNTHETIC_DOMAIN)
    assert first.message_id == second.message_id
    assert first.problems == ["no Message-ID"]
    other = parse_headers(message(message_id=None, body="autre texte\n"))
    assert other.message_id != first.message_id


def test_headerless_message_is_flagged_not_raised() -> None:
    h = parse_headers(b"Just some text\nwith no header at all\n")
    assert h.has_headers is False
    assert h.synthetic_id is True
    assert h.problems == ["2 malformed header line(s)", "no header"]


def test_delivery_hint_used_without_received() -> None:
    h = parse_headers(message(), delivered_hint="2020-02-19T09:20:00Z")
    assert h.delivered_utc == "2020-02-19T09:20:00Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wed, 19 Feb 2020 10:14:00 +0100", "2020-02-19T09:14:00Z"),
        ("19 Feb 2020 10:14 -0500", "2020-02-19T15:14:00Z"),
        ("Sun, 31 Mar 2024 03:30:00 +0200", "2024-03-31T01:30:00Z"),
        ("garbage", None),
        ("", None),
        ("Mon, 1 Jan 3000 00:00:00 +0000", None),
    ],
)
def test_to_utc_iso(value: str, expected: str | None) -> None:
    assert to_utc_iso(value) == expected


def test_header_fields_unfolds_and_counts_junk() -> None:
    block = (b"From MAILER-DAEMON Sun Aug  7 11:40:37 2022\n"
             b"Subject: one\n\ttwo\nnot a header\nX-A: 1")
    assert header_fields(block) == ([("subject", "one two"), ("x-a", "1")], 1)


@pytest.mark.parametrize(("block", "expected"), [
    (b" folded under nothing\nA: 1", ([("a", "1")], 0)),
    (b"not a header\n folded under it\nA: 1", ([("a", "1")], 1)),
    (b"A: 1\r\n two\r\nB:2\r\n", ([("a", "1 two"), ("b", "2")], 0)),
    (b"A:\n \n\tx", ([("a", "x")], 0)),
    (b"\r\n x\nA: 1", ([("a", "1")], 0)),
    (b"A: 1\nB 2\nC : 3", ([("a", "1"), ("c", "3")], 1)),
])
def test_header_fields_edge_cases(block: bytes, expected: tuple[list[tuple[str, str]], int]
                                  ) -> None:
    assert header_fields(block) == expected


def test_a_message_with_only_unread_fields_still_has_headers() -> None:
    h = parse_headers(b"X-Campaign: 12\nARC-Seal: i=1; cv=none\n\nbody")
    assert (h.has_headers, h.problems) == (True, ["no Message-ID"])


def test_trace_headers_of_received_mail_are_passed_over_but_the_first_received_read() -> None:
    raw = message(extra=(
        "Received: from relay2.exemple.fr by mx.exemple-perso.fr;\n"
        " Wed, 19 Feb 2020 10:15:02 +0100\n"
        "ARC-Seal: i=1; a=rsa-sha256; cv=none;\n b=AAAA\n"
        "Received: from relay1.exemple.fr by relay2.exemple.fr;\n"
        " Wed, 19 Feb 2020 10:14:58 +0100\n"
        "DKIM-Signature: v=1; d=exemple.fr;\n\tb=BBBB\n"
        "Precedence: bulk\nPrecedence: list"))
    h = parse_headers(raw)
    assert h.delivered_utc == "2020-02-19T09:15:02Z"
    assert h.auto_headers["precedence"] == "bulk\nlist"
    assert "arc-seal" not in h.auto_headers and "dkim-signature" not in h.auto_headers
    assert h.problems == []


def test_split_header_block_crlf() -> None:
    assert split_header_block(b"A: 1\r\n\r\nbody") == (b"A: 1", 8)


@settings(max_examples=2000, deadline=None)
@given(raw=st.lists(st.sampled_from([b"\r", b"\n", b"A: 1", b" x"]), max_size=12).map(b"".join),
       limit=st.integers(1, 24))
def test_blank_line_is_the_first_match_of_its_regex(raw: bytes, limit: int) -> None:
    # split_header_block finds the end of the header block by substring
    # searches; it must agree with the pattern \r?\n\r?\n, mixed line endings
    # and the MAX_HEADER_BYTES bound included.
    found = re.compile(rb"\r?\n\r?\n").search(raw, 0, limit)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse, "MAX_HEADER_BYTES", limit)
        assert parse._blank_line(raw) == (None if found is None else found.span())


def test_header_block_of_mixed_line_endings() -> None:
    assert split_header_block(b"A: 1\nB: 2\r\n\nbody") == (b"A: 1\nB: 2", 12)
    assert split_header_block(b"A: 1\r\nB: 2\n\r\nbody") == (b"A: 1\r\nB: 2", 13)
    assert split_header_block(b"A: 1\r\nB: 2\r\n") == (b"A: 1\r\nB: 2", 12)


def test_raw_latin1_header_decoded() -> None:
    h = parse_headers(b"Subject: caf\xe9\nFrom: a@b.fr\n\nx")
    assert h.subject == "café"


def test_hostile_address_header_does_not_recurse() -> None:
    header = "To: " + "a:" * 5000 + " x@y.fr\n"
    h = parse_headers(("From: s@t.fr\n" + header + "\nbody").encode())
    assert h.to == [("", "x@y.fr")]


def test_decode_words_bad_charset_left_as_is() -> None:
    assert decode_words("=?x-unknown?Q?abc?=") == "=?x-unknown?Q?abc?="


def test_parse_addresses_skips_non_addresses() -> None:
    assert parse_addresses("undisclosed-recipients:;") == []


@pytest.mark.parametrize(("value", "expected"), [
    ("=?utf-8?q?J=C3=A9r=C3=B4me?= Leroy <Jerome.Leroy@Exemple.fr>",
     [("Jérôme Leroy", "jerome.leroy@exemple.fr")]),
    ("=?iso-8859-1?q?Ren=E9e?= <r@x.fr>, =?windows-1252?B?QW5kcukg?= <a@x.fr>",
     [("Renée", "r@x.fr"), ("André", "a@x.fr")]),
    ("=?x-unknown?q?abc?= <q@x.fr>", [("=?x-unknown?q?abc?=", "q@x.fr")]),
    ("Julie <j@x.fr>, not-an-address, k@y.fr", [("Julie", "j@x.fr"), ("", "k@y.fr")]),
    ("", []),
    (None, []),
])
def test_parse_addresses_gives_a_new_list_every_time(value: str | None,
                                                     expected: list[tuple[str, str]]) -> None:
    # Address headers repeat across a mailbox and are read once per process:
    # a caller changing one result must not change the next.
    first = parse_addresses(value)
    assert first == expected
    first.append(("", "changed@x.fr"))
    assert parse_addresses(value) == expected


def test_folded_and_encoded_headers_are_read_the_same_every_time() -> None:
    raw = (b"From: =?utf-8?q?Conseill=C3=A8re?=\n <c@francetravail.fr>\n"
           b"To: =?utf-8?b?SsOpcsO0bWU=?=\n\t<j@x.fr>\nSubject: =?utf-8?q?Contr=C3=B4le?=\n"
           b" de votre dossier\n\nbody")
    for _ in range(2):
        h = parse_headers(raw)
        assert (h.from_name, h.from_addr) == ("Conseillère", "c@francetravail.fr")
        assert h.to == [("Jérôme", "j@x.fr")]
        assert h.subject == "Contrôle de votre dossier"


def test_parse_body_text_html_and_attachments() -> None:
    raw = (
        b"From: a@francetravail.fr\nTo: b@c.fr\nSubject: s\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XX"\n\n'
        b"--XX\nContent-Type: text/html; charset=utf-8\n\n"
        b"<p>Merci de r&eacute;pondre <b style='color:red'>sous 48 heures</b></p>\n"
        b"--XX\nContent-Type: application/pdf; name=\"../../evil.pdf\"\n"
        b'Content-Disposition: attachment; filename="../../evil.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--XX--\n"
    )
    body = parse_body(raw)
    assert body.text == "Merci de répondre sous 48 heures"
    # The file is the 9 bytes "%PDF-1.4\n", not the 12 characters encoding it.
    assert body.attachments == [{"filename": "evil.pdf", "content_type": "application/pdf",
                                 "size": 9}]
    assert body.headers["subject"] == "s"


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable", "8bit"])
def test_attachment_size_is_the_file_s_whatever_its_encoding(encoding: str) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@francetravail.fr", "b@c.fr", "s"
    message.set_content("Voici le document.")
    data = bytes(range(256)) * 40 if encoding == "base64" else b"ligne=1\n" * 1000
    message.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename="piece.bin", cte=encoding)
    body = parse_body(message.as_bytes())
    assert body.attachments == [{"filename": "piece.bin",
                                 "content_type": "application/octet-stream",
                                 "size": len(data)}]


_HEAD = b"From: a@francetravail.fr\nTo: b@c.fr\nSubject: s\nMIME-Version: 1.0\n"
_ALTERNATIVE = (b'Content-Type: multipart/alternative; boundary="B"\n\n'
                b"--B\nContent-Type: text/plain; charset=utf-8\n\nMerci.\n"
                b"--B\nContent-Type: text/html; charset=utf-8\n\n<p>Merci.</p>\n--B--\n")


@pytest.mark.parametrize(("body", "expected"), [
    (b"Content-Type: text/plain; charset=utf-8\n\nBonjour", (["Bonjour"], [])),
    (b"\nsans type", (["sans type"], [])),
    (b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
     b"quoted-printable\n\nd=E9lai", (["d\u00e9lai"], [])),
    (b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
     b"ZMOpbGFp", (["d\u00e9lai"], [])),
    (_ALTERNATIVE, (["Merci."], ["<p>Merci.</p>"])),
    # mail-parser would list an attachment, or record a defect: not simple.
    (b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nx\n'
     b'--B\nContent-Type: application/pdf\nContent-Disposition: attachment; '
     b'filename="a.pdf"\n\n%PDF\n--B--\n', None),
    (b'Content-Type: text/plain\nContent-Disposition: inline; filename="a.txt"\n\nx', None),
    (b"Content-Type: text/plain\nContent-ID: <x@y>\n\nx", None),
    (b"Content-Type: text/calendar\n\nBEGIN:VCALENDAR", None),
    (b"Content-Type: message/rfc822\n\nSubject: inner\n\nx", None),
    (b'Content-Type: multipart/mixed; boundary="B"\n\nno boundary ever', None),
    (b"Content-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: base64\n\n"
     b"ZMOpbGFp", None),
    (b"Content-Type: text/plain; name=\"d\xc3\xa9lai.txt\"\n\nx", None),
])
def test_simple_text_takes_plain_mail_and_leaves_the_rest(
        body: bytes, expected: tuple[list[str], list[str]] | None) -> None:
    assert simple_text(_HEAD + body) == expected


@pytest.mark.parametrize(("content_types", "text_only"), [
    ([], True),
    (["text/plain"], True),
    (["multipart/alternative", "text/plain", "TEXT/HTML"], True),
    (["multipart/mixed", "text/plain", "application/pdf"], False),
    (["multipart/mixed", "text/plain", "message/rfc822"], False),
])
def test_mime_scan_tells_whether_every_part_is_text(content_types: list[str],
                                                    text_only: bool) -> None:
    # parse_body hands a message with any other part straight to mail-parser.
    raw = b"Subject: x\n" + b"".join(f"Content-Type: {t}\n\n--b\n".encode()
                                    for t in content_types)
    assert parse.mime_shape(raw).text_only is text_only


def test_plain_mail_body_has_no_attachment_and_no_defect() -> None:
    body = parse_body(_HEAD + _ALTERNATIVE)
    assert (body.text, body.attachments, body.defects) == ("Merci.", [], [])


def test_simple_text_agrees_with_mail_parser_on_real_mail(corpora_dir: Path) -> None:
    """Wherever the body pass skips mail-parser, mail-parser would have read
    the same texts and found no attachment: over every message of the
    third-party corpora (as the importer reads them)."""
    import mailparser

    logging.getLogger("mailparser").setLevel(logging.ERROR)
    seen = simple = 0
    differ = []
    for raw, where in _corpora_messages(corpora_dir):
        seen += 1
        texts = simple_text(raw)
        if texts is None:
            continue
        simple += 1
        mail = mailparser.parse_from_bytes(raw)
        if (mail.text_plain, mail.text_html, mail.attachments) != (*texts, []):
            differ.append(where)
    assert differ == []
    # Most third-party test mail is built to be odd (attachments, broken
    # MIME, rare charsets); still, more than half of it is plain.
    assert (seen, simple) == (1626, 1253)


def _corpora_messages(root: Path) -> Iterator[tuple[bytes, str]]:
    for found in walk([root]):
        if isinstance(found, MboxFile):
            for unit in split_mbox(found.path, found.folder):
                yield read_unit(unit), f"{unit.path}@{unit.offset}"
        elif isinstance(found, Unit) and found.kind in ("file", "maildir", "mh"):
            yield read_unit(found), found.path


def test_html_to_text_drops_scripts() -> None:
    assert html_to_text("<div>a</div><script>alert(1)</script><p>b</p>") == "a\nb"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("rapport.pdf", "rapport.pdf"), ("../../etc/passwd", "passwd"),
     ("C:\\Users\\x\\cv.docx", "cv.docx"), ("a<b>c.txt", "a_b_c.txt"), ("", "attachment"),
     ("...", "attachment")],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec")


@settings(max_examples=1000, deadline=None)
@given(day_name=st.sampled_from(("", *(f"{d}, " for d in _DAY_NAMES), "wed,")),
       day=st.integers(0, 32), month=st.sampled_from((*_MONTH_NAMES, "feb", "Foo")),
       year=st.integers(1890, 2250), hour=st.integers(0, 25), minute=st.integers(0, 61),
       second=st.one_of(st.none(), st.integers(0, 61)),
       zone=st.one_of(st.integers(-1439, 1439).map(
           lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}{abs(m) % 60:02d}"),
           st.sampled_from(("-0000", "+0000", "GMT", "UT", "EST", "CET", "Z", "+01:00"))),
       comment=st.sampled_from(("", " (CET)", " (Romance Standard Time)", "  ")))
def test_date_fast_path_agrees_with_the_stdlib(day_name: str, day: int, month: str, year: int,
                                               hour: int, minute: int, second: int | None,
                                               zone: str, comment: str) -> None:
    clock = f"{hour:02d}:{minute:02d}" + ("" if second is None else f":{second:02d}")
    value = f"{day_name}{day} {month} {year} {clock} {zone}{comment}"
    assert to_utc_iso(value) == stdlib_utc_iso(value)
