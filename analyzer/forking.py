"""How work is shared with other processes: when they may be forked.

A forked worker starts at once and inherits what the parent holds (the
configuration, the table of messages), where a spawned one starts a new
interpreter and receives everything pickled. Forking is only safe while the
parent runs a single thread: a lock another thread holds at that moment (a
stream's, or one of a Jupyter kernel's threads) stays held forever in the
child, which hangs on it if it ever needs it; Python 3.12 warns about it.
So the parallel paths fork from a command line run, and a notebook's kernel
gets spawned workers (imports) or does the work in its own process (case
rules, report timelines).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

_S = TypeVar("_S")
_T = TypeVar("_T")
_R = TypeVar("_R")
# What the forked workers of forked_map read: set just before the pool forks,
# cleared after.
_shared: tuple[Callable[[Any, Any], Any], Any] | None = None


def can_fork() -> bool:
    """Whether workers may be forked now: the platform forks, and no thread
    but this one runs.

    >>> stop = threading.Event()
    >>> kernel = threading.Thread(target=stop.wait); kernel.start()
    >>> can_fork()
    False
    >>> stop.set(); kernel.join()
    """
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def start_method() -> str:
    """The start method of a pool of workers: ``fork`` when :func:`can_fork`,
    else ``spawn``, which is safe anywhere."""
    return "fork" if can_fork() else "spawn"


def _apply(item: Any) -> Any:
    """One item of :func:`forked_map`, in a forked worker."""
    assert _shared is not None
    function, shared = _shared
    return function(shared, item)


@contextmanager
def forked_map(function: Callable[[_S, _T], _R], shared: _S, items: Iterable[_T], *,
               chunksize: int = 1) -> Iterator[AsyncResult[list[_R]]]:
    """``function(shared, item)`` for each item, in order, computed by two
    forked workers while the ``with`` block runs here; ``.get()`` waits for
    the list. The workers inherit ``shared`` (whole tables): only the items
    and the results are pickled. Call it only when :func:`can_fork`.
    """
    global _shared
    _shared = (function, shared)
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            yield pool.map_async(_apply, items, chunksize)
    finally:
        _shared = None
