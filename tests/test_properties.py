"""Property-based tests (hypothesis) of what reads hostile input: the header
parser, the threader, ticket markers, deadlines, mbox splitting, CSV cells
and attachment names. Each property holds for *every* input; hypothesis
looks for one where it does not.

"Bounded time" is checked through hypothesis's own deadline (each example
must finish within it) rather than wall-clock asserts; the fuzz harnesses in
``fuzz/`` run the same targets for far longer (tests/test_fuzz_smoke.py).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.csvsafe import safe_cell, write_rows
from analyzer.deadlines import extract_deadlines
from analyzer.msgids import parse_id_list, parse_in_reply_to, parse_message_id
from analyzer.parse import (
    MAX_HEADERS,
    SYNTHETIC_DOMAIN,
    header_fields,
    parse_addresses,
    parse_headers,
    sanitize_filename,
    split_header_block,
)
from analyzer.sources import Unit, read_unit, read_unit_head, split_mbox, unit_size
from analyzer.threader import ThreadInput, build_threads, thread_messages
from analyzer.tickets import detect_tickets, primary_ticket, ticket_state

# Hostile-looking bytes: mostly the characters that matter to mail syntax.
MAIL_BYTES = st.binary(max_size=4000) | st.lists(
    st.sampled_from([b"From ", b"From: a@b.fr", b"Subject: ", b"=?utf-8?q?=C3=A9?=", b"\n",
                     b"\r\n", b" ", b"\t", b":", b"<", b">", b"@", b"(", b")", b'"', b",",
                     b"Message-ID: <x@y>", b"References: <a@b> <c@d>", b"\xff\xfe", b"\x00",
                     b"Content-Type: multipart/mixed; boundary=b", b"--b", b"--b--"]),
    max_size=200).map(b"".join)
SETTINGS = settings(max_examples=300, deadline=timedelta(seconds=2),
                    suppress_health_check=[HealthCheck.too_slow])

# -- the header parser -------------------------------------------------------------


@SETTINGS
@given(MAIL_BYTES)
def test_header_pass_never_raises_and_always_gives_an_id(raw: bytes) -> None:
    headers = parse_headers(raw)
    assert headers.message_id and headers.message_id == headers.message_id.strip()
    assert headers.size == len(raw)
    if headers.synthetic_id:
        assert headers.message_id.endswith("@" + SYNTHETIC_DOMAIN)
    # The same bytes, the same id: a re-import finds the message again.
    assert parse_headers(raw).message_id == headers.message_id
    block, body_start = split_header_block(raw)
    assert 0 <= body_start <= len(raw)
    assert len(header_fields(block)[0]) <= MAX_HEADERS


HEADER_NAME = st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True)
PLAIN_VALUE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                      max_size=60)


@SETTINGS
@given(st.lists(st.tuples(HEADER_NAME, PLAIN_VALUE), max_size=30), PLAIN_VALUE,
       st.from_regex(r"[a-z0-9.]{1,20}@[a-z0-9]{1,10}\.fr", fullmatch=True),
       st.sampled_from(["\n", "\r\n"]))
def test_header_pass_reads_back_what_was_written(extra: list[tuple[str, str]], subject: str,
                                                 ident: str, newline: str) -> None:
    lines = [f"Message-ID: <{ident}>", f"Subject: {subject}", f"From: Julie <{ident}>"]
    lines += [f"{name}: {value}" for name, value in extra]
    raw = (newline.join(lines) + newline + newline + "body").encode()
    headers = parse_headers(raw)
    assert (headers.message_id, headers.synthetic_id) == (ident, False)
    assert headers.from_addr == ident.lower()
    assert headers.has_headers and "no header" not in headers.problems
    fields, junk = header_fields(split_header_block(raw)[0])
    assert junk == 0
    assert fields == [(n.lower(), v) for n, v in
                      [("Message-ID", f"<{ident}>"), ("Subject", subject),
                       ("From", f"Julie <{ident}>"), *extra]]
    if "=?" not in subject:
        assert headers.subject == subject.strip()


@SETTINGS
@given(st.text(max_size=400))
def test_header_value_parsers_never_raise(value: str) -> None:
    for _, addr in parse_addresses(value):
        assert "@" in addr and addr == addr.lower()
    found = parse_message_id(value)
    assert found is None or (found and not any(c.isspace() for c in found))
    for ident in (*parse_id_list(value), *parse_in_reply_to(value)):
        assert ident and "<" not in ident and ">" not in ident
        assert not any(c.isspace() for c in ident)


# -- the threader ----------------------------------------------------------------------

IDS = st.sampled_from([f"m{i}@x" for i in range(10)] + ["yes", "m0@x "])
THREAD_INPUT = st.builds(
    ThreadInput,
    message_id=st.sampled_from([f"m{i}@x" for i in range(10)]),
    in_reply_to=st.lists(IDS, max_size=3),
    references=st.lists(IDS, max_size=5),
    subject=st.sampled_from(["", "Contrôle", "Re: Contrôle", "Votre demande", "TR: RE: x"]),
    date=st.none() | st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2025, 1, 1),
                                  timezones=st.none() | st.just(UTC)),
)


@SETTINGS
@given(st.lists(THREAD_INPUT, max_size=30), st.booleans())
def test_every_message_gets_one_thread(msgs: list[ThreadInput], by_subject: bool) -> None:
    window = timedelta(days=30) if by_subject else None
    mapping = thread_messages(msgs, subject_window=window)
    assert set(mapping) == {m.message_id for m in msgs}
    threads = build_threads(msgs, subject_window=window)
    members = [i for t in threads for i in t.message_ids]
    assert sorted(members) == sorted(mapping)  # each message in exactly one thread
    for thread in threads:
        ids = [n.message_id for _, n in thread.walk()]
        assert len(ids) == len(set(ids))  # a tree: loops were cut
        assert all(mapping[i] == thread.thread_id for i in thread.message_ids)
    # A reply shares its parent's thread whenever the parent is in the mailbox.
    for m in msgs:
        for parent in m.in_reply_to:
            if parent in mapping and "@" in parent:
                assert mapping[parent] == mapping[m.message_id]


@SETTINGS
@given(st.lists(THREAD_INPUT, max_size=30), st.randoms(use_true_random=False))
def test_thread_partition_does_not_depend_on_input_order(msgs: list[ThreadInput],
                                                         rng: object) -> None:
    import random

    assert isinstance(rng, random.Random)
    shuffled = list(msgs)
    rng.shuffle(shuffled)

    def partition(items: list[ThreadInput]) -> set[frozenset[str]]:
        return {t.message_ids for t in build_threads(items, subject_window=None)}

    # Duplicates of one Message-ID are one message whose first copy decides:
    # order-independence is a property of distinct messages.
    distinct = list({m.message_id: m for m in msgs}.values())
    reordered = list({m.message_id: m for m in shuffled}.values())
    by_id = {m.message_id: m for m in distinct}
    assert partition(distinct) == partition([by_id[m.message_id] for m in reordered])


# -- tickets and deadlines ---------------------------------------------------------------


@SETTINGS
@given(st.text(max_size=300), st.text(max_size=2000), st.text(max_size=80))
def test_ticket_detection_never_raises(subject: str, body: str, message_id: str) -> None:
    refs = detect_tickets(subject, {"x-redmine-issue-id": subject[:10]}, message_id,
                          [message_id], body)
    assert len(refs) == len(set(refs))
    assert primary_ticket(refs) == (refs[0] if refs else None)
    ticket_state(subject, body)


@SETTINGS
@given(st.integers(1, 10**9), st.text(max_size=40).filter(lambda t: "[" not in t))
def test_rt_subject_tag_is_found_whatever_surrounds_it(number: int, subject: str) -> None:
    refs = detect_tickets(f"Re: [support #{number}] {subject}", {}, "x@y", [], "")
    assert refs[0] == detect_tickets(f"[support #{number}]", {}, "x@y", [], "")[0]
    assert (refs[0].system, refs[0].number, refs[0].source) == ("rt", str(number), "subject")


SENT = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)),
                                               timezone(timedelta(hours=-9, minutes=-30))]))


@SETTINGS
@given(st.text(max_size=1000), SENT)
def test_deadline_extraction_never_raises(text: str, sent: datetime) -> None:
    for deadline in extract_deadlines(text, sent):
        assert deadline.phrase in text
        assert deadline.hours is None or deadline.hours > 0


@SETTINGS
@given(st.integers(1, 999), SENT, st.sampled_from(["Merci de répondre ", "Réponse attendue "]))
def test_span_in_hours_is_read_exactly(hours: int, sent: datetime, lead: str) -> None:
    (deadline,) = extract_deadlines(f"{lead}sous {hours}h.", sent)
    assert (deadline.phrase, deadline.hours, deadline.due_at) == (
        f"sous {hours}h", float(hours), sent + timedelta(hours=hours))


# -- mbox splitting ----------------------------------------------------------------------

BODY_LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=50) | \
    st.sampled_from(["From time to time", "From 10:30 we meet", "Note: x", "", ">From x 2020"])


def _quoted(line: str) -> str:
    """mboxrd quoting, as mail programs write it: a body line starting with
    "From " (or ">From ") gains a ">"."""
    return ">" + line if line.lstrip(">").startswith("From ") else line


MESSAGE = st.builds(
    lambda n, subject, lines: (f"From: a{n}@x.fr\nSubject: {subject}\nMessage-ID: <{n}@x>\n\n"
                               + "\n".join(_quoted(line) for line in lines) + "\n").encode(),
    st.integers(0, 10**6), PLAIN_VALUE, st.lists(BODY_LINE, max_size=8))


@settings(max_examples=150, deadline=timedelta(seconds=2),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(MESSAGE, max_size=8), st.booleans(), st.booleans())
def test_split_then_concatenate_gives_back_every_message(tmp_path: Path, msgs: list[bytes],
                                                         bom: bool, crlf: bool) -> None:
    separator = b"From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n"
    content = (b"\xef\xbb\xbf" if bom else b"") + b"".join(separator + m for m in msgs)
    if crlf:
        content = content.replace(b"\n", b"\r\n")
    path = tmp_path / "box.mbox"
    path.write_bytes(content)
    units = list(split_mbox(str(path), "box"))
    newline = b"\r\n" if crlf else b"\n"
    expected = [m.replace(b"\n", newline) for m in msgs]
    # Each message back, as read_unit gives it (final blank lines folded to one).
    assert [read_unit(u) for u in units] == [m.rstrip(b"\r\n") + b"\n" for m in expected]
    # And the ranges tile the file: separators and messages, nothing else.
    rebuilt = b"".join(content[u.offset - len(separator.replace(b"\n", newline)):
                               u.offset + u.length] for u in units)
    assert rebuilt == content[3 if bom else 0:]


# -- content never becomes code ------------------------------------------------------------

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


CELL_TEXT = st.text(max_size=30)


@SETTINGS
@given(st.lists(st.lists(CELL_TEXT | st.integers() | st.floats(allow_nan=False)
                         | st.none(), min_size=1, max_size=5), max_size=10))
def test_no_csv_cell_can_run_as_a_formula(rows: list[list[object]]) -> None:
    out = io.StringIO()
    write_rows(out, ["a", "b", "c", "d", "e"][:max((len(r) for r in rows), default=1)], rows)
    # Read as a spreadsheet does: any of CR, LF, CRLF ends an unquoted row.
    read = list(csv.reader(io.StringIO(out.getvalue(), newline=None)))[1:]
    assert len(read) == len(rows)
    for written, original in zip(read, rows, strict=True):
        for cell, value in zip(written, original, strict=True):
            if cell.startswith(DANGEROUS):
                # Only a plain number may start with a sign (a negative figure).
                assert cell[0] in "+-" and isinstance(value, int | float | str)
                float(cell.replace(",", "."))
            if isinstance(value, str):
                # Carriage returns come back as line feeds (see csvsafe.write_rows).
                text = value.replace("\r\n", "\n").replace("\r", "\n")
                assert cell in (text, "'" + text)


def test_bare_carriage_return_cannot_start_a_formula_row() -> None:
    out = io.StringIO()
    # The classic DDE payload; no comma or double quote, which would get it quoted.
    write_rows(out, ["subject", "from"], [["Relance\r=2+5+cmd|' /C calc'!A0", "a@b.fr"]])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=None)))
    assert not [cell for row in rows for cell in row if cell.startswith(DANGEROUS)], rows


@SETTINGS
@given(st.text(max_size=200))
def test_safe_cell_is_idempotent_and_keeps_the_text(value: str) -> None:
    once = safe_cell(value)
    assert once in (value, "'" + value)
    assert safe_cell(once) == once


@SETTINGS
@given(st.text(max_size=400) | st.sampled_from(["..", ".", "../../etc/passwd", "a\\..\\b",
                                                 "\x00", "CON", " .bashrc", "/", "\u202e.exe"]))
def test_attachment_names_are_safe(name: str) -> None:
    safe = sanitize_filename(name)
    assert safe and len(safe) <= 150
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".")
    assert all(c.isprintable() for c in safe)
    assert sanitize_filename(safe) == safe[:150].strip(" .") or safe == "attachment"


@settings(max_examples=150, deadline=timedelta(seconds=2),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(MESSAGE, min_size=1, max_size=4), st.booleans(), st.booleans(),
       st.integers(1, 400), st.sampled_from([b"", b"\n", b"\n\n\r\n"]))
def test_a_head_read_is_the_start_of_the_whole_read(tmp_path: Path, msgs: list[bytes],
                                                    bom: bool, crlf: bool, limit: int,
                                                    trailer: bytes) -> None:
    # The importer reads the first bytes of a message, and the rest only for
    # the mail it keeps: the head must be what read_unit begins with (an mbox
    # message's final line ends, which read_unit folds, aside), "whole" when
    # it is all of it, and the size the one read_unit gives.
    separator = b"From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n"
    lead = b"\xef\xbb\xbf" if bom else b""
    content = lead + b"".join(separator + m + trailer for m in msgs)
    single = lead + msgs[0] + trailer
    if crlf:
        content, single = content.replace(b"\n", b"\r\n"), single.replace(b"\n", b"\r\n")
    (tmp_path / "box.mbox").write_bytes(content)
    (tmp_path / "one.eml").write_bytes(single)
    units = [*split_mbox(str(tmp_path / "box.mbox"), "box"),
             Unit("file", str(tmp_path), str(tmp_path / "one.eml"), "file:one", "one")]
    for unit in units:
        full = read_unit(unit)
        head, whole = read_unit_head(unit, limit)
        if whole:
            assert head == full
        elif len(full) > limit:
            assert head == full[:limit]
        else:
            assert (len(head), head.rstrip(b"\r\n") + b"\n") == (limit, full)
        assert whole or len(full) + 2 * len(trailer) + 3 > limit
        assert unit_size(unit) == len(full)
