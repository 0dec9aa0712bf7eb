from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.sources import (
    Found,
    ListedDirectory,
    MboxFile,
    Skipped,
    UnchangedDirectory,
    Unit,
    is_from_line,
    read_unit,
    sniff,
    split_mbox,
    walk,
)
from tests.builders import mbox, message, write_maildir


def _summary(items: list[Found], root: Path) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for item in items:
        if isinstance(item, ListedDirectory):
            out.append(("listed", str(Path(item.path).relative_to(root)), str(item.units)))
        elif isinstance(item, Unit):
            out.append(("unit", item.kind, str(Path(item.path).relative_to(root)), item.folder))
        elif isinstance(item, MboxFile):
            out.append(("mbox", str(Path(item.path).relative_to(root)), item.folder))
        else:
            out.append(("skipped", str(Path(item.path).relative_to(root)), item.reason))
    return out


def test_walk_mixed_tree(tmp_path: Path) -> None:
    maildir = tmp_path / "Mail"
    write_maildir(maildir, {"1582103640.1.host:2,S": message()})
    write_maildir(maildir, {"1582103700.2.host:2,S": message(message_id="<m2@x>")}, "Sent")
    write_maildir(maildir, {"1582103800.3.host:2,": message(message_id="<m3@x>")}, "Archives.2020")
    mh = tmp_path / "mh" / "inbox"
    mh.mkdir(parents=True)
    (mh / ".mh_sequences").write_text("unseen: 1\n")
    (mh / "1").write_bytes(message(message_id="<mh1@x>"))
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "export").write_bytes(mbox(message(message_id="<b1@x>")))
    (loose / "note.eml").write_bytes(message(message_id="<e1@x>"))
    (loose / "README.md").write_text("# Not mail\n")
    (loose / "data.csv").write_text("a,b\n1,2\n")
    (loose / "empty.txt").write_bytes(b"")
    items = list(walk([tmp_path / "Mail", tmp_path / "mh", loose]))
    assert _summary(items, tmp_path) == [
        ("listed", "Mail/new", "0"),
        ("unit", "maildir", "Mail/cur/1582103640.1.host:2,S", "INBOX"),
        ("listed", "Mail/cur", "1"),
        ("listed", "Mail/.Archives.2020/new", "0"),
        ("unit", "maildir", "Mail/.Archives.2020/cur/1582103800.3.host:2,", "Archives/2020"),
        ("listed", "Mail/.Archives.2020/cur", "1"),
        ("listed", "Mail/.Sent/new", "0"),
        ("unit", "maildir", "Mail/.Sent/cur/1582103700.2.host:2,S", "Sent"),
        ("listed", "Mail/.Sent/cur", "1"),
        ("unit", "mh", "mh/inbox/1", "mh/inbox"),
        ("skipped", "loose/README.md", "not_message"),
        ("skipped", "loose/data.csv", "not_message"),
        ("skipped", "loose/empty.txt", "empty"),
        ("mbox", "loose/export", "export"),
        ("unit", "file", "loose/note.eml", "loose"),
    ]
    first = items[1]
    assert isinstance(first, Unit)
    assert first.delivered_hint == "2020-02-19T09:14:00Z"
    assert first.key.endswith("Mail/1582103640.1.host")


def test_maildir_key_survives_flag_change(tmp_path: Path) -> None:
    write_maildir(tmp_path, {"1582103640.1.host:2,": message()})
    (key_before,) = [u.key for u in walk([tmp_path]) if isinstance(u, Unit)]
    (tmp_path / "cur" / "1582103640.1.host:2,").rename(tmp_path / "cur" / "1582103640.1.host:2,RS")
    (key_after,) = [u.key for u in walk([tmp_path]) if isinstance(u, Unit)]
    assert key_before == key_after


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"From MAILER-DAEMON Sun Aug  7 11:40:37 2022", True),
        (b"From - Mon Jun  3 12:50:27 1996", True),
        (b"From -", True),
        (b"From julie@exemple-perso.fr  Wed Feb 19 10:14:00 2020", True),
        (b"From time to time", False),
        (b"From Russia with love", False),
        (b"From: someone@x", False),
        (b">From julie Wed Feb 19 10:14:00 2020", False),
    ],
)
def test_is_from_line(line: bytes, expected: bool) -> None:
    assert is_from_line(line) is expected


def test_split_mbox_keeps_body_from_lines(tmp_path: Path) -> None:
    body = "Bonjour,\n\nFrom time to time I write.\nFrom Russia with love\nYear: 1963\n"
    data = mbox(message(message_id="<a@x>"), message(message_id="<b@x>", body=body))
    data = data.replace(b">From Russia", b"From Russia").replace(b">From time", b"From time")
    path = tmp_path / "box"
    path.write_bytes(b"\xef\xbb\xbf" + data)
    units = list(split_mbox(str(path), "box"))
    assert [u.delivered_hint for u in units] == ["2020-02-19T10:14:00Z"] * 2
    raws = [read_unit(u) for u in units]
    assert raws[0].startswith(b"From: Julie")
    assert b"Message-ID: <a@x>" in raws[0]
    assert raws[1].endswith(b"From Russia with love\nYear: 1963\n")


def test_split_mbox_from_offset(tmp_path: Path) -> None:
    path = tmp_path / "box"
    first = mbox(message(message_id="<a@x>"))
    path.write_bytes(first + mbox(message(message_id="<b@x>")))
    units = list(split_mbox(str(path), "box", start=len(first)))
    assert len(units) == 1
    assert b"<b@x>" in read_unit(units[0])


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xef\xbb\xbfFrom -\nFrom: a@b\n", "mbox"),
        (b"Return-Path: <>\nX-Foo: 1\n\nbody", "message"),
        (b"thread:0001 2009-11-18 [4/4] x\n", "other"),
        (b"# README\n", "other"),
        (b"a,b,c\n1,2,3\n", "other"),
    ],
)
def test_sniff(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


def test_walk_leaves_known_maildir_directories_unlisted(tmp_path: Path) -> None:
    write_maildir(tmp_path / "Mail", {"1.host:2,S": message()})
    cur = tmp_path / "Mail" / "cur"
    asked: list[tuple[str, int]] = []

    def known(directory: str, mtime_ns: int) -> int | None:
        asked.append((directory, mtime_ns))
        return 1 if directory == str(cur) else None

    items = list(walk([tmp_path / "Mail"], known))
    assert asked == [(str(tmp_path / "Mail" / d), (tmp_path / "Mail" / d).stat().st_mtime_ns)
                     for d in ("new", "cur")]
    assert items == [ListedDirectory(str(tmp_path / "Mail" / "new"), str(tmp_path / "Mail"),
                                     (tmp_path / "Mail" / "new").stat().st_mtime_ns, 0, True),
                     UnchangedDirectory(str(cur), str(tmp_path / "Mail"), 1)]
    # A dot file in a listed directory makes it unclean: it is reported again next time.
    (cur / ".hidden").write_bytes(b"x")
    listed = [i for i in walk([tmp_path / "Mail"]) if isinstance(i, ListedDirectory | Skipped)]
    assert [(type(i).__name__, Path(i.path).name) for i in listed] == [
        ("ListedDirectory", "new"), ("Skipped", ".hidden"), ("ListedDirectory", "cur")]
    assert [i.clean for i in listed if isinstance(i, ListedDirectory)] == [True, False]
