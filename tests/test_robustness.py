"""Hostile mail in, nothing crashes, nothing is lost, work stays bounded, the
store is never damaged or overwritten, no secret is written (issue 10).

See SECURITY.md for the threat model these tests hold the code to.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import analyzer.parse
from analyzer.config import parse_config
from analyzer.credentials import ENV_VAR
from analyzer.errors import StoreError
from analyzer.importer import import_paths
from analyzer.parse import (
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    MAX_MIME_DEPTH,
    MAX_MIME_PARTS,
    mime_shape,
    parse_body,
    parse_headers,
)
from analyzer.sources import split_mbox
from analyzer.store import Store
from tests.builders import message, write_maildir
from tests.conftest import ROOT
from tests.dovecot import PASSWORD, Account, dovecot, imap_account
from tests.test_imap import WITH_ELAN, WITH_FT, mailbox, write_config

__all__ = ["dovecot", "imap_account", "mailbox"]  # fixtures, used by name

CONFIG = parse_config({
    "me": {"addresses": ["julie.moreau@exemple-perso.fr"]},
    "counterpart": [{"name": "France Travail", "kind": "agency",
                     "domains": ["francetravail.fr", "example.net"]}],
})
# The counterpart's mail is what gets the full parse: the pathological
# messages below are written by it, so the bounds of that parse are tested.
FT = "From: conseiller@francetravail.fr\nTo: julie.moreau@exemple-perso.fr\n"
CONFIG_FILE = ROOT / "sample_mailbox" / "analyzer.toml"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command line in a fresh process, as a user would (with the
    configuration of :data:`CONFIG_FILE`, so stderr holds only what the test
    is about)."""
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "ANALYZER_CONFIG": str(CONFIG_FILE), **(env or {})}, timeout=300,
        check=False)


# -- 1. the whole third-party corpora tree ---------------------------------------


def test_cli_imports_the_whole_corpora_tree(corpora_dir: Path, tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    done = _cli("--lang", "en", "--store", str(store_path), "import", str(corpora_dir))
    assert (done.returncode, done.stderr) == (0, "")  # no traceback, no warning
    lines = done.stdout.splitlines()
    # Counts as in tests/test_corpora_import.py::test_whole_tree_in_one_import.
    assert lines[0] == ("Import finished: 1626 message(s) read, 1391 new, 235 already in "
                        "the store, 0 exchanged with a counterpart.")
    assert "117 file(s) skipped (not messages):" in lines
    assert "6 unreadable message(s), kept raw in the store:" in lines
    assert "Traceback" not in done.stdout
    with Store.open(store_path) as store:
        assert store.count_messages() == 1391
        assert store.check_integrity() == "ok"
        # Every message with a problem (no header, unparsable, over a bound)
        # keeps its raw bytes: nothing that could not be read is lost.
        without_raw = store.conn.execute(
            "SELECT count(*) FROM messages m WHERE m.problems != '[]' AND NOT EXISTS "
            "(SELECT 1 FROM bodies b WHERE b.message_rowid = m.id)").fetchone()[0]
        assert without_raw == 0
        # And by path, for each message the summary lists as unreadable.
        start = lines.index("6 unreadable message(s), kept raw in the store:") + 1
        broken = {line.strip().split(" (", 1)[0] for line in lines[start:start + 6]}
        assert {Path(p).name for p in broken} == {
            "long-header.eml", "malformedHeader-noheader.msg",
            "malformedHeaderStartsBody-noheader.msg", "simple.mbox.txt", "stack-overflow.txt"}
        raw_kept = store.conn.execute(
            f"SELECT count(DISTINCT l.message_rowid) FROM locations l JOIN bodies b ON "
            f"b.message_rowid = l.message_rowid WHERE l.path IN ({','.join('?' * len(broken))})",
            sorted(broken)).fetchone()[0]
        assert raw_kept == 6  # simple.mbox.txt holds two of them
        skipped = dict(store.skipped())
        assert len(skipped) == 117
        # The non-message files of the tree, by kind.
        names = {Path(p).name: why for p, why in skipped.items()}
        assert names["README.md"] == "not_message"
        assert names["emails.csv"] == "not_message"  # melusine-fr
        assert sum(p.endswith(".xml") for p in skipped) == 80  # mime4j's expected trees
        assert sum(Path(p).name.startswith("expected-") for p in skipped) == 7


def test_headerless_file_among_messages_is_skipped_not_stored(corpora_dir: Path,
                                                              tmp_path: Path) -> None:
    """cpython-email/data/msg_19.txt is, per the corpora README, a message
    without headers (CPython's test feeds it to the parser on purpose). The
    importer lists it as skipped, and that reading is the right one: nothing
    in the file or its name says mail (no header, a ``.txt`` name, no Maildir
    or MH folder, no mbox separator), and the same holds for the READMEs,
    expected outputs and notes that sit among messages in real folders. Taking
    every headerless text file for a broken message would fill the store with
    non-mail, and such a "message" has no sender, date or recipient, so it
    could never join a case. Nothing is lost: the file stays where it is and
    the store lists it, by path, in ``skipped``. A headerless file that *is*
    marked as mail (``.eml``/``.msg`` name, Maildir, MH, inside an mbox) is
    stored raw and reported, as mime4j's ``*-noheader.msg`` files are.
    """
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [corpora_dir / "cpython-email", corpora_dir / "mime4j"],
                               CONFIG, workers=1)
        msg_19 = str(corpora_dir / "cpython-email" / "data" / "msg_19.txt")
        assert (msg_19, "not_message") in summary.skipped
        noheader = sorted(Path(p).name for p, why in summary.broken if why == "no header")
        assert noheader == ["malformedHeader-noheader.msg",
                            "malformedHeaderStartsBody-noheader.msg"]


def test_mbox_preamble_is_a_message_not_dropped(tmp_path: Path) -> None:
    """A file that starts with a From_ line not followed by a header (so not a
    separator) still holds mail: it is stored raw and reported, where it used
    to be silently dropped."""
    box = tmp_path / "box.mbox"
    preamble = b"From someone Mon Jan  1 10:00:00 2024\n\nlost words\n"
    separator = b"From a@b Tue Jan  2 10:00:00 2024\n"
    box.write_bytes(preamble + separator + message())
    units = list(split_mbox(str(box), "box"))
    assert [(u.offset, u.length) for u in units] == [
        (0, len(preamble)), (len(preamble) + len(separator), len(message()))]
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [box], CONFIG, workers=1)
        assert (summary.read, summary.new, summary.broken) == (
            2, 2, [(str(box), "no header")])


# -- 3. bounded work per message ---------------------------------------------------


def _many_headers() -> bytes:
    fields = b"".join(b"X-Filler-%d: v\n" % i for i in range(10_000))
    return (FT + "Message-ID: <headers@x>\nSubject: many\n").encode() + fields + b"\nbody\n"


def _long_header_line() -> bytes:
    return (FT + "Message-ID: <long@x>\nSubject: ").encode() + b"A" * (5 * 1024 * 1024) + \
        b"\n\nbody\n"


def _nested_messages() -> bytes:
    out = (FT + "Message-ID: <nested@x>\nSubject: nested\n").encode()
    for i in range(1000):
        out += b"Content-Type: message/rfc822\n\nFrom: x%d@y.fr\nSubject: level %d\n" % (i, i)
    return out + b"Content-Type: text/plain\n\ninnermost\n"


def _many_parts() -> bytes:
    out = (FT + 'Message-ID: <parts@x>\nSubject: parts\nMIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary="zz"\n\n').encode()
    out += b"".join(b"--zz\nContent-Type: text/plain\n\npart %d\n" % i for i in range(10_000))
    return out + b"--zz--\n"


PATHOLOGICAL = [
    ("many-headers", _many_headers, "headers@x",
     [f"limit: over {MAX_HEADERS} header fields (the rest not read)"]),
    ("long-header-line", _long_header_line, "long@x",
     ["limit: header block over 524288 bytes (cut)",
      f"limit: header field over {MAX_HEADER_VALUE} bytes (cut)"]),
    ("nested-rfc822", _nested_messages, "nested@x",
     [f"limit: MIME nesting deeper than {MAX_MIME_DEPTH}"]),
    ("many-parts", _many_parts, "parts@x", [f"limit: over {MAX_MIME_PARTS} MIME parts"]),
]


@pytest.fixture
def no_full_parse(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count the calls to mail-parser: a message over the bounds must not reach it."""
    import mailparser

    calls: list[int] = []
    real = mailparser.parse_from_bytes

    def counting(raw: bytes) -> object:
        calls.append(len(raw))
        return real(raw)

    monkeypatch.setattr(mailparser, "parse_from_bytes", counting)
    yield calls


@pytest.mark.parametrize(("name", "build", "message_id", "problems"), PATHOLOGICAL,
                         ids=[p[0] for p in PATHOLOGICAL])
def test_pathological_message_is_stored_flagged_and_bounded(
        tmp_path: Path, no_full_parse: list[int], name: str, build: object,
        message_id: str, problems: list[str]) -> None:
    assert callable(build)
    raw: bytes = build()
    write_maildir(tmp_path / "mail", {"1.x:2,S": raw})
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [tmp_path / "mail"], CONFIG, workers=1)
        assert (summary.read, summary.new, summary.relevant) == (1, 1, 1)
        assert [why for _, why in summary.broken] == [problems[0]]
        row = store.conn.execute(
            "SELECT m.problems, b.raw, b.headers_json, b.defects_json, m.subject FROM messages m "
            "JOIN bodies b ON b.message_rowid = m.id WHERE m.message_id = ?",
            (message_id,)).fetchone()
        assert row is not None, "stored, with its raw bytes"
        assert json.loads(row[0]) == problems
        assert bytes(row[1]) == raw
        # The work was bounded: mail-parser never saw the message, at most
        # MAX_HEADERS fields were read, no value longer than MAX_HEADER_VALUE.
        assert no_full_parse == []
        headers = json.loads(row[2])
        assert len(headers) <= MAX_HEADERS
        assert max(len(v) for v in headers.values()) <= MAX_HEADER_VALUE
        assert len(row[4]) <= MAX_HEADER_VALUE
        assert [d for d in json.loads(row[3]) if d.startswith("limit:")] or \
            name == "long-header-line"


def test_mime_scan_stops_one_step_past_the_limits() -> None:
    """The structural scan that guards the full parse examines at most the
    limit plus one part (or level), whatever the message holds."""
    parts = mime_shape(_many_parts())
    assert (parts.parts, parts.depth) == (MAX_MIME_PARTS + 1, 1)
    # One Content-Type line for the top, then a delimiter and a Content-Type per part.
    assert parts.lines == 1 + 2 * (MAX_MIME_PARTS + 1) - 1
    nested = mime_shape(_nested_messages())
    assert (nested.parts, nested.depth, nested.lines) == (0, MAX_MIME_DEPTH + 1,
                                                          MAX_MIME_DEPTH + 1)


def test_flanker_endless_nesting_as_counterpart_mail(corpora_dir: Path, tmp_path: Path,
                                                     no_full_parse: list[int]) -> None:
    """flanker's enclosed-endless.eml (2.9 MB of message/rfc822 inside
    message/rfc822) from a counterpart: stored raw, flagged, full parse skipped."""
    path = corpora_dir / "flanker" / "messages" / "enclosed-endless.eml"
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [path], CONFIG, workers=1)
        assert summary.broken == [(str(path), "limit: over 1000 MIME parts")]
        problems = store.conn.execute("SELECT problems FROM messages").fetchone()[0]
        assert json.loads(problems) == ["limit: over 1000 MIME parts"]
        assert store.conn.execute("SELECT length(raw) FROM bodies").fetchone()[0] == \
            path.stat().st_size
    assert no_full_parse == []


def test_flanker_torture_test_is_fully_parsed(corpora_dir: Path) -> None:
    """The MIME torture test is hostile but within the bounds (41 parts, 6
    levels): it gets the full parse, which must not fail."""
    raw = (corpora_dir / "flanker" / "messages" / "torture.eml").read_bytes()
    shape = mime_shape(raw)
    assert (shape.parts, shape.depth) == (41, 6)
    body = parse_body(raw)
    assert not [d for d in body.defects if d.startswith(("limit:", "unparsable"))]


def test_header_limits_are_exact_at_the_boundary() -> None:
    """Exactly MAX_HEADERS fields is within bounds; one more is flagged."""
    def with_fields(n: int) -> bytes:
        return b"".join(b"X-F%d: v\n" % i for i in range(n)) + b"\nbody\n"

    assert parse_headers(with_fields(MAX_HEADERS)).problems == ["no Message-ID"]
    assert parse_headers(with_fields(MAX_HEADERS + 1)).problems == [
        f"limit: over {MAX_HEADERS} header fields (the rest not read)", "no Message-ID"]
    assert analyzer.parse.full_parse_limits(with_fields(MAX_HEADERS)) == []


def test_refreshed_message_over_limits_is_flagged(tmp_path: Path) -> None:
    """Mail that becomes a counterpart's after a config change is read again
    with the same bounds, and flagged the same way."""
    write_maildir(tmp_path / "mail", {"1.x:2,S": _many_parts()})
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [tmp_path / "mail"], parse_config({}), workers=1)
        assert store.conn.execute("SELECT problems FROM messages").fetchone()[0] == "[]"
        summary = import_paths(store, [tmp_path / "mail"], CONFIG, workers=1)
        assert summary.refreshed == 1
        problems = store.conn.execute("SELECT problems FROM messages").fetchone()[0]
        assert json.loads(problems) == [f"limit: over {MAX_MIME_PARTS} MIME parts"]


# -- 4. store safety ------------------------------------------------------------------

_HOLDER = """
import sys
from analyzer.store import Store
with Store.open(sys.argv[1]) as store, store.writing():
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.parametrize(("lang", "expected"), [
    ("fr", "Une autre exécution d'analyzer utilise déjà la base {path}. Attendez qu'elle se "
           "termine, puis relancez."),
    ("en", "Another analyzer run is already using the store {path}. Wait for it to finish, "
           "then run again."),
])
def test_second_process_on_one_store_refused(tmp_path: Path, lang: str, expected: str) -> None:
    store_path = tmp_path / "s.sqlite"
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(store_path)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        done = _cli("--lang", lang, "--store", str(store_path), "import",
                    str(tmp_path / "mail"))
        assert (done.returncode, done.stdout, done.stderr) == (
            1, "", expected.format(path=store_path) + "\n")
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    with Store.open(store_path) as store:
        assert store.count_messages() == 0  # the refused run wrote nothing
    done = _cli("--lang", lang, "--store", str(store_path), "import", str(tmp_path / "mail"))
    assert done.returncode == 0  # once the first run is over, the next one proceeds


@pytest.fixture
def real_store(tmp_path: Path) -> bytes:
    """The bytes of a store holding the sample mailbox."""
    path = tmp_path / "good.sqlite"
    with Store.open(path) as store:
        import_paths(store, [ROOT / "sample_mailbox"], parse_config({}), workers=1)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


def _flip(data: bytes, start: int, end: int) -> bytes:
    return data[:start] + bytes(b ^ 0x5A for b in data[start:end]) + data[end:]


DAMAGES = [
    # Cut short: a copy interrupted, a disk that filled up.
    ("half", lambda d: d[:len(d) // 2], "store.truncated",
     {"fr": "La base {path} est tronquée ({size} octets sur les {full} qu'annonce son en-tête). "
            "Elle n'a pas été modifiée ; importez vos messages dans une nouvelle base avec "
            "--store.",
      "en": "The store {path} is cut short ({size} bytes of the {full} its header announces). "
            "It was left untouched; import your messages into a new store with --store."}),
    ("header-only", lambda d: d[:50], "store.corrupt",
     {"fr": "La base {path} est endommagée (header cut short). Elle n'a pas été modifiée ; "
            "importez vos messages dans une nouvelle base avec --store.",
      "en": "The store {path} is damaged (header cut short). It was left untouched; import "
            "your messages into a new store with --store."}),
    # Bytes flipped in the header page: the file header, then the schema table.
    ("flipped-file-header", lambda d: _flip(d, 16, 100), "store.corrupt",
     {"fr": "La base {path} est endommagée (invalid header). Elle n'a pas été modifiée ; "
            "importez vos messages dans une nouvelle base avec --store.",
      "en": "The store {path} is damaged (invalid header). It was left untouched; import "
            "your messages into a new store with --store."}),
    ("flipped-page-size", lambda d: _flip(d, 16, 18), "store.corrupt",
     {"fr": "La base {path} est endommagée (invalid page size). Elle n'a pas été modifiée ; "
            "importez vos messages dans une nouvelle base avec --store.",
      "en": "The store {path} is damaged (invalid page size). It was left untouched; import "
            "your messages into a new store with --store."}),
    ("flipped-schema", lambda d: _flip(d, 100, 4096), "store.corrupt",
     {"fr": "La base {path} est endommagée (database disk image is malformed). Elle n'a pas "
            "été modifiée ; importez vos messages dans une nouvelle base avec --store.",
      "en": "The store {path} is damaged (database disk image is malformed). It was left "
            "untouched; import your messages into a new store with --store."}),
]


@pytest.mark.parametrize(("name", "damage", "key", "messages"), DAMAGES,
                         ids=[d[0] for d in DAMAGES])
def test_damaged_store_refused_and_untouched(tmp_path: Path, real_store: bytes, name: str,
                                             damage: object, key: str,
                                             messages: dict[str, str]) -> None:
    assert callable(damage)
    damaged: bytes = damage(real_store)
    path = tmp_path / f"{name}.sqlite"
    path.write_bytes(damaged)
    with pytest.raises(StoreError) as err:
        Store.open(path)
    assert err.value.key == key
    for lang, text in messages.items():
        assert err.value.render(lang) == text.format(path=path, size=len(damaged),
                                                     full=len(real_store))
    # The command line says the same, in one line, and writes nothing.
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    done = _cli("--lang", "fr", "--store", str(path), "import", str(tmp_path / "mail"))
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", messages["fr"].format(path=path, size=len(damaged), full=len(real_store)) + "\n")
    assert path.read_bytes() == damaged
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(name)) == [path.name]


def test_foreign_sqlite_refused_by_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE moz_places (url TEXT)")
    before = path.read_bytes()
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    done = _cli("--lang", "en", "--store", str(path), "import", str(tmp_path / "mail"))
    assert (done.returncode, done.stderr) == (
        1, f"The file {path} is an SQLite database that does not belong to analyzer. It was "
           "left untouched; choose another path with --store.\n")
    assert path.read_bytes() == before


# -- 6. secrets ------------------------------------------------------------------------------


def test_no_secret_in_store_or_output_after_fetch(mailbox: Account, tmp_path: Path) -> None:
    """tests/test_imap.py::test_no_secret_in_logs checks the logs; this checks
    every byte written: the store and its side files (WAL, lock), stdout and
    stderr, for a password fetch, a token fetch and a rejected password shown
    with ``--debug`` (which prints the traceback)."""
    token_parts = ("ya29.never-", "written-token")  # the config holds only the halves
    token = "".join(token_parts)
    mailbox.server.tokens.valid[token] = mailbox.user
    with_password = write_config(tmp_path, mailbox)
    with_token = write_config(tmp_path, mailbox, name="oauth.toml", imap=(
        f'token_command = ["printf", "%s%s", "{token_parts[0]}", "{token_parts[1]}"]\n'))
    outputs = []
    for store, config, env, debug, code in [
        ("password", with_password, {}, [], 0),
        ("token", with_token, {ENV_VAR: ""}, [], 0),
        ("rejected", with_password, {ENV_VAR: "rejected-" + PASSWORD}, ["--debug"], 1),
    ]:
        done = _cli(*debug, "--lang", "en", "--store", str(tmp_path / f"{store}.sqlite"),
                    "--config", str(config), "fetch",
                    env={ENV_VAR: PASSWORD, "ANALYZER_CONFIG": "", **env})
        assert done.returncode == code, done.stderr
        outputs.append(done.stdout + done.stderr)
    with Store.open(tmp_path / "password.sqlite") as opened:
        # The counterparts' mail, fetched (so the test did write a store).
        assert opened.count_messages() == len(WITH_FT | WITH_ELAN) == 9
    written = [p for p in tmp_path.iterdir() if p.suffix != ".toml"]
    assert {p.name for p in written} >= {"password.sqlite", "token.sqlite"}
    for secret in (PASSWORD, token, "rejected-" + PASSWORD):
        for path in written:
            assert secret.encode() not in path.read_bytes(), path
        for text in outputs:
            assert secret not in text
