from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

from analyzer import importer
from analyzer.config import parse_config
from analyzer.errors import SourceError
from analyzer.importer import import_paths
from analyzer.sources import Unit
from analyzer.store import Store
from tests.builders import mbox, message, write_maildir
from tests.conftest import another_thread, record_forks, single_threaded

CONFIG = parse_config({
    "me": {"addresses": ["julie.moreau@exemple-perso.fr"]},
    "counterpart": [{"name": "France Travail", "kind": "agency",
                     "domains": ["pole-emploi.fr", "francetravail.fr"]}],
})


def _friend(n: int) -> bytes:
    return message(message_id=f"<friend{n}@x>", to="ami@exemple.fr", subject=f"Salut {n}")


def test_import_keeps_raw_only_for_counterpart_mail(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.a:2,S": message(), "2.b:2,S": _friend(1)})
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (summary.read, summary.new, summary.duplicates, summary.relevant) == (2, 2, 0, 1)
        rows = {r["message_id"]: r["has_body"] for r in store.message_rows()}
        assert rows == {"m1@example.org": 1, "friend1@x": 0}
        assert store.raw_message("m1@example.org") == message()


def test_reimport_unchanged_adds_nothing_and_reads_nothing(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {f"{n}.x:2,S": _friend(n) for n in range(5)})
    (tmp_path / "box.mbox").write_bytes(mbox(message(), _friend(10)))
    paths = [tmp_path / "mail", tmp_path / "box.mbox"]
    with Store.open(tmp_path / "s.sqlite") as store:
        first = import_paths(store, paths, CONFIG)
        second = import_paths(store, paths, CONFIG)
    assert (first.read, first.new) == (7, 7)
    assert (second.read, second.new, second.unchanged, second.unchanged_sources) == (0, 0, 7, 1)


def test_reimport_picks_up_only_new_messages(tmp_path: Path) -> None:
    box = tmp_path / "box.mbox"
    box.write_bytes(mbox(message(), _friend(1)))
    write_maildir(tmp_path / "mail", {"1.x:2,S": _friend(2)})
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [box, tmp_path / "mail"], CONFIG)
        with box.open("ab") as fh:
            fh.write(mbox(_friend(3)))
        write_maildir(tmp_path / "mail", {"2.x:2,S": _friend(4)})
        again = import_paths(store, [box, tmp_path / "mail"], CONFIG)
        assert (again.read, again.new, again.unchanged) == (2, 2, 3)
        assert store.count_messages() == 5


def test_rewritten_mbox_is_rescanned_without_duplicates(tmp_path: Path) -> None:
    box = tmp_path / "box.mbox"
    box.write_bytes(mbox(message(), _friend(1), _friend(2)))
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [box], CONFIG)
        box.write_bytes(mbox(_friend(2), _friend(5)))  # compacted: offsets moved
        again = import_paths(store, [box], CONFIG)
        assert (again.read, again.new, again.duplicates) == (2, 1, 1)
        assert store.count_messages() == 4
        keys = store.known_keys(str(box.resolve()))
        assert len(keys) == 2


def test_same_message_in_two_folders_is_one_message(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    write_maildir(tmp_path / "mail", {"1.y:2,S": message()}, "Sent")
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (summary.new, summary.duplicates) == (1, 1)
        (row,) = store.message_rows()
        assert sorted(row["folders"].split(",")) == ["INBOX", "Sent"]


def test_message_without_message_id_is_stable_across_reimport(tmp_path: Path) -> None:
    raw = message(message_id=None)
    write_maildir(tmp_path / "a", {"1.x:2,S": raw})
    write_maildir(tmp_path / "b", {"9.z:2,S": raw.replace(b"\n", b"\r\n")})
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [tmp_path / "a"], CONFIG)
        summary = import_paths(store, [tmp_path / "b"], CONFIG)
        assert (summary.new, summary.duplicates) == (0, 1)
        (row,) = store.message_rows()
        assert row["synthetic_id"] == 1
        assert row["problems"] == '["no Message-ID"]'


def test_broken_message_kept_raw_and_reported(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": b"\x00\x01 garbage with no header\n"})
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [tmp_path / "mail"], CONFIG)
        path = str((tmp_path / "mail" / "cur" / "1.x:2,S").resolve())
        assert summary.broken == [(path, "no header")]
        (row,) = store.message_rows()
        assert row["has_body"] == 1
        assert store.raw_message(row["message_id"]) == b"\x00\x01 garbage with no header\n"


def test_config_change_reads_newly_relevant_messages_again(tmp_path: Path) -> None:
    contractor = message(message_id="<c1@x>", sender="Coach <coach@cabinet-avenir.fr>",
                         to="julie.moreau@exemple-perso.fr")
    write_maildir(tmp_path / "mail", {"1.x:2,S": contractor})
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [tmp_path / "mail"], CONFIG)
        assert store.raw_message("c1@x") is None
        wider = parse_config({
            "me": {"addresses": ["julie.moreau@exemple-perso.fr"]},
            "counterpart": [{"name": "Cabinet Avenir", "kind": "contractor",
                             "domains": ["cabinet-avenir.fr"]}],
        })
        summary = import_paths(store, [tmp_path / "mail"], wider)
        assert (summary.read, summary.refreshed) == (0, 1)
        assert store.raw_message("c1@x") == contractor
        assert store.meta("bodies_complete_for") == wider.fingerprint()


def test_first_import_leaves_no_body_to_complete(tmp_path: Path) -> None:
    # What lets the first import into an empty store skip the scan of
    # refresh_bodies: a copy of a message may involve a counterpart when an
    # earlier copy did not, and its body is stored all the same.
    write_maildir(tmp_path / "mail", {
        "1.x:2,S": _friend(1),
        "2.x:2,S": message(message_id="<friend1@x>"),
        "3.x:2,S": message(message_id="<m2@x>"),
        "4.x:2,S": message(message_id="<m2@x>", to="ami@exemple.fr"),
    })
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (summary.new, summary.duplicates, summary.refreshed) == (2, 2, 0)
        assert store.meta("bodies_complete_for") == CONFIG.fingerprint()
        store.set_meta("bodies_complete_for", "")
        assert importer.refresh_bodies(store, CONFIG) == 0
        assert store.raw_message("friend1@x") == message(message_id="<friend1@x>")


def test_bodies_are_looked_for_again_until_they_could_all_be_read(tmp_path: Path) -> None:
    contractor = message(message_id="<c1@x>", sender="Coach <coach@cabinet-avenir.fr>",
                         to="julie.moreau@exemple-perso.fr")
    write_maildir(tmp_path / "mail", {"1.x:2,S": contractor})
    moved = tmp_path / "elsewhere"
    wider = parse_config({
        "me": {"addresses": ["julie.moreau@exemple-perso.fr"]},
        "counterpart": [{"name": "Cabinet Avenir", "kind": "contractor",
                         "domains": ["cabinet-avenir.fr"]}],
    })
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [tmp_path / "mail"], CONFIG)
        (tmp_path / "mail" / "cur" / "1.x:2,S").rename(moved)
        first = import_paths(store, [tmp_path / "mail"], wider)
        # Still the config of the first import: the missing body is looked for next time.
        assert (first.refreshed, store.meta("bodies_complete_for")) == (0, CONFIG.fingerprint())
        moved.rename(tmp_path / "mail" / "cur" / "1.x:2,S")
        second = import_paths(store, [tmp_path / "mail"], wider)
        assert second.refreshed == 1
        assert store.raw_message("c1@x") == contractor
        third = import_paths(store, [tmp_path / "mail"], wider)
        assert (third.read, third.refreshed) == (0, 0)


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store, pytest.raises(SourceError) as err:
        import_paths(store, [tmp_path / "nope"], CONFIG)
    assert err.value.render("en") == (
        f"Source not found: {tmp_path / 'nope'}. Check the path of the mailbox.")


def test_parallel_and_serial_imports_store_the_same(tmp_path: Path) -> None:
    messages = {f"{n}.x:2,S": (message(message_id=f"<p{n}@x>") if n % 10 == 0 else _friend(n))
                for n in range(900)}
    # A copy of a message, one with no header and one with a bad Date: what
    # the workers send back carries duplicates, broken mail and problems too.
    messages["900.x:2,S"] = message(message_id="<p0@x>")
    messages["901.x:2,S"] = b"no header here\n"
    messages["902.x:2,S"] = message(message_id="<p902@x>", date="someday")
    write_maildir(tmp_path / "mail", messages)
    results = []
    # One process; two forked workers; two spawned ones, as under a notebook
    # kernel, whose threads make forking unsafe.
    for name, workers, threads, started in (("one", 1, nullcontext(), []),
                                            ("forked", 2, single_threaded(), ["fork"]),
                                            ("spawned", 2, another_thread(), ["spawn"])):
        with Store.open(tmp_path / f"{name}.sqlite") as store, threads, \
                pytest.MonkeyPatch.context() as patch:
            asked = record_forks(patch, importer)
            summary = import_paths(store, [tmp_path / "mail"], CONFIG, workers=workers)
            assert asked == started, name
            conn = store.conn
            stored = [
                sorted(tuple(r) for r in conn.execute(
                    "SELECT message_id, synthetic_id, subject, from_addr, from_name, to_json, "
                    "cc_json, date_header, date_utc, delivered_utc, in_reply_to, refs, "
                    "auto_headers, size, problems FROM messages")),
                sorted(tuple(r) for r in conn.execute(
                    "SELECT m.message_id, b.raw, b.headers_json, b.body_text, "
                    "b.attachments_json, b.defects_json FROM bodies b "
                    "JOIN messages m ON m.id = b.message_rowid")),
                sorted(tuple(r) for r in conn.execute(
                    "SELECT m.message_id, l.key, l.kind, l.source, l.path, l.offset, l.length, "
                    "l.folder, l.uid FROM locations l JOIN messages m ON m.id = l.message_rowid")),
            ]
            results.append((summary.new, summary.duplicates, summary.relevant,
                            sorted(summary.broken), stored))
    assert results[0] == results[1] == results[2]
    assert results[0][:4] == (902, 1, 91, [(str(tmp_path / "mail" / "cur" / "901.x:2,S"),
                                           "no header")])


def test_killed_import_leaves_consistent_store_and_next_run_completes(tmp_path: Path) -> None:
    total = 6000
    write_maildir(tmp_path / "mail", {f"{n}.x:2,S": _friend(n) for n in range(total)})
    store_path = tmp_path / "s.sqlite"
    env = {**os.environ, "ANALYZER_CONFIG": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "--store", str(store_path), "import",
         str(tmp_path / "mail")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if store_path.exists():
            try:
                with sqlite3.connect(store_path, timeout=1) as conn:
                    stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
        if stored > 0:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store.open(store_path) as store:
        assert store.check_integrity() == "ok"
        partial = store.count_messages()
        assert 0 < partial < total
        rows = store.conn.execute(
            "SELECT count(*) FROM messages m WHERE NOT EXISTS "
            "(SELECT 1 FROM locations l WHERE l.message_rowid = m.id)").fetchone()[0]
        assert rows == 0
        summary = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert summary.new == total - partial
        assert store.count_messages() == total


def test_unchanged_maildir_directories_are_not_listed_again(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": message(message_id="<a@x>")})
    cur, new = tmp_path / "mail" / "cur", tmp_path / "mail" / "new"
    an_hour_ago = time.time() - 3600
    for directory in (cur, new):
        os.utime(directory, (an_hour_ago, an_hour_ago))
    with Store.open(tmp_path / "s.sqlite") as store:
        first = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (first.read, first.new, first.sources) == (1, 1, 1)
        assert store.source_state(str(cur)).size == 1
        # The proof that cur/ is not listed: a file slipped in with the
        # directory's time put back is not seen (no mail program does this;
        # every delivery, move, flag change or deletion changes the time).
        (cur / "2.x:2,S").write_bytes(message(message_id="<b@x>"))
        os.utime(cur, (an_hour_ago, an_hour_ago))
        second = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (second.read, second.unchanged, second.sources, second.unchanged_sources) == (
            0, 1, 1, 1)
        os.utime(cur)  # what the delivery itself did
        third = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (third.read, third.new, third.unchanged, third.unchanged_sources) == (1, 1, 1, 0)
        # Changed a moment ago, so its time is not recorded yet: the next run
        # lists it again.
        assert store.source_state(str(cur)).mtime_ns != os.stat(cur).st_mtime_ns
        fourth = import_paths(store, [tmp_path / "mail"], CONFIG)
        assert (fourth.read, fourth.unchanged) == (0, 2)


def test_directory_with_an_unreadable_file_is_listed_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": message(message_id="<a@x>"),
                                      "2.x:2,S": message(message_id="<b@x>")})
    cur = tmp_path / "mail" / "cur"
    an_hour_ago = time.time() - 3600
    os.utime(cur, (an_hour_ago, an_hour_ago))
    real_read = importer.read_unit_head

    def failing_read(unit: Unit, limit: int) -> tuple[bytes, bool]:
        # Root reads any file whatever its mode: fail this one read instead.
        if unit.path.endswith("2.x:2,S"):
            raise PermissionError(13, "Permission denied")
        return real_read(unit, limit)

    with Store.open(tmp_path / "s.sqlite") as store:
        monkeypatch.setattr(importer, "read_unit_head", failing_read)
        first = import_paths(store, [tmp_path / "mail"], CONFIG, workers=1)
        assert (first.new, first.skipped) == (1, [(str(cur / "2.x:2,S"), "unreadable")])
        assert store.source_state(str(cur)) is None
        monkeypatch.setattr(importer, "read_unit_head", real_read)
        second = import_paths(store, [tmp_path / "mail"], CONFIG, workers=1)
        assert (second.new, second.unchanged, second.skipped) == (1, 1, [])
        assert store.source_state(str(cur)).size == 2
