"""Fuzz the threader with messages whose ids, References and In-Reply-To are
drawn from a small pool, so that the input is dense in loops, self
references, duplicates, ghosts and shared references.

``python fuzz/fuzz_threader.py -atheris_runs=1000000``

Invariants: nothing raises; every input Message-ID gets exactly one thread
id; each real message sits in exactly one thread; the two entry points
(:func:`build_threads`, :func:`thread_messages`) agree; every tree is a tree
(no node twice) whose parent links point to the node above.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import _common

from analyzer.threader import ThreadInput, build_threads, thread_messages

_POOL = 12  # ids per input: small, so that references collide often
_SUBJECTS = ("", "Votre demande", "Re: Contrôle", "Contrôle", "RE : TR: contrôle", "Fwd: x")


def inputs(data: bytes) -> list[ThreadInput]:
    """Decode fuzzer bytes into messages (at most 40)."""
    src = _common.Bytes(data)
    out: list[ThreadInput] = []
    for _ in range(min(src.byte() % 41, max(len(data) // 3, 1))):
        ident = f"m{src.byte() % _POOL}@x"
        refs = [f"m{src.byte() % _POOL}@x" for _ in range(src.byte() % 5)]
        irt = [f"m{src.byte() % _POOL}@x" for _ in range(src.byte() % 3)]
        if src.byte() % 7 == 0:
            irt.append("yes")  # an id without "@": joins threads, never a parent
        flags = src.byte()
        date = None
        if flags % 3:
            date = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=src.byte(),
                                                                  minutes=src.byte())
            if flags % 3 == 2:
                date = date.replace(tzinfo=None)  # naive dates are read as UTC
        out.append(ThreadInput(ident, irt, refs, _SUBJECTS[src.byte() % len(_SUBJECTS)],
                               date))
    return out


def check(data: bytes) -> None:
    """One fuzz input: a list of messages, as :func:`inputs` decodes it."""
    msgs = inputs(data)
    window = None if data[-1:] == b"\0" else timedelta(days=30)
    mapping = thread_messages(msgs, subject_window=window)
    assert set(mapping) == {m.message_id for m in msgs}
    threads = build_threads(msgs, subject_window=window)
    seen: set[str] = set()
    for thread in threads:
        assert not (thread.message_ids & seen)
        seen |= thread.message_ids
        walked = list(thread.walk())
        ids = [n.message_id for _, n in walked]
        assert len(ids) == len(set(ids)), ids
        assert {n.message_id for _, n in walked if not n.is_ghost} == thread.message_ids
        assert {n.message_id for _, n in walked if n.is_ghost} == thread.ghost_ids
        assert thread.root.parent_id is None and thread.root.link == "root"
        assert thread.thread_id == thread.root.message_id
        for _, node in walked:
            for child in node.children:
                assert child.parent_id == node.message_id
        for ident in thread.message_ids:
            assert mapping[ident] == thread.thread_id
        thread.pruned()
    assert seen == set(mapping)


if __name__ == "__main__":
    _common.run(check)
