"""The embedded store: one SQLite file, readable by any SQLite tool.

Tables (schema version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version``;
the file is marked as ours with ``PRAGMA application_id``):

``messages``
    one row per distinct message (deduplicated on ``message_id``) with the
    parsed fields every stage needs; times are ISO 8601 UTC text.
``bodies``
    the raw bytes, every header and the body text of the messages the analysis
    reads closely: those exchanged with a counterpart, and broken ones (kept so
    nothing is lost). Unrelated personal mail is not copied. The raw bytes
    come last in each row (schema 5): SQLite reads a row's columns in order,
    so the texts every analysis reads are not behind a megabyte attachment.
``locations``
    every place a message was seen (file, mbox offset, folder, IMAP uid), so a
    message that becomes relevant after a config change can be read again.
``sources``
    what was scanned of each mbox file, so an unchanged one is skipped.
``skipped``
    files that were not messages, with the reason.
``corrections``
    the user's manual joins and splits of cases, recorded against
    Message-IDs so they survive re-import and re-analysis.
``imap_state``
    per IMAP folder: UIDVALIDITY, the highest UID stored, and the search
    criteria used, so a fetch resumes and notices changes (:mod:`analyzer.imap`).
``built_columns``, ``built_links``
    the last case build, saved so that the next command reads it instead of
    rebuilding: the whole table of messages (parties, times, threads, cases,
    tickets, automation) one row per column, its values a JSON array in
    message order (schema 6; SQLite's ``json_each`` reads them), and the links
    with their explanations. Valid only under the key kept in ``meta`` and
    between the times kept there (:mod:`analyzer.analysis` computes them).
    Triggers count every change to ``messages``, ``bodies`` and
    ``corrections`` in ``meta.generation``, so no write path can leave a
    stale build looking valid.

Every write is one transaction per batch, and a batch's locations are what
the next run checks to skip known messages, so a killed import leaves a
consistent store that the next run completes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analyzer.errors import StoreError
from analyzer.parse import STORED_TIME, ParsedBody, ParsedHeaders

SCHEMA_VERSION = 6
APPLICATION_ID = 0x414E4C5A  # "ANLZ"
WRITE_CACHE_KIB = -64 * 1024  # negative: KiB, as PRAGMA cache_size takes it
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    synthetic_id INTEGER NOT NULL DEFAULT 0,
    subject TEXT NOT NULL DEFAULT '',
    from_addr TEXT NOT NULL DEFAULT '',
    from_name TEXT NOT NULL DEFAULT '',
    to_json TEXT NOT NULL DEFAULT '[]',
    cc_json TEXT NOT NULL DEFAULT '[]',
    date_header TEXT,
    date_utc TEXT,
    delivered_utc TEXT,
    in_reply_to TEXT NOT NULL DEFAULT '[]',
    refs TEXT NOT NULL DEFAULT '[]',
    auto_headers TEXT NOT NULL DEFAULT '{}',
    size INTEGER NOT NULL DEFAULT 0,
    problems TEXT NOT NULL DEFAULT '[]',
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bodies (
    message_rowid INTEGER PRIMARY KEY REFERENCES messages(id),
    raw BLOB NOT NULL,
    headers_json TEXT NOT NULL DEFAULT '{}',
    body_text TEXT NOT NULL DEFAULT '',
    attachments_json TEXT NOT NULL DEFAULT '[]',
    defects_json TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS locations (
    id INTEGER PRIMARY KEY,
    message_rowid INTEGER NOT NULL REFERENCES messages(id),
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    offset INTEGER NOT NULL DEFAULT 0,
    length INTEGER NOT NULL DEFAULT -1,
    folder TEXT NOT NULL DEFAULT '',
    uid INTEGER,
    seen_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS locations_message ON locations(message_rowid);
CREATE INDEX IF NOT EXISTS locations_source ON locations(source);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    scanned_upto INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""

# The changes that move ``meta.generation`` (schema 4): every change to what
# a case build is made from.
_GENERATION_EVENTS = (
    ("messages", "INSERT"), ("messages", "UPDATE"), ("messages", "DELETE"),
    ("bodies", "INSERT"), ("bodies", "UPDATE"), ("bodies", "DELETE"),
    ("corrections", "INSERT"), ("corrections", "DELETE"),
)
_EVENT_NAMES = {"INSERT": "added", "UPDATE": "changed", "DELETE": "removed"}


def _generation_triggers(only: str | None = None) -> str:
    """The triggers that move ``meta.generation`` (of table ``only``, or all).

    >>> print(_generation_triggers("corrections").splitlines()[0])
    CREATE TRIGGER IF NOT EXISTS corrections_added AFTER INSERT ON corrections
    """
    return "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_{_EVENT_NAMES[event]} AFTER {event} ON {table}\n"
        "BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;\n"
        for table, event in _GENERATION_EVENTS if only in (None, table))


# Each entry upgrades a store from the version before it; a store is never
# read under a schema it was not migrated to.
_MIGRATIONS: dict[int, str] = {
    1: _SCHEMA,
    2: """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('join', 'split')),
    message_a TEXT NOT NULL,
    message_b TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (kind, message_a, message_b)
);
""",
    3: """
CREATE TABLE IF NOT EXISTS imap_state (
    source TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL DEFAULT 0,
    uidnext INTEGER,
    highestmodseq INTEGER,
    fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
""",
    4: """
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
""" + _generation_triggers() + """
CREATE TABLE IF NOT EXISTS built_messages (
    row INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    thread_id TEXT,
    conversation_id TEXT,
    case_id TEXT,
    ticket_id TEXT,
    automated INTEGER NOT NULL,
    automation_kind TEXT,
    is_closure INTEGER NOT NULL,
    sender_person TEXT
);
CREATE TABLE IF NOT EXISTS built_links (
    id INTEGER PRIMARY KEY,
    case_id TEXT,
    from_message_id TEXT NOT NULL,
    to_message_id TEXT NOT NULL,
    signal TEXT NOT NULL,
    params_json TEXT NOT NULL,
    detail TEXT NOT NULL
);
""",
    5: """
CREATE TABLE bodies_raw_last (
    message_rowid INTEGER PRIMARY KEY REFERENCES messages(id),
    headers_json TEXT NOT NULL DEFAULT '{}',
    body_text TEXT NOT NULL DEFAULT '',
    attachments_json TEXT NOT NULL DEFAULT '[]',
    defects_json TEXT NOT NULL DEFAULT '[]',
    raw BLOB NOT NULL
);
INSERT INTO bodies_raw_last (message_rowid, headers_json, body_text, attachments_json,
                             defects_json, raw)
SELECT message_rowid, headers_json, body_text, attachments_json, defects_json, raw FROM bodies;
DROP TABLE bodies;
ALTER TABLE bodies_raw_last RENAME TO bodies;
""" + _generation_triggers("bodies"),
    6: """
DROP TABLE IF EXISTS built_messages;
DELETE FROM meta WHERE key = 'build_key';
CREATE TABLE IF NOT EXISTS built_columns (
    position INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    dtype TEXT NOT NULL,
    values_json TEXT NOT NULL
);
""",
}


def _statements(script: str) -> Iterator[str]:
    """The statements of ``script``, trigger bodies (which hold ``;``) whole."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def now_iso() -> str:
    return datetime.now(UTC).strftime(STORED_TIME)


@dataclass(frozen=True, slots=True)
class Location:
    """Where one message was seen. ``key`` identifies the place across runs
    (a Maildir file keeps its key when its flags change)."""

    key: str
    kind: str
    source: str
    path: str
    offset: int = 0
    length: int = -1
    folder: str = ""
    uid: int | None = None


@dataclass(slots=True)
class Record:
    """One message read from a source, ready to be stored.

    ``row`` is the message's ``messages`` row as :func:`message_row` makes
    it; import workers fill it so the writing process only writes, and send
    no ``headers`` (the row holds what the store keeps of them).
    """

    location: Location
    headers: ParsedHeaders | None
    raw: bytes | None = None
    body: ParsedBody | None = None
    row: tuple[Any, ...] | None = None

    @property
    def message_id(self) -> str:
        if self.row is not None:
            return str(self.row[0])
        assert self.headers is not None
        return self.headers.message_id

    def message_row(self, seen: str) -> tuple[Any, ...]:
        """The ``messages`` row, first seen at ``seen``."""
        if self.row is not None:
            return (*self.row[:-1], seen)
        assert self.headers is not None
        return message_row(self.headers, seen)


def message_row(h: ParsedHeaders, seen: str) -> tuple[Any, ...]:
    """The ``messages`` row of parsed headers (without the rowid)."""
    return (h.message_id, int(h.synthetic_id), h.subject, h.from_addr, h.from_name,
            _dumps(h.to), _dumps(h.cc), h.date_header, h.date_utc, h.delivered_utc,
            _dumps(h.in_reply_to), _dumps(h.references), _dumps(h.auto_headers),
            h.size, _dumps(h.problems), seen)


@dataclass(frozen=True, slots=True)
class SourceState:
    path: str
    kind: str
    size: int
    mtime_ns: int
    scanned_upto: int
    fingerprint: str


class _Lock:
    """An exclusive lock on a store for writers, so two runs never interleave."""

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self, store_path: Path) -> None:
        try:
            import fcntl
        except ImportError:  # Windows: SQLite's own locking still applies
            return
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = None
            raise StoreError("store.locked", path=str(store_path)) from None
        _HELD_LOCKS.add(self._fd)

    def release(self) -> None:
        if self._fd is not None:
            _HELD_LOCKS.discard(self._fd)
            os.close(self._fd)
            self._fd = None


# File descriptors of the writer locks this process holds. A forked worker
# inherits them; it closes its copies (close_inherited_locks) so that the
# lock dies with the process that took it, even if that one is killed.
_HELD_LOCKS: set[int] = set()


def close_inherited_locks() -> None:
    """In a forked child: drop the copies of the parent's store locks."""
    for fd in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()


class Store:
    """An open store. Use :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._lock = _Lock(path)

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open (or create) the store at ``path``.

        Refuses, without writing anything, a file that is not SQLite, an SQLite
        database of another application, a damaged one, or one written by a
        newer version; an older schema is migrated.
        """
        path = Path(path)
        _check_file(path)
        # The store holds a person's mail: readable by them alone from its
        # creation on, whatever the umask (SQLite gives its -wal and -shm
        # files the database file's mode). A new folder (the default one in
        # the user's data folder) is private too.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise StoreError("store.error", path=str(path), detail=str(exc)) from None
        store = cls(path, conn)
        try:
            store._prepare()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError("store.corrupt", path=str(path), detail=str(exc)) from None
        except StoreError:
            conn.close()
            raise
        return store

    def _prepare(self) -> None:
        conn = self.conn
        conn.row_factory = sqlite3.Row
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables and app_id != APPLICATION_ID:
            raise StoreError("store.foreign", path=str(self.path))
        if version > SCHEMA_VERSION:
            raise StoreError("store.newer", path=str(self.path), found=version,
                             supported=SCHEMA_VERSION)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _statements(_MIGRATIONS[step]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('created_by', 'analyzer')")
            conn.execute("COMMIT")

    def close(self) -> None:
        self._lock.release()
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Store]:
        """Hold the store's writer lock for a whole run (import, fetch)."""
        self._lock.acquire(self.path)
        # A run's inserts land at random places of the Message-ID and
        # location indexes: past some 20,000 messages SQLite's default 2 MB
        # of page cache keeps reading their pages back (5% of a 100,000
        # message import); 64 MB holds them.
        default = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        self.conn.execute(f"PRAGMA cache_size={WRITE_CACHE_KIB}")
        try:
            yield self
        finally:
            self.conn.execute(f"PRAGMA cache_size={int(default)}")
            self._lock.release()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- writing -----------------------------------------------------------

    def add_records(self, records: Sequence[Record],
                    within: Callable[[sqlite3.Connection], None] | None = None
                    ) -> tuple[int, int]:
        """Store a batch in one transaction. Returns ``(new, already_known)``.

        A message already stored (same ``message_id``) only gains the new
        location, and its raw bytes if it had none. ``within`` runs in the
        same transaction, so a source's progress is saved with the batch it
        covers (a killed run never records messages it did not store).
        """
        new = known = 0
        seen = now_iso()
        with self.transaction() as conn:
            if within is not None:
                within(conn)
            for rec in records:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO messages (message_id, synthetic_id, subject, "
                    "from_addr, from_name, to_json, cc_json, date_header, date_utc, "
                    "delivered_utc, in_reply_to, refs, auto_headers, size, problems, "
                    "first_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    rec.message_row(seen),
                )
                if cur.rowcount:
                    rowid = cur.lastrowid
                    new += 1
                else:
                    rowid = conn.execute("SELECT id FROM messages WHERE message_id = ?",
                                         (rec.message_id,)).fetchone()[0]
                    known += 1
                if rec.raw is not None:
                    _insert_body(conn, rowid, rec.raw, rec.body)
                loc = rec.location
                conn.execute(
                    "INSERT INTO locations (message_rowid, key, kind, source, path, offset, "
                    "length, folder, uid, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT(key) DO UPDATE SET path=excluded.path, "
                    "message_rowid=excluded.message_rowid, seen_at=excluded.seen_at",
                    (rowid, loc.key, loc.kind, loc.source, loc.path, loc.offset, loc.length,
                     loc.folder, loc.uid, seen),
                )
        return new, known

    def add_body(self, message_rowid: int, raw: bytes, body: ParsedBody | None) -> None:
        with self.transaction() as conn:
            _insert_body(conn, message_rowid, raw, body)

    def add_problems(self, message_rowid: int, problems: Sequence[str]) -> None:
        """Add ``problems`` (those not already there) to a stored message's list."""
        with self.transaction() as conn:
            row = conn.execute("SELECT problems FROM messages WHERE id = ?",
                               (message_rowid,)).fetchone()
            if row is None:
                return
            known = json.loads(row[0])
            added = [p for p in problems if p not in known]
            if added:
                conn.execute("UPDATE messages SET problems = ? WHERE id = ?",
                             (_dumps(known + added), message_rowid))

    def add_skipped(self, items: Iterable[tuple[str, str]]) -> None:
        seen = now_iso()
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO skipped VALUES (?,?,?) ON CONFLICT(path) DO UPDATE "
                "SET reason=excluded.reason, seen_at=excluded.seen_at",
                [(p, r, seen) for p, r in items],
            )

    def save_source(self, state: SourceState) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?,?)",
                (state.path, state.kind, state.size, state.mtime_ns, state.scanned_upto,
                 state.fingerprint, now_iso()),
            )

    def forget_source_locations(self, source: str) -> None:
        """Drop the locations of one source (an mbox rewritten in place)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM locations WHERE source = ?", (source,))

    # -- reading -----------------------------------------------------------

    def source_state(self, path: str) -> SourceState | None:
        row = self.conn.execute("SELECT path, kind, size, mtime_ns, scanned_upto, fingerprint "
                                "FROM sources WHERE path = ?", (path,)).fetchone()
        return SourceState(*row) if row else None

    def known_keys(self, source: str) -> set[str]:
        """Location keys already stored for one source."""
        rows = self.conn.execute("SELECT key FROM locations WHERE source = ?", (source,))
        return {r[0] for r in rows}

    def count_messages(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def message_rows(self) -> list[sqlite3.Row]:
        """Every message with whether its body is stored and its folders."""
        return self.conn.execute(
            "SELECT m.*, (b.message_rowid IS NOT NULL) AS has_body, "
            "(SELECT group_concat(DISTINCT folder) FROM locations l "
            " WHERE l.message_rowid = m.id) AS folders "
            "FROM messages m LEFT JOIN bodies b ON b.message_rowid = m.id ORDER BY m.id"
        ).fetchall()

    def analysis_rows(self) -> list[tuple[Any, ...]]:
        """What :meth:`analyzer.analysis.Analysis.base_messages` reads of every
        message, in the order of :meth:`message_rows`: ``(message_id,
        from_addr, from_name, to_json, cc_json, date_utc, delivered_utc,
        subject, in_reply_to, refs, synthetic_id, has_body, folders)``."""
        # Plain tuples of the columns needed: the other columns (automation
        # headers, problems) and access by name cost more than the query.
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute(
            "SELECT m.message_id, m.from_addr, m.from_name, m.to_json, m.cc_json, m.date_utc, "
            "m.delivered_utc, m.subject, m.in_reply_to, m.refs, m.synthetic_id, "
            "(b.message_rowid IS NOT NULL), "
            "(SELECT group_concat(DISTINCT folder) FROM locations l "
            " WHERE l.message_rowid = m.id) "
            "FROM messages m LEFT JOIN bodies b ON b.message_rowid = m.id ORDER BY m.id"
        ).fetchall()

    def meta(self, key: str) -> str | None:
        """A value of the store's ``meta`` table (None when unset)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def rows_without_body(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT m.id, m.from_addr, m.to_json, m.cc_json FROM messages m "
            "WHERE NOT EXISTS (SELECT 1 FROM bodies b WHERE b.message_rowid = m.id)"
        ).fetchall()

    def locations_of(self, message_rowid: int) -> list[Location]:
        rows = self.conn.execute(
            "SELECT key, kind, source, path, offset, length, folder, uid FROM locations "
            "WHERE message_rowid = ? ORDER BY id", (message_rowid,)).fetchall()
        return [Location(*r) for r in rows]

    def raw_message(self, message_id: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT b.raw FROM bodies b JOIN messages m ON m.id = b.message_rowid "
            "WHERE m.message_id = ?", (message_id,)).fetchone()
        return bytes(row[0]) if row else None

    def body_rows(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT m.message_id, b.headers_json, b.body_text, b.attachments_json, "
            "b.defects_json FROM bodies b JOIN messages m ON m.id = b.message_rowid"
        ).fetchall()

    def body_texts(self) -> dict[str, str]:
        """``{message_id: body text}`` for messages whose body is stored."""
        return dict(self.conn.execute(
            "SELECT m.message_id, b.body_text FROM bodies b JOIN messages m "
            "ON m.id = b.message_rowid"))

    def unread_header_rows(self) -> list[tuple[str, str]]:
        """``(message_id, automation headers as JSON)`` of the messages whose
        body is not stored."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT m.message_id, m.auto_headers FROM messages m WHERE NOT EXISTS "
            "(SELECT 1 FROM bodies b WHERE b.message_rowid = m.id)")]

    def skipped(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in
                self.conn.execute("SELECT path, reason FROM skipped ORDER BY path")]

    def add_correction(self, kind: str, message_a: str, message_b: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO corrections (kind, message_a, message_b, "
                         "created_at) VALUES (?,?,?,?)", (kind, message_a, message_b, now_iso()))

    def remove_correction(self, kind: str, message_a: str, message_b: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM corrections WHERE kind = ? AND ((message_a = ? AND "
                         "message_b = ?) OR (message_a = ? AND message_b = ?))",
                         (kind, message_a, message_b, message_b, message_a))

    def corrections(self) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self.conn.execute(
            "SELECT kind, message_a, message_b FROM corrections ORDER BY id")]

    # -- the saved case build ------------------------------------------------

    def generation(self) -> int:
        """How many changes ``messages``, ``bodies`` and ``corrections`` have
        seen: a saved build is valid only for the generation it was made at."""
        return int(self.meta("generation") or 0)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Read the store as of one moment: the reads inside see no write
        committed meanwhile (a read transaction; inside one already, that one)."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            self.conn.execute("COMMIT")

    def saved_build(self, key: str, at: str
                    ) -> tuple[list[tuple[str, str, str]], list[sqlite3.Row]] | None:
        """The build saved under ``key`` and valid at ``at`` (ISO UTC text):
        its columns in order, as ``(name, dtype, values as JSON)``, and its
        link rows; None when the saved one was made under another key or for
        another time."""
        with self.snapshot():
            if self.meta("build_key") != key:
                return None
            since, until = self.meta("build_valid_from"), self.meta("build_valid_until")
            if since is None or at < since or (until and at >= until):
                return None
            columns = [(r[0], r[1], r[2]) for r in self.conn.execute(
                "SELECT name, dtype, values_json FROM built_columns ORDER BY position")]
            links = self.conn.execute("SELECT * FROM built_links ORDER BY id").fetchall()
            return columns, links

    def save_build(self, key: str, generation: int, columns: Iterable[tuple[str, str, str]],
                   links: Iterable[tuple[Any, ...]], *, valid_from: str,
                   valid_until: str | None = None) -> bool:
        """Save a build made from the store as it was at ``generation``, valid
        from ``valid_from`` until ``valid_until`` (ISO UTC text; None: for good).

        Nothing is saved (False) when the store changed since (an import ran
        meanwhile), or when it cannot be written now (read-only file, a
        writer holding it past the timeout): the build is only a saving of
        time, the next command makes it again.
        """
        try:
            with self.transaction() as conn:
                if self.generation() != generation:
                    return False
                conn.execute("DELETE FROM built_columns")
                conn.execute("DELETE FROM built_links")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('build_key', '')")
                conn.executemany("INSERT INTO built_columns (name, dtype, values_json) "
                                 "VALUES (?,?,?)", columns)
                conn.executemany("INSERT INTO built_links (case_id, from_message_id, "
                                 "to_message_id, signal, params_json, detail) "
                                 "VALUES (?,?,?,?,?,?)", links)
                conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                    ("build_valid_from", valid_from), ("build_valid_until", valid_until or ""),
                    ("build_key", key)])
        except sqlite3.OperationalError:
            return False
        return True

    def check_integrity(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])


# One encoder for every row: json.dumps with options builds a new one per
# call, which costs more than encoding the small lists stored per message.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    return "[]" if isinstance(value, list) and not value else _ENCODE(value)


def _insert_body(conn: sqlite3.Connection, rowid: int | None, raw: bytes,
                 body: ParsedBody | None) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO bodies (message_rowid, headers_json, body_text, "
        "attachments_json, defects_json, raw) VALUES (?,?,?,?,?,?)",
        (rowid, _dumps(body.headers if body else {}), body.text if body else "",
         _dumps(body.attachments if body else []), _dumps(body.defects if body else []), raw),
    )


def _check_file(path: Path) -> None:
    """Refuse a file that is not an SQLite database before SQLite touches it."""
    if path.is_dir():
        raise StoreError("store.not_sqlite", path=str(path))
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError("store.error", path=str(path), detail=exc.strerror) from None
    if header and not header.startswith(_SQLITE_MAGIC):
        raise StoreError("store.not_sqlite", path=str(path))
    if header:
        _check_header(path, header, size)


def _check_header(path: Path, header: bytes, size: int) -> None:
    """Refuse an SQLite file whose header page is damaged or that is shorter
    than its header says (a copy cut short, a disk that filled up).

    SQLite itself only notices a missing page when a query reaches it, which
    may be deep into an import; these checks read 100 bytes. The layout is
    that of https://www.sqlite.org/fileformat.html#the_database_header.
    """
    if len(header) < 100:
        raise StoreError("store.corrupt", path=str(path), detail="header cut short")
    # Fields whose values the format fixes: write/read versions 1 or 2 and
    # payload fractions 64, 32, 32. Anything else is damage, not a store.
    if header[18] not in (1, 2) or header[19] not in (1, 2) or header[21:24] != b"\x40\x20\x20":
        raise StoreError("store.corrupt", path=str(path), detail="invalid header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise StoreError("store.corrupt", path=str(path), detail="invalid page size")
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid only when the change counter matches the
    # "version valid for" field (older writers did not maintain it).
    if header[24:28] == header[92:96] and size < pages * page_size:
        raise StoreError("store.truncated", path=str(path), size=size,
                         expected=pages * page_size)
