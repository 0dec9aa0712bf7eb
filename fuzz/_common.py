"""What every harness shares: running under atheris, or over a seed corpus.

Each harness module defines ``check(data: bytes) -> None``, which calls the
target functions and asserts their invariants; any exception is a finding.
``run(check, import_targets)`` starts libFuzzer through atheris when it is the
main program (``python fuzz/fuzz_X.py -atheris_runs=N``). The harnesses are
also imported by ``tests/test_fuzz_smoke.py``, which feeds them a fixed seed
corpus when atheris is not installed, so the same checks run everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as a script from a checkout: import the package beside this folder.
    sys.path.insert(0, str(ROOT))


class Bytes:
    """A tiny consumer of fuzzer bytes, so that harnesses do not need atheris's
    FuzzedDataProvider (which only exists when atheris is installed) and a
    given input means the same thing with or without atheris."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        """The next byte (0 once the input is used up)."""
        if self.pos >= len(self.data):
            return 0
        value = self.data[self.pos]
        self.pos += 1
        return value

    def chunk(self, limit: int) -> bytes:
        """The next run of bytes up to a length byte's worth (at most ``limit``)."""
        size = min(self.byte() * 4 + self.byte() % 4, limit)
        out = self.data[self.pos:self.pos + size]
        self.pos += len(out)
        return out

    def text(self, limit: int) -> str:
        return self.chunk(limit).decode("utf-8", "replace")

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out


def run(check: Callable[[bytes], None]) -> None:
    """Fuzz ``check`` with atheris (coverage of the analyzer package)."""
    import atheris

    # Instrument what is loaded by now (the analyzer modules the harness
    # imported and the stdlib parts they use), so libFuzzer sees their branches.
    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
