"""When work may be shared with forked processes (analyzer.forking)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest

from analyzer.forking import can_fork, start_method
from tests.conftest import another_thread

FORKS = "fork" in multiprocessing.get_all_start_methods()


@pytest.mark.skipif(not FORKS, reason="this platform cannot fork")
def test_a_single_threaded_process_forks() -> None:
    # In a new interpreter: this test session runs threads of its own.
    shown = subprocess.run(
        [sys.executable, "-c",
         "from analyzer.forking import can_fork, start_method; print(can_fork(), start_method())"],
        capture_output=True, text=True, check=True).stdout
    assert shown == "True fork\n"


def test_beside_another_thread_workers_are_spawned() -> None:
    with another_thread():
        assert can_fork() is False
        assert start_method() == "spawn"
