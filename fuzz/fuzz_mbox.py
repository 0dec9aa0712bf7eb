"""Fuzz mbox splitting and sniffing.

``python fuzz/fuzz_mbox.py -atheris_runs=1000000``

Each input is written to a file and split. Invariants: nothing raises; the
units tile the file: from the first byte (after a BOM) every byte belongs to
exactly one unit or to the From_ line in front of it, units come in order and
never overlap; every unit reads back; the sniffer names every input.
"""

from __future__ import annotations

import os
import tempfile

import _common

from analyzer.sources import BOM, read_unit, sniff, split_mbox

_PATHS: list[str] = []  # the one scratch file, made on first use
_SEEDS = (b"From a@b Mon Jan  1 00:00:00 2024\n", b"From: x@y\n", b"Subject: s\n", b"\n",
          b"From time to time\n", b">From a@b 2020\n", b"\r\n", BOM, b"From -\n", b"body\n")


def mbox_bytes(data: bytes) -> bytes:
    """Fuzzer bytes as an mbox: tokens picked by one byte each, or raw bytes."""
    src = _common.Bytes(data)
    out: list[bytes] = []
    while src.pos < len(src.data) and len(out) < 200:
        choice = src.byte()
        out.append(_SEEDS[choice % len(_SEEDS)] if choice < 220 else src.chunk(60))
    return b"".join(out)


def check(data: bytes) -> None:
    """One fuzz input: the mbox file's bytes, through :func:`mbox_bytes`."""
    content = mbox_bytes(data)
    assert sniff(content[:4096]) in ("mbox", "message", "empty", "other")
    if not _PATHS:
        _PATHS.append(os.path.join(tempfile.mkdtemp(prefix="fuzz-mbox-"), "box.mbox"))
    with open(_PATHS[0], "wb") as fh:
        fh.write(content)
    units = list(split_mbox(_PATHS[0], "INBOX"))
    pos = 3 if content.startswith(BOM) else 0
    for i, unit in enumerate(units):
        assert unit.length >= 0 and unit.offset >= pos, (unit, content)
        if i or unit.offset != pos:
            # A separator: one From_ line, then the unit's bytes. Before the
            # first one, only blank bytes may be left out.
            if i == 0:
                newline = content.rfind(b"\n", pos, unit.offset - 1)
                sep = pos if newline < 0 else newline + 1
                assert not content[pos:sep].strip(), content
                pos = sep
            line = content[pos:unit.offset]
            assert line.startswith(b"From ") and line.endswith(b"\n"), (line, content)
            assert line.count(b"\n") == 1, (line, content)
        else:
            # The preamble before the first separator: never blank.
            assert content[pos:unit.offset + unit.length].strip(), content
        pos = unit.offset + unit.length
        read_unit(unit)
    # Nothing left out but blank bytes before the first separator.
    if units:
        assert pos == len(content), (pos, len(content), content)
    else:
        assert not content[3 if content.startswith(BOM) else 0:].strip(), content
    assert len({u.key for u in units}) == len(units)


if __name__ == "__main__":
    _common.run(check)
