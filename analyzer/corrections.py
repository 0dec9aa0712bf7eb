"""Manual corrections of cases, kept in the store against Message-IDs.

A user who knows better joins two cases or splits messages apart. The
corrections name messages, not case ids (which follow from the grouping), so
they survive re-import, re-analysis and renumbering, and they win over every
heuristic of :mod:`analyzer.cases`.

A corrections file is TOML::

    [[join]]
    a = "message-id-1@example.org"
    b = "message-id-2@example.org"

    [[split]]
    a = "message-id-3@example.org"
    b = "message-id-4@example.org"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from analyzer.analysis import Analysis
from analyzer.errors import UsageError


def _first_message(analysis: Analysis, case_id: str) -> str:
    rows = analysis.messages()
    rows = rows[rows["case_id"] == case_id].sort_values(["sent_at", "message_id"],
                                                        na_position="last")
    if rows.empty:
        raise UsageError("cases.unknown", case=case_id)
    return str(rows["message_id"].iloc[0])


def _known(analysis: Analysis, message_id: str) -> str:
    message_id = message_id.strip().strip("<>")
    if message_id not in set(analysis.base_messages()["message_id"]):
        raise UsageError("cases.unknown_message", message=message_id)
    return message_id


def join_cases(analysis: Analysis, case_a: str, case_b: str) -> None:
    """Record that cases ``case_a`` and ``case_b`` are one.

    The latest word wins: splits recorded earlier between messages of these
    two cases are withdrawn.
    """
    first_a, first_b = _first_message(analysis, case_a), _first_message(analysis, case_b)
    messages = analysis.messages()
    members = {case: set(messages.loc[messages["case_id"] == case, "message_id"])
               for case in (case_a, case_b)}
    for kind, a, b in analysis.store.corrections():
        if kind == "split" and ((a in members[case_a] and b in members[case_b])
                                or (a in members[case_b] and b in members[case_a])):
            analysis.store.remove_correction("split", a, b)
    analysis.store.add_correction("join", first_a, first_b)


def split_messages(analysis: Analysis, message_a: str, message_b: str) -> None:
    """Record that two messages belong to different cases (withdrawing an
    earlier join of exactly these two)."""
    a, b = _known(analysis, message_a), _known(analysis, message_b)
    analysis.store.remove_correction("join", a, b)
    analysis.store.add_correction("split", a, b)


def apply_file(analysis: Analysis, path: Path) -> int:
    """Record every join and split of a corrections file; returns how many."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError("cases.corrections_file", path=str(path), detail=str(exc)) from None
    count = 0
    for kind in ("join", "split"):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise UsageError("cases.corrections_file", path=str(path),
                             detail=f"'{kind}' is not an array of tables")
        for entry in entries:
            if not isinstance(entry, dict) or not {"a", "b"} <= entry.keys():
                raise UsageError("cases.corrections_file", path=str(path),
                                 detail=f"a [[{kind}]] entry lacks a or b")
            analysis.store.add_correction(kind, _known(analysis, str(entry["a"])),
                                          _known(analysis, str(entry["b"])))
            count += 1
    return count
