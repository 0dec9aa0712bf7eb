"""A short run of every fuzz harness in ``fuzz/``: under atheris when it is
installed (a few thousand coverage-guided inputs each), and always over a
fixed seed corpus of hostile inputs, so the harnesses' checks run on every
machine. The long runs (a million inputs per target) stay out of CI; see
SECURITY.md for how to run them and the counts reached.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT

FUZZ = ROOT / "fuzz"
TARGETS = ["headers", "threader", "tickets", "deadlines", "mbox"]
SMOKE_RUNS = 2000

# Inputs that broke, or could break, a mail reader: empty and blank input,
# lone separators, NUL and invalid UTF-8, unterminated brackets and encoded
# words, reference loops, a BOM, CRLF, deep nesting, huge counts written as text.
SEEDS: list[bytes] = [
    b"", b"\n", b"\r\n\r\n", b"\x00" * 64, b"\xff\xfe\xfd", b"\xef\xbb\xbf",
    b"From ", b"From -\n", b"From a@b Mon Jan  1 00:00:00 2024\n",
    b"From a@b Mon Jan  1 00:00:00 2024\nFrom: x\n\nFrom b 2024\nSubject: y\n",
    b"From: <<<<<<<<\nTo: ::::::::\nSubject: =?utf-8?q?=?=\n\n",
    b"Subject: =?x-unknown?b?////?=\nMessage-ID: <\n\n",
    b"Message-ID: <a@b>\nReferences: <a@b> <a@b> <b@c> <a@b>\nIn-Reply-To: <b@c>\n\n",
    b"Date: Mon, 99 Foo 99999 99:99:99 +9999\n\n",
    b"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n--b\n--b--\n" * 20,
    b"Content-Type: message/rfc822\n\n" * 100,
    b"To: " + b"(" * 5000 + b"\n\n",
    b"X: " + b"a" * 70_000 + b"\n\n",
    b"".join(b"X-%d: v\n" % i for i in range(2100)),
    "sous 48h, avant le 31/02/2024, dans un délai de 9999999999 jours".encode(),
    "[Ticket#2020021910000123] [support #1] demande n° 0001 Ref:MSG0000001".encode(),
    b"Votre demande (#12345) INC0012345 CRM:0001001 ref:_00D1._5001:ref",
    b"\x01\x02\x03\x04" * 50,
]
# And random bytes from a fixed seed: the same inputs on every run.
_RANDOM = random.Random(10)
SEEDS += [_RANDOM.randbytes(_RANDOM.randrange(1, 600)) for _ in range(200)]


def _harness(target: str) -> Callable[[bytes], None]:
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    module = importlib.import_module(f"fuzz_{target}")
    check: Callable[[bytes], None] = module.check
    return check


@pytest.mark.parametrize("target", TARGETS)
def test_harness_over_seed_corpus(target: str) -> None:
    check = _harness(target)
    for seed in SEEDS:
        check(seed)


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None,
                    reason="atheris is not installed (pip install '.[fuzz]')")
@pytest.mark.parametrize("target", TARGETS)
def test_harness_under_atheris(target: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(FUZZ / f"fuzz_{target}.py"), f"-atheris_runs={SMOKE_RUNS}",
         f"-artifact_prefix={tmp_path}/"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    # libFuzzer ends a complete run with "Done <runs> in <n> second(s)".
    assert re.search(rf"^Done {SMOKE_RUNS} in \d+ second", done.stderr, re.MULTILINE), \
        done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(tmp_path.iterdir()) == []  # no crash file
