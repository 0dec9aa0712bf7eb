"""A short smoke of the import benchmark (benchmarks/bench_import.py), so the
script the README's performance figures come from does not rot. Its speed
is measured by running it, never asserted here."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_import.py"
STEPS = ["analyzer import", "analyzer re-import (unchanged)", "analyzer cases --csv",
         "analyzer export", "mail-parser loop", "notmuch new"]


@pytest.mark.skipif(shutil.which("notmuch") is None, reason="notmuch is not installed")
def test_the_benchmark_runs_every_tool_on_the_same_mailbox(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--messages", "300", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("generated 300 messages (maildir, realistic sizes) in ")
    table = lines[lines.index(f"{'step':34} {'seconds':>9} {'msg/s':>10} {'peak MB':>9}") + 1:]
    assert [line[:34].rstrip() for line in table[:7]] == [
        *STEPS, "pipeline (import + cases + export)"]
    assert table[7].startswith("pipeline vs mail-parser loop: ")
    assert table[8].startswith("pipeline vs notmuch new: ")
    # The pipeline ran on the whole mailbox: every message stored, the cases
    # built, and the union export written.
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 300
        assert conn.execute("SELECT count(*) FROM bodies").fetchone()[0] == 30
        # The generator's 30 case messages in its 4 cases (truth.json).
        assert conn.execute("SELECT count(value), count(DISTINCT value) FROM built_columns, "
                            "json_each(values_json) WHERE name = 'case_id'").fetchone() == (30, 4)
    assert sorted(p.name for p in (tmp_path / "export").glob("*.csv")) == [
        "cases.csv", "messages.csv", "waits.csv"]
