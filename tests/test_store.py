from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from analyzer.errors import StoreError
from analyzer.parse import parse_headers
from analyzer.store import APPLICATION_ID, SCHEMA_VERSION, Location, Record, Store
from tests.builders import message


def _record(key: str, raw: bytes, keep_raw: bool = False) -> Record:
    return Record(Location(key, "file", "/src", f"/src/{key}", folder="INBOX"),
                  parse_headers(raw), raw if keep_raw else None)


def test_new_store_is_marked_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {
        "meta",
        "messages",
        "bodies",
        "locations",
        "sources",
        "skipped",
        "corrections",
        "imap_state",
        "built_columns",
        "built_links",
    }
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert triggers == {f"{table}_{event}" for table in ("messages", "bodies")
                        for event in ("added", "changed", "removed")} | {
        "corrections_added", "corrections_removed"}


def test_new_store_is_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        with Store.open(tmp_path / "data" / "s.sqlite") as store:
            store.conn.execute("INSERT INTO meta VALUES ('k', 'v')")  # creates -wal and -shm
            modes = {p.name: stat.S_IMODE(p.stat().st_mode)
                     for p in (tmp_path / "data").iterdir() if not p.name.endswith(".lock")}
    finally:
        os.umask(previous)
    assert modes == {"s.sqlite": 0o600, "s.sqlite-wal": 0o600, "s.sqlite-shm": 0o600}
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_version_1_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _store_at_version(path, 1)
    with Store.open(path) as store:
        store.add_correction("join", "a@x", "b@x")
        assert store.corrections() == [("join", "a@x", "b@x")]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def _store_at_version(path: Path, version: int, *statements: str) -> None:
    """A store as schema ``version`` left it, with ``statements`` run in it."""
    from analyzer.store import _MIGRATIONS, _statements

    conn = sqlite3.connect(path)
    for step in range(1, version + 1):
        for statement in _statements(_MIGRATIONS[step]):
            conn.execute(statement)
    for statement in statements:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={version}")
    conn.commit()
    conn.close()


def test_version_4_store_keeps_its_bodies_with_the_raw_bytes_last(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _store_at_version(
        path, 4, "INSERT INTO messages (message_id, first_seen) VALUES ('a@x', 'now')",
        "INSERT INTO bodies VALUES (1, x'52415721', '{\"subject\": \"s\"}', 'text', "
        "'[]', '[\"d\"]')")
    with sqlite3.connect(path) as conn:
        generation = conn.execute(
            "SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
    with Store.open(path) as store:
        columns = [r[1] for r in store.conn.execute("PRAGMA table_info(bodies)")]
        assert columns == ["message_rowid", "headers_json", "body_text", "attachments_json",
                           "defects_json", "raw"]
        assert store.raw_message("a@x") == b"RAW!"
        assert [tuple(r) for r in store.body_rows()] == [
            ("a@x", '{"subject": "s"}', "text", "[]", '["d"]')]
        # Moving columns changes nothing a case build reads: a saved build stays valid.
        assert store.generation() == int(generation)
        store.add_records([_record("b", message(message_id="<b@x>"), keep_raw=True)])
        assert store.generation() == int(generation) + 2
        assert store.check_integrity() == "ok"


def test_version_5_store_drops_its_row_build_for_the_column_build(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _store_at_version(
        path, 5, "INSERT INTO built_messages VALUES (0, 'a@x', 'a@x', 'a@x', 'C-1', NULL, 0, "
        "NULL, 0, NULL)", "INSERT INTO meta VALUES ('build_key', 'k1')")
    with Store.open(path) as store:
        tables = {r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "built_messages" not in tables and "built_columns" in tables
        # The old build is not read as the new kind: the next command builds.
        assert store.meta("build_key") is None
        assert store.saved_build("k1", "2024-01-01T00:00:00Z") is None


def test_a_writing_run_has_a_larger_page_cache_then_gives_it_back(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        default = store.conn.execute("PRAGMA cache_size").fetchone()[0]
        with store.writing():
            assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == -65536
        assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == default == -2000


def test_every_change_to_what_cases_are_built_from_moves_the_generation(
        tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.generation() == 0
        store.add_records([_record("a", message())])
        assert store.generation() == 1  # one message row
        store.add_records([_record("b", message(message_id="<b@x>"), keep_raw=True)])
        assert store.generation() == 3  # a message row and its body
        store.add_records([_record("c", message())])  # a second place of a known message
        assert store.generation() == 3
        store.add_correction("join", "a@x", "b@x")
        store.remove_correction("join", "a@x", "b@x")
        assert store.generation() == 5
        store.set_meta("anything", "else")
        assert store.generation() == 5


def test_a_saved_build_is_read_back_under_its_key_and_in_its_time_only(tmp_path: Path) -> None:
    columns = [("message_id", "str", '["a@x", "b@x"]'), ("case_id", "str", '["C-1", null]')]
    link = ("C-1", "a@x", "b@x", "thread", "{}", "same thread")
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.saved_build("k1", "2024-01-01T00:00:00Z") is None
        assert store.save_build("k1", store.generation(), columns, [link],
                                valid_from="2024-01-01T00:00:00Z",
                                valid_until="2024-03-01T00:00:00Z") is True
        saved = store.saved_build("k1", "2024-02-29T23:59:59Z")
        assert saved is not None
        assert saved[0] == columns
        assert [tuple(r)[1:] for r in saved[1]] == [link]
        assert store.saved_build("k2", "2024-02-01T00:00:00Z") is None
        # Before it was made (a clock set back) and once a future-dated
        # message's time would change, it is not read.
        assert store.saved_build("k1", "2023-12-31T23:59:59Z") is None
        assert store.saved_build("k1", "2024-03-01T00:00:00Z") is None
        assert store.save_build("k1", store.generation(), columns, [link],
                                valid_from="2024-01-01T00:00:00Z") is True
        assert store.saved_build("k1", "2999-01-01T00:00:00Z") is not None
        # Any SQLite tool reads the saved columns.
        assert store.conn.execute(
            "SELECT group_concat(value, ' ') FROM built_columns, json_each(values_json) "
            "WHERE name = 'case_id'").fetchone()[0] == "C-1"


def test_a_snapshot_sees_no_write_committed_meanwhile(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as reader, Store.open(tmp_path / "s.sqlite") as writer:
        with reader.snapshot():
            before = reader.generation()
            writer.add_records([_record("a", message())])
            assert reader.generation() == before == 0
            assert reader.count_messages() == 0
        assert reader.generation() == 1
        assert reader.count_messages() == 1


def test_a_build_made_before_an_import_finished_is_not_saved(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        before = store.generation()
        store.add_records([_record("a", message())])
        assert store.save_build("k1", before, [], [],
                                valid_from="2024-01-01T00:00:00Z") is False
        assert store.saved_build("k1", "2024-01-01T00:00:00Z") is None


def test_duplicate_message_id_is_one_message_with_two_locations(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.add_records([_record("a", message())]) == (1, 0)
        assert store.add_records([_record("b", message(), keep_raw=True)]) == (0, 1)
        assert store.count_messages() == 1
        (row,) = store.message_rows()
        assert row["folders"] == "INBOX"
        assert row["has_body"] == 1
        assert [loc.key for loc in store.locations_of(row["id"])] == ["a", "b"]


def test_not_sqlite_file_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    with pytest.raises(StoreError) as err:
        Store.open(path)
    assert err.value.render("en") == (
        f"The file {path} is not an analyzer store (not even SQLite). "
        "It was left untouched; choose another path with --store.")
    assert path.read_text() == "my notes"


def test_foreign_sqlite_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as err:
        Store.open(path)
    assert err.value.key == "store.foreign"
    assert err.value.render("fr") == (
        f"Le fichier {path} est une base SQLite qui n'appartient pas à analyzer. "
        "Elle n'a pas été modifiée ; choisissez un autre chemin avec --store.")


def test_newer_schema_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as err:
        Store.open(path)
    assert err.value.render("en") == (
        f"The store {path} was written by a newer analyzer (schema {SCHEMA_VERSION + 1}; "
        f"this version reads up to {SCHEMA_VERSION}). Please upgrade analyzer.")


def test_second_writer_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as first, first.writing(), Store.open(path) as second:
        with pytest.raises(StoreError) as err, second.writing():
            pass
        assert err.value.key == "store.locked"


def test_failed_batch_rolls_back(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        good = _record("a", message())
        bad = _record("b", message(message_id="<m2@x>"))
        bad.location = None  # type: ignore[assignment]
        with pytest.raises(AttributeError):
            store.add_records([good, bad])
        assert store.count_messages() == 0
        assert store.check_integrity() == "ok"
