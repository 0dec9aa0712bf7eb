"""Import local sources into the store.

Headers of every message are parsed by the lean pass (both cores through a
process pool on large imports); raw bytes and the full parse are kept only for
messages exchanged with a counterpart and for broken ones. Batches are
committed one transaction at a time, so a killed import leaves a consistent
store and the next run picks up where it stopped: units whose location key is
already stored are not read again.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from analyzer import forking, outlook
from analyzer.config import Config
from analyzer.errors import SourceError
from analyzer.parse import (
    LIMIT,
    ParsedBody,
    ParsedHeaders,
    parse_body,
    parse_headers,
    split_header_block,
)
from analyzer.parties import PartyClassifier
from analyzer.sources import (
    ListedDirectory,
    MboxFile,
    PstFile,
    Skipped,
    UnchangedDirectory,
    Unit,
    mbox_fingerprint,
    read_unit,
    read_unit_head,
    split_mbox,
    unit_size,
    walk,
)
from analyzer.store import (
    Location,
    Record,
    SourceState,
    Store,
    close_inherited_locks,
    message_row,
)

BATCH = 256
# What is read of a message first; its headers almost always end within it.
HEAD_BYTES = 64 * 1024
POOL_THRESHOLD = 400  # below this, starting worker processes costs more than it saves

ProgressCallback = Callable[[int, int], None]


@dataclass
class ImportSummary:
    """What an import did; ``broken`` and ``skipped`` list ``(path, reason)``."""

    read: int = 0
    new: int = 0
    duplicates: int = 0
    unchanged: int = 0
    relevant: int = 0
    sources: int = 0
    unchanged_sources: int = 0
    refreshed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    broken: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(slots=True)
class _Outcome:
    record: Record
    relevant: bool
    broken: str | None


class _Sent(NamedTuple):
    """An outcome as a pool worker sends it to the importing process.

    Plain values: unpickling the outcome's dataclasses, and the parsed
    headers its ``row`` already holds, cost the importing process more than
    storing the messages (about a second per 20,000).
    """

    location: tuple[Any, ...]
    row: tuple[Any, ...]
    raw: bytes | None
    body: tuple[str, dict[str, str], list[dict[str, Any]], list[str]] | None
    relevant: bool
    broken: str | None


def _send(outcome: _Outcome) -> _Sent:
    record, loc, body = outcome.record, outcome.record.location, outcome.record.body
    assert record.row is not None
    return _Sent((loc.key, loc.kind, loc.source, loc.path, loc.offset, loc.length, loc.folder,
                  loc.uid), record.row, record.raw,
                 None if body is None else (body.text, body.headers, body.attachments,
                                            body.defects),
                 outcome.relevant, outcome.broken)


def _received(sent: _Sent) -> _Outcome:
    body = None if sent.body is None else ParsedBody(*sent.body)
    return _Outcome(Record(Location(*sent.location), None, sent.raw, body, sent.row),
                    sent.relevant, sent.broken)


# Each worker process classifies with the same config; it is set once per
# process by the pool initializer rather than pickled with every batch.
_worker_classifier: PartyClassifier | None = None


def _init_worker(config: Config) -> None:
    global _worker_classifier
    _worker_classifier = PartyClassifier(config)


def _init_pool_worker(config: Config) -> None:
    close_inherited_locks()
    _die_with_parent()
    _init_worker(config)


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the importing process dies, so a
    killed import leaves no orphan process behind."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _broken_reason(headers: ParsedHeaders) -> str | None:
    if not headers.has_headers:
        return "no header"
    return None


def _verdict(headers: ParsedHeaders, classifier: PartyClassifier) -> tuple[bool, bool]:
    """Whether a message involves a counterpart, and whether its raw bytes
    and full parse are stored: mail with a counterpart, and any message with
    a problem (kept to be reported)."""
    relevant = classifier.involves_counterpart(headers.from_addr, headers.recipients())
    return relevant, relevant or _broken_reason(headers) is not None or bool(headers.problems)


def _process(units: Sequence[Unit]) -> list[_Outcome | Skipped]:
    classifier = _worker_classifier
    assert classifier is not None
    out: list[_Outcome | Skipped] = []
    for unit in units:
        try:
            raw, whole = read_unit_head(unit, HEAD_BYTES)
            headers = parse_headers(raw, unit.delivered_hint)
            relevant, keep = _verdict(headers, classifier)
            if not whole and (keep or headers.synthetic_id
                              or split_header_block(raw)[1] >= len(raw)):
                # Kept whole, or named by a digest of its body, or with
                # headers longer than the head: read it all and parse again.
                raw, whole = read_unit(unit), True
                headers = parse_headers(raw, unit.delivered_hint)
                relevant, keep = _verdict(headers, classifier)
            if not whole:
                headers.size = unit_size(unit)
        except OSError:
            out.append(Skipped(unit.path, "unreadable"))
            continue
        broken = _broken_reason(headers)
        body = parse_body(raw) if keep else None
        unparsable = body is not None and any(d.startswith("unparsable") for d in body.defects)
        if unparsable and broken is None and body is not None:
            broken = body.defects[0]
        if body is not None:
            # The full parse refused a message beyond its bounds (parse.LIMIT):
            # say so among the message's problems, where every reader of the
            # store sees it, not only in the body's defects.
            headers.problems.extend(d for d in body.limits if d not in headers.problems)
        if broken is None:
            # A message cut or not fully parsed because of its size or shape
            # is reported like an unreadable one: stored raw, listed.
            broken = next((p for p in headers.problems if p.startswith(LIMIT)), None)
        location = Location(unit.key, unit.kind, unit.source, unit.path, unit.offset,
                            unit.length, unit.folder)
        out.append(_Outcome(Record(location, headers, raw if keep else None, body,
                                   message_row(headers, "")), relevant, broken))
    return out


def _process_in_pool(units: Sequence[Unit]) -> list[_Sent | Skipped]:
    return [_send(o) if isinstance(o, _Outcome) else o for o in _process(units)]


def _batches(units: Iterable[Unit], size: int = BATCH) -> Iterator[list[Unit]]:
    batch: list[Unit] = []
    for unit in units:
        batch.append(unit)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# The ``sources`` rows of Maildir new/ and cur/ directories: ``size`` holds the
# number of message units listed, ``mtime_ns`` the directory's time then.
MAILDIR_DIRECTORY = "maildir-dir"
_SETTLED_NS = 2_000_000_000


def _plan(store: Store, paths: Sequence[Path], summary: ImportSummary
          ) -> tuple[list[Unit], list[SourceState]]:
    """The units not yet stored, and the source states (mbox files, Outlook
    archives, Maildir directories) to save once they are."""
    todo: list[Unit] = []
    states: list[SourceState] = []
    known_by_source: dict[str, set[str]] = {}
    sources_seen: set[str] = set()
    unchanged_sources: set[str] = set()
    # Maildirs with a directory left unlisted, and with one listed.
    unchanged_maildirs: set[str] = set()
    listed_maildirs: set[str] = set()

    def known(source: str) -> set[str]:
        if source not in known_by_source:
            known_by_source[source] = store.known_keys(source)
        return known_by_source[source]

    listing_started = time.time_ns()

    def known_directory(directory: str, mtime_ns: int) -> int | None:
        state = store.source_state(directory)
        if state is None or state.kind != MAILDIR_DIRECTORY or state.mtime_ns != mtime_ns:
            return None
        return state.size

    for item in walk(list(paths), known_directory):
        if isinstance(item, Skipped):
            summary.skipped.append((item.path, item.reason))
        elif isinstance(item, UnchangedDirectory):
            if item.units:
                sources_seen.add(item.source)
                unchanged_maildirs.add(item.source)
            summary.unchanged += item.units
        elif isinstance(item, ListedDirectory):
            listed_maildirs.add(item.source)
            # A directory changed within the last moments may change again
            # within the same tick of its clock, unseen: list it again next
            # time rather than trust its time (as notmuch does).
            if item.clean and item.mtime_ns < listing_started - _SETTLED_NS:
                states.append(SourceState(item.path, MAILDIR_DIRECTORY, item.units,
                                          item.mtime_ns, 0, ""))
        elif isinstance(item, MboxFile):
            sources_seen.add(item.path)
            st = os.stat(item.path)
            previous = store.source_state(item.path)
            start = 0
            if previous is not None:
                same_prefix = (st.st_size >= previous.scanned_upto and
                               mbox_fingerprint(item.path, previous.scanned_upto)
                               == previous.fingerprint)
                if same_prefix and st.st_size == previous.scanned_upto:
                    unchanged_sources.add(item.path)
                    summary.unchanged += len(known(item.path))
                    continue
                if same_prefix:
                    start = previous.scanned_upto
                    summary.unchanged += len(known(item.path))
                else:
                    # Rewritten in place (compacted, edited): offsets changed.
                    store.forget_source_locations(item.path)
                    known_by_source.pop(item.path, None)
            seen = known(item.path)
            for unit in split_mbox(item.path, item.folder, start):
                if unit.key in seen:
                    summary.unchanged += 1
                else:
                    todo.append(unit)
            states.append(SourceState(item.path, "mbox", st.st_size, st.st_mtime_ns,
                                      st.st_size, mbox_fingerprint(item.path, st.st_size)))
        elif isinstance(item, PstFile):
            sources_seen.add(item.path)
            st = os.stat(item.path)
            state = SourceState(item.path, "pst", st.st_size, st.st_mtime_ns, st.st_size,
                                mbox_fingerprint(item.path, st.st_size))
            if store.source_state(item.path) == state:
                # Not even opened: an unchanged archive needs no extra.
                unchanged_sources.add(item.path)
                summary.unchanged += len(known(item.path))
            elif _plan_pst(item.path, known(item.path), todo, summary):
                states.append(state)
        else:
            sources_seen.add(item.source)
            if item.key in known(item.source):
                summary.unchanged += 1
            else:
                if item.kind == "msg":
                    outlook.require("msg", item.path)
                todo.append(item)
    summary.sources = len(sources_seen)
    summary.unchanged_sources = len(unchanged_sources | (unchanged_maildirs - listed_maildirs))
    return todo, states


def _plan_pst(path: str, seen: set[str], todo: list[Unit], summary: ImportSummary) -> bool:
    """Add an Outlook archive's items not yet stored to ``todo``; False when
    the archive cannot be opened (it is then listed as skipped)."""
    outlook.require("pst", path)
    try:
        units = list(outlook.pst_units(path))
    except OSError:
        summary.skipped.append((path, "unreadable"))
        return False
    for unit in units:
        if unit.key in seen:
            summary.unchanged += 1
        else:
            todo.append(unit)
    return True


def import_paths(
    store: Store,
    paths: Sequence[Path],
    config: Config,
    *,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
) -> ImportSummary:
    """Import mbox files, Maildir/Maildir++/MH folders, message files and
    Outlook ``.msg``/``.pst``/``.ost`` files.

    Re-importing an unchanged source reads nothing and adds nothing. Raises
    :class:`SourceError` only when a path given does not exist, and
    :class:`MissingExtraError` (before storing anything) when an Outlook file
    needs an extra that is not installed; problems with single files and
    messages are reported in the summary.
    """
    started = time.perf_counter()
    for path in paths:
        if not path.exists():
            raise SourceError("source.not_found", path=str(path))
    summary = ImportSummary()
    with store.writing():
        started_empty = store.count_messages() == 0
        todo, states = _plan(store, paths, summary)
        total = len(todo)
        if progress:
            progress(0, total)
        done = 0
        for outcomes in _run(todo, config, workers):
            records: list[Record] = []
            for outcome in outcomes:
                if isinstance(outcome, Skipped):
                    summary.skipped.append((outcome.path, outcome.reason))
                    continue
                records.append(outcome.record)
                if outcome.broken:
                    summary.broken.append((outcome.record.location.path, outcome.broken))
            new_ids = _new_relevant(store, outcomes)
            new, dup = store.add_records(records)
            summary.new += new
            summary.duplicates += dup
            summary.relevant += new_ids
            summary.read += len(records)
            done += len(outcomes)
            if progress:
                progress(done, total)
        # A directory one of whose files could not be read is listed again
        # next time, so the file is tried again.
        failed = {os.path.dirname(path) for path, _ in summary.skipped}
        for state in states:
            if state.kind != MAILDIR_DIRECTORY or state.path not in failed:
                store.save_source(state)
        if summary.skipped:
            store.add_skipped(summary.skipped)
        if started_empty:
            # Every message is stored by this import, with the bodies this
            # config asks for: nothing to complete, and the scan of every
            # message for it would cost a third of a second per 20,000.
            store.set_meta(_BODIES_FOR, config.fingerprint())
        else:
            summary.refreshed = refresh_bodies(store, config)
    summary.seconds = time.perf_counter() - started
    return summary


def _new_relevant(store: Store, outcomes: Sequence[_Outcome | Skipped]) -> int:
    ids = [o.record.message_id for o in outcomes
           if isinstance(o, _Outcome) and o.relevant]
    if not ids:
        return 0
    marks = ",".join("?" * len(ids))
    existing = store.conn.execute(
        f"SELECT count(*) FROM messages WHERE message_id IN ({marks})", ids).fetchone()[0]
    return len(set(ids)) - int(existing)


def _run(units: list[Unit], config: Config, workers: int | None
         ) -> Iterator[list[_Outcome | Skipped]]:
    count = workers if workers is not None else min(2, os.cpu_count() or 1)
    if count <= 1 or len(units) < POOL_THRESHOLD:
        _init_worker(config)
        for batch in _batches(units):
            yield _process(batch)
        return
    ctx = multiprocessing.get_context(forking.start_method())
    with ctx.Pool(count, initializer=_init_pool_worker, initargs=(config,)) as pool:
        for sent in pool.imap(_process_in_pool, _batches(units)):
            yield [_received(s) if isinstance(s, _Sent) else s for s in sent]


# The store's meta key naming the config whose counterparts' bodies are all stored.
_BODIES_FOR = "bodies_complete_for"


def refresh_bodies(store: Store, config: Config) -> int:
    """Read again, from where they were seen, the messages that involve a
    counterpart but whose raw bytes are not stored (the config gained a
    counterpart since they were imported). Returns how many were completed.
    """
    # Every import stores the bodies its config asks for, so the store only
    # lacks some after the watched addresses changed: remember for which
    # config the bodies are complete, and skip the scan of every message
    # (a second on a large mailbox) while it stays the same.
    fingerprint = config.fingerprint()
    if store.meta(_BODIES_FOR) == fingerprint:
        return 0
    classifier = PartyClassifier(config)
    done = 0
    complete = True
    for row in store.rows_without_body():
        recipients = [a for _, a in json.loads(row["to_json"])]
        recipients += [a for _, a in json.loads(row["cc_json"])]
        if not classifier.involves_counterpart(row["from_addr"], recipients):
            continue
        for loc in store.locations_of(row["id"]):
            if loc.kind == "imap":
                # Read again by the next fetch, which searches anew when the
                # counterparts change; a folder name is not a local file.
                continue
            unit = Unit(loc.kind, loc.source, loc.path, loc.key, loc.folder, loc.offset,
                        loc.length)
            try:
                raw = read_unit(unit)
            except OSError:
                complete = False
                continue
            body = parse_body(raw)
            store.add_body(row["id"], raw, body)
            # As at import: a full parse refused for the message's size or
            # shape is recorded among its problems.
            if body.limits:
                store.add_problems(row["id"], body.limits)
            done += 1
            break
    if complete:
        store.set_meta(_BODIES_FOR, fingerprint)
    return done
