"""Shared fixtures.

Third-party corpora are read from ``../shared/corpora`` beside the checkout
(or ``$ANALYZER_CORPORA``). They are never copied into the project. Tests that
need them skip when the folder is absent, except in CI (``CI`` set), where a
missing corpus is a failure.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from analyzer import forking

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MAILBOX = ROOT / "sample_mailbox"


def _corpora_path() -> Path:
    env = os.environ.get("ANALYZER_CORPORA")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    """The shared third-party corpora folder; skip (or fail in CI) when absent."""
    path = _corpora_path()
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"third-party corpora not found at {path} (required in CI)")
        pytest.skip(f"third-party corpora not found at {path}")
    # Resolved as the importer resolves the paths it is given (the folder may
    # be reached through a symbolic link), so that paths compare equal.
    return path.resolve()


@pytest.fixture(scope="session")
def sample_mailbox() -> Path:
    return SAMPLE_MAILBOX


def record_forks(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[str]:
    """The start methods ``module`` asks :mod:`multiprocessing` for from now on
    (filled as it asks; the real contexts are handed back)."""
    asked: list[str] = []
    get_context = module.multiprocessing.get_context

    def recording(method: str) -> Any:
        asked.append(method)
        return get_context(method)

    monkeypatch.setattr(module.multiprocessing, "get_context", recording)
    return asked


@contextmanager
def another_thread() -> Iterator[None]:
    """A second thread runs (idle) meanwhile, as a notebook kernel's do."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def single_threaded() -> Iterator[None]:
    """Forking allowed, as in a command-line run, whatever threads this test
    session runs besides (the Dovecot fixture's token server)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forking, "can_fork",
                      lambda: "fork" in multiprocessing.get_all_start_methods())
        yield
