"""Local mail sources: find the messages under the paths a user gives.

Understands mbox files (recognised by content, not name), Maildir and
Maildir++ folders (``cur``/``new``, sub-folders such as ``.Sent``), MH folders,
plain directories of message files and Outlook files (``.msg``, ``.pst``/``.ost``,
read by :mod:`analyzer.outlook`), walked recursively in any mix. Files that are
not messages (READMEs, CSV, XML, images) are reported as skipped.

Every message found is a :class:`Unit`: where to read it and the stable
``key`` that tells the store whether it was already imported.
"""

from __future__ import annotations

import mmap
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analyzer.parse import STORED_TIME

BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 4096
# Recognised here, read by analyzer.outlook: walking a folder never imports
# the Outlook readers.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PST_MAGIC = b"!BDN"

# A From_ line: "From " + sender, then nothing or something holding a time or
# a year. Requiring that shape keeps body lines such as "From time to time"
# from being taken for separators in unquoted ("mboxo") files.
_FROM_LINE = re.compile(rb"From (\S+)(?:[ \t]+(.*))?$")
_DATE_HINT = re.compile(rb"\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_KNOWN_HEADERS = re.compile(
    rb"^(?:from|to|cc|subject|date|message-id|received|return-path|mime-version|"
    rb"content-type|delivered-to|x-[!-9;-~]*|reply-to|in-reply-to|references|sender|"
    rb"newsgroups|path|article)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_FROM_DATE = re.compile(
    rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(\w{3}) +(\d{1,2}) +(\d{1,2}:\d{2}(?::\d{2})?) +(\d{4})"
)
MESSAGE_SUFFIXES = frozenset({".eml", ".msg", ".mbox", ".mbx", ".mail"})
_SKIPPED_DIRS = frozenset({".notmuch", ".git", "__pycache__", "tmp"})


@dataclass(frozen=True, slots=True)
class Unit:
    """One message to read: a whole file, or a byte range of an mbox.

    An Outlook ``.msg`` file (kind ``msg``) is read whole and converted; an
    item of a ``.pst``/``.ost`` archive (kind ``pst``) has its identifier in
    the archive as ``offset``.
    """

    kind: str  # "maildir" | "mh" | "file" | "mbox" | "msg" | "pst"
    source: str
    path: str
    key: str
    folder: str
    offset: int = 0
    length: int = -1
    delivered_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str  # a catalogue key under import.reason


@dataclass(frozen=True, slots=True)
class MboxFile:
    path: str
    folder: str


@dataclass(frozen=True, slots=True)
class PstFile:
    """An Outlook archive, whose items :func:`analyzer.outlook.pst_units` lists."""

    path: str


@dataclass(frozen=True, slots=True)
class ListedDirectory:
    """A Maildir ``new`` or ``cur`` directory that was listed: its modification
    time (read before the listing) and how many message units it gave."""

    path: str
    source: str
    mtime_ns: int
    units: int
    clean: bool  # no entry in it was skipped


@dataclass(frozen=True, slots=True)
class UnchangedDirectory:
    """A Maildir directory left unlisted because the caller knew it unchanged."""

    path: str
    source: str
    units: int


# Asked by walk() about each Maildir new/ and cur/ directory, with its
# modification time: the number of message units it held when last listed
# at that time, or None to list it.
KnownDirectory = Callable[[str, int], "int | None"]

# What walking the paths finds.
Found = Unit | Skipped | MboxFile | PstFile | ListedDirectory | UnchangedDirectory


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is: ``mbox``, ``message``,
    ``ole`` (a compound file, as Outlook ``.msg`` files are), ``pst`` (an
    Outlook archive), ``empty`` or ``other``.

    >>> sniff(b"From MAILER-DAEMON Sun Aug  7 11:40:37 2022\\nFrom: a@b\\n")
    'mbox'
    >>> sniff(b"Received: from x\\nSubject: hi\\n\\nbody")
    'message'
    >>> sniff(b"thread:0001  2009-11-18 [4/4] Carl Worth; hello")
    'other'
    >>> sniff(OLE_MAGIC + bytes(8)), sniff(PST_MAGIC + bytes(8))
    ('ole', 'pst')
    """
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(PST_MAGIC):
        return "pst"
    head = _without_bom(head)
    if not head.strip():
        return "empty"
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if is_from_line(first):
        return "mbox"
    if _HEADER_LINE.match(first):
        block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
        if _KNOWN_HEADERS.search(block):
            return "message"
    return "other"


def is_from_line(line: bytes) -> bool:
    """True for an mbox separator line.

    >>> is_from_line(b"From - Mon Jun  3 12:50:27 1996"), is_from_line(b"From -")
    (True, True)
    >>> is_from_line(b"From time to time"), is_from_line(b"From Russia with love")
    (False, False)
    """
    found = _FROM_LINE.match(line.rstrip(b"\r"))
    if found is None:
        return False
    rest = found.group(2)
    return not rest or not rest.strip() or bool(_DATE_HINT.search(rest))


def from_line_date(line: bytes) -> str | None:
    """The delivery time written on a From_ line, as ISO UTC.

    >>> from_line_date(b"From MAILER-DAEMON Sun Aug  7 11:40:37 2022")
    '2022-08-07T11:40:37Z'
    """
    found = _FROM_DATE.search(line)
    if not found:
        return None
    _, month, day, clock, year = (g.decode() for g in found.groups())
    if clock.count(":") == 1:
        clock += ":00"
    try:
        moment = datetime.strptime(f"{day} {month} {year} {clock}", "%d %b %Y %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).strftime(STORED_TIME)


def _maildir_hint(name: str) -> str | None:
    stamp = name.split(".", 1)[0]
    if stamp.isdigit() and 9 <= len(stamp) <= 11:
        # time.gmtime rather than datetime: this runs for every file listed,
        # and is three times cheaper.
        return time.strftime(STORED_TIME, time.gmtime(int(stamp)))
    return None


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _maildir_units(maildir: Path, folder: str, known: KnownDirectory | None
                   ) -> Iterator[Found]:
    for sub in ("new", "cur"):
        directory = maildir / sub
        try:
            # Before the listing: a file added while listing then changes the
            # time after the one recorded, and the next run lists again.
            mtime_ns = os.stat(directory).st_mtime_ns
        except FileNotFoundError:
            continue
        # Maildir files never change in place: delivering, moving, renaming
        # (a flag) or deleting one changes its directory's modification time,
        # so a directory with the time of its last listing holds the same
        # messages (notmuch's test for new mail, which spares reading 10^5
        # directory entries on every run).
        units = known(str(directory), mtime_ns) if known is not None else None
        if units is not None:
            yield UnchangedDirectory(str(directory), str(maildir), units)
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        count, clean = 0, True
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.name.startswith("."):
                clean = False
                yield Skipped(entry.path, "not_message")
                continue
            # The part before ":2," stays when a client changes flags or moves
            # the file from new/ to cur/; it is what identifies the message.
            unique = entry.name.split(":", 1)[0].split("!", 1)[0]
            count += 1
            yield Unit("maildir", str(maildir), entry.path, f"maildir:{maildir}/{unique}",
                       folder, delivered_hint=_maildir_hint(entry.name))
        yield ListedDirectory(str(directory), str(maildir), mtime_ns, count, clean)


def walk(paths: list[Path], known: KnownDirectory | None = None) -> Iterator[Found]:
    """Everything found under ``paths``: message units, mbox files to split
    (with :func:`split_mbox`), Outlook archives to list and skipped files.

    With ``known``, a Maildir ``new``/``cur`` directory it recognises is not
    listed (an :class:`UnchangedDirectory` instead of its units); each one
    listed ends with a :class:`ListedDirectory`.
    """
    for root in paths:
        root = root.resolve()
        if root.is_file():
            yield from _file(root, root.parent, _folder_name(root))
        elif is_maildir(root):
            yield from _maildir_tree(root, "INBOX", known)
        elif root.is_dir():
            yield from _directory(root, root, root.name, known)


def _folder_name(path: Path) -> str:
    name = path.name
    for suffix in (".mbox", ".mbx", ".txt"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _maildir_tree(maildir: Path, folder: str, known: KnownDirectory | None) -> Iterator[Found]:
    yield from _maildir_units(maildir, folder, known)
    for entry in sorted(maildir.iterdir()):
        if entry.is_file() and not entry.name.startswith("."):
            # Loose files beside cur/ and new/ (notmuch's own test layout,
            # hand-made folders) are read like any directory's files.
            yield from _file(entry, maildir, folder)
            continue
        if entry.name in ("cur", "new", "tmp") or not entry.is_dir():
            continue
        if entry.name.startswith(".") and entry.name not in _SKIPPED_DIRS and is_maildir(entry):
            # Maildir++: ".Sent" is the folder "Sent", ".A.B" is "A/B".
            yield from _maildir_units(entry, entry.name[1:].replace(".", "/"), known)
        elif not entry.name.startswith("."):
            yield from _directory(entry, maildir, f"{folder}/{entry.name}", known)


def _directory(directory: Path, root: Path, folder: str, known: KnownDirectory | None
               ) -> Iterator[Found]:
    if is_maildir(directory):
        yield from _maildir_tree(directory, folder, known)
        return
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        yield Skipped(str(directory), "unreadable")
        return
    is_mh = (directory / ".mh_sequences").exists()
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in _SKIPPED_DIRS and not entry.name.startswith("."):
                yield from _directory(path, root, f"{folder}/{entry.name}", known)
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        if entry.name.startswith("."):
            if entry.name != ".mh_sequences":
                yield Skipped(entry.path, "not_message")
            continue
        if is_mh and entry.name.isdigit():
            yield Unit("mh", str(directory), entry.path, f"file:{entry.path}", folder)
            continue
        yield from _file(path, directory, folder)


def _file(path: Path, directory: Path, folder: str) -> Iterator[Found]:
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        yield Skipped(str(path), "unreadable")
        return
    kind = sniff(head)
    if kind == "mbox":
        yield MboxFile(str(path), _folder_name(path) if path.parent == directory else folder)
    elif kind == "pst":
        yield PstFile(str(path))
    elif kind == "ole" and path.suffix.lower() == ".msg":
        # Only the compound-file magic routes a .msg to the Outlook reader:
        # plain-text .msg files (mime4j's test messages) stay "message" files.
        yield Unit("msg", str(directory), str(path), f"file:{path}", folder)
    elif kind == "message" or (kind == "other" and path.suffix.lower() in MESSAGE_SUFFIXES):
        yield Unit("file", str(directory), str(path), f"file:{path}", folder)
    else:
        yield Skipped(str(path), "empty" if kind == "empty" else "not_message")


def split_mbox(path: str, folder: str, start: int = 0) -> Iterator[Unit]:
    """The messages of an mbox file from byte ``start`` (a separator's offset).

    A separator is a From_ line (see :func:`is_from_line`) followed by a
    header line. Each unit's range covers the message without its From_ line;
    non-blank bytes before the first separator form a unit of their own
    (starting where they start), so that every byte of the file from
    ``start`` belongs to exactly one unit or one separator line.
    """
    size = os.path.getsize(path)
    if size <= start:
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        starts = [s for s in _separators(mm, start)]
        # Bytes before the first separator (a file whose first From_ line is
        # not followed by a header, data appended without a From_ line) are
        # still mail someone kept: yield them as a unit of their own, so they
        # are stored (raw, and reported when they have no header) rather than
        # silently dropped. A blank preamble is nothing.
        begin = start + 3 if start == 0 and mm[:3] == BOM else start
        first = starts[0] if starts else size
        if mm[begin:first].strip():
            yield Unit("mbox", path, path, f"mbox:{path}#{begin}", folder, offset=begin,
                       length=first - begin, delivered_hint=from_line_date(
                           mm[begin:max(begin, mm.find(b"\n", begin, first))]))
        for i, sep in enumerate(starts):
            line_end = mm.find(b"\n", sep)
            body_start = size if line_end < 0 else line_end + 1
            end = starts[i + 1] if i + 1 < len(starts) else size
            hint = from_line_date(mm[sep:body_start])
            yield Unit("mbox", path, path, f"mbox:{path}#{sep}", folder,
                       offset=body_start, length=max(0, end - body_start),
                       delivered_hint=hint)


def _separators(mm: mmap.mmap, start: int) -> Iterator[int]:
    size = len(mm)
    pos = start
    if start == 0 and mm[:3] == BOM:
        pos = 3
    if _is_separator_at(mm, pos, size):
        yield pos
    while True:
        found = mm.find(b"\nFrom ", pos)
        if found < 0:
            return
        candidate = found + 1
        pos = candidate
        # No blank line is required before a separator: mboxes written with
        # Content-Length (Netscape, Solaris) put From_ right after the body.
        if _is_separator_at(mm, candidate, size):
            yield candidate


def _is_separator_at(mm: mmap.mmap, pos: int, size: int) -> bool:
    line_end = mm.find(b"\n", pos)
    line = mm[pos: size if line_end < 0 else line_end]
    if not is_from_line(line):
        return False
    if line_end < 0:
        return False
    next_end = mm.find(b"\n", line_end + 1)
    following = mm[line_end + 1: size if next_end < 0 else next_end]
    return bool(_HEADER_LINE.match(following))


def read_unit(unit: Unit) -> bytes:
    """The raw bytes of one unit (without an mbox From_ line); Outlook items
    as the RFC 822 bytes :mod:`analyzer.outlook` makes of them."""
    if unit.kind == "msg":
        from analyzer.outlook import msg_to_rfc822

        return msg_to_rfc822(unit.path)
    if unit.kind == "pst":
        from analyzer.outlook import read_pst_unit

        return read_pst_unit(unit.path, unit.offset)
    with open(unit.path, "rb") as fh:
        if unit.length >= 0:
            fh.seek(unit.offset)
            data = fh.read(unit.length)
        else:
            data = fh.read()
    return _as_read(unit, data)


def _without_bom(data: bytes) -> bytes:
    return data[len(BOM):] if data.startswith(BOM) else data


def _as_read(unit: Unit, data: bytes) -> bytes:
    """A whole unit's bytes as :func:`read_unit` gives them: no byte-order
    mark, and an mbox unit ending with a single line end."""
    data = _without_bom(data)
    return data.rstrip(b"\r\n") + b"\n" if unit.kind == "mbox" else data


def read_unit_head(unit: Unit, limit: int) -> tuple[bytes, bool]:
    """At most the first ``limit`` bytes of a unit, and whether that is the
    whole message as :func:`read_unit` gives it.

    Mail that involves no counterpart is only read for its headers: a
    newsletter's HTML or a photo attachment need not be read at all.
    Outlook items are converted whole.
    """
    if unit.kind in ("msg", "pst"):
        return read_unit(unit), True
    want = limit + len(BOM) + 1
    if unit.length >= 0:
        want = min(want, unit.length)
    with open(unit.path, "rb") as fh:
        fh.seek(unit.offset)
        data = fh.read(want)
    # Whole when the range was read to its end (an mbox unit) or to the end
    # of the file.
    whole = len(data) == unit.length if unit.length >= 0 else len(data) < want
    if not whole:
        return _without_bom(data)[:limit], False
    return _as_read(unit, data), True


def unit_size(unit: Unit) -> int:
    """The size of the message :func:`read_unit` gives, without reading it
    (an mbox unit's last bytes are read for the line ends it drops)."""
    if unit.kind in ("msg", "pst"):
        return len(read_unit(unit))
    with open(unit.path, "rb") as fh:
        fh.seek(unit.offset)
        bom = len(BOM) if fh.read(len(BOM)) == BOM else 0
        if unit.length < 0:
            return os.fstat(fh.fileno()).st_size - unit.offset - bom
        if unit.kind != "mbox":
            return unit.length - bom
        tail_start = max(unit.offset + bom, unit.offset + unit.length - 4096)
        fh.seek(tail_start)
        tail = fh.read(unit.offset + unit.length - tail_start)
        kept = len(tail.rstrip(b"\r\n"))
    if kept == 0:  # line ends all the way through the tail: count them all
        return len(read_unit(unit))
    return tail_start - unit.offset - bom + kept + 1


def mbox_fingerprint(path: str, upto: int) -> str:
    """A cheap identity of an mbox's first ``upto`` bytes: its first and last 4 KiB.

    Lets an appended-to mbox be scanned from where the last run stopped, and a
    rewritten one be rescanned from the start.
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(min(upto, 4096)))
        fh.seek(max(0, upto - 4096))
        digest.update(fh.read(min(upto, 4096)))
    return f"{upto}:{digest.hexdigest()[:32]}"
