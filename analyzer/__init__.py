"""analyzer: rebuild helpdesk cases from your own mailbox and measure who made whom wait.

Public API (what notebooks and other programs use; the CLI is built on it):

- :class:`Analysis` — a store read with a config; DataFrames ``messages()``,
  ``waits()``, ``cases()``, ``deadlines()``, ``counterparts()``, ``monthly()``,
  all taking the filters of ``filtered()`` (``since``, ``until``,
  ``counterpart``, ``case``) and an ``as_of``.
- :func:`write_export` / :func:`export_tables` — the export (pseudonymised by
  default): messages, cases and waits with a ``datapackage.json``.
- :func:`load_export`, :func:`run_cohort` — read exports back, aggregate many
  members' exports (DuckDB).
- :func:`fetch_imap` — fetch the counterparts' mail from an IMAP account.
- :mod:`analyzer.metrics` — the pure functions behind those frames.
- :func:`import_paths` — import mbox/Maildir/MH/message and Outlook files into a :class:`Store`.
- :class:`Store` — the embedded SQLite store.
- :class:`Config`, :func:`load_config`, :func:`parse_config` — who is who.
- :class:`PartyClassifier` — me / agency / contractor / other.
- :class:`AnalyzerError` and its subclasses — the one error family.

Nothing is done at import time; importing ``analyzer`` never imports the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "AnalyzerError",
    "Config",
    "ConfigError",
    "Counterpart",
    "ExportError",
    "ExportRefused",
    "ImportSummary",
    "PartyClassifier",
    "SourceError",
    "Store",
    "StoreError",
    "UsageError",
    "export_tables",
    "fetch_imap",
    "import_paths",
    "load_config",
    "load_export",
    "parse_config",
    "parse_when",
    "run_cohort",
    "write_export",
]

_WHERE = {
    "Analysis": "analyzer.analysis",
    "parse_when": "analyzer.analysis",
    "ExportError": "analyzer.export",
    "ExportRefused": "analyzer.export",
    "export_tables": "analyzer.export",
    "write_export": "analyzer.export",
    "load_export": "analyzer.cohort",
    "run_cohort": "analyzer.cohort",
    "fetch_imap": "analyzer.imap",
    "AnalyzerError": "analyzer.errors",
    "ConfigError": "analyzer.errors",
    "SourceError": "analyzer.errors",
    "StoreError": "analyzer.errors",
    "UsageError": "analyzer.errors",
    "Config": "analyzer.config",
    "Counterpart": "analyzer.config",
    "load_config": "analyzer.config",
    "parse_config": "analyzer.config",
    "ImportSummary": "analyzer.importer",
    "import_paths": "analyzer.importer",
    "PartyClassifier": "analyzer.parties",
    "Store": "analyzer.store",
}

if TYPE_CHECKING:
    from analyzer.analysis import Analysis, parse_when
    from analyzer.cohort import load_export, run_cohort
    from analyzer.config import Config, Counterpart, load_config, parse_config
    from analyzer.errors import AnalyzerError, ConfigError, SourceError, StoreError, UsageError
    from analyzer.export import ExportError, ExportRefused, export_tables, write_export
    from analyzer.imap import fetch_imap
    from analyzer.importer import ImportSummary, import_paths
    from analyzer.parties import PartyClassifier
    from analyzer.store import Store


def __getattr__(name: str) -> Any:
    # Lazy so that "import analyzer" stays cheap (pandas loads only when used).
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
