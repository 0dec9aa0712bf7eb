"""Default locations on the user's machine (platformdirs)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import platformdirs

APP = "analyzer"


def config_dir() -> Path:
    """The user's configuration directory for analyzer."""
    return Path(platformdirs.user_config_dir(APP))


def default_store() -> Path:
    """The default store: ``store.sqlite`` in the user's data directory."""
    return Path(platformdirs.user_data_dir(APP)) / "store.sqlite"


def cache_store_for(paths: Sequence[Path]) -> Path:
    """A store of its own for a ``report PATH...`` run, in the user's cache.

    The name derives from the resolved paths, so reporting on the same mailbox
    twice reuses its cache and the default store is never touched.
    """
    key = "\n".join(sorted(str(p.resolve()) for p in paths))
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    stem = paths[0].resolve().name if paths else "mailbox"
    return Path(platformdirs.user_cache_dir(APP)) / "reports" / f"{stem}-{digest}.sqlite"
