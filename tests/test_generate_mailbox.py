"""The benchmark mailbox generator (benchmarks/generate_mailbox.py).

Its realistic sizes must change how much there is to read, never what there
is to find: the same scenario written bare and dressed gives the same cases.
"""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path

import pandas as pd
import pytest

from analyzer import synthetic
from analyzer.analysis import Analysis
from analyzer.config import load_config
from analyzer.importer import import_paths
from analyzer.parse import parse_body, parse_headers
from analyzer.store import Store

_SPEC = importlib.util.spec_from_file_location(
    "generate_mailbox",
    Path(__file__).resolve().parent.parent / "benchmarks" / "generate_mailbox.py")
assert _SPEC is not None and _SPEC.loader is not None
generate_mailbox = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate_mailbox)

FOUND = ["message_id", "thread_id", "conversation_id", "case_id", "ticket_id", "party",
         "counterpart", "automated", "automation_kind", "is_closure", "sender_person",
         "body_text", "sent_at"]


@pytest.fixture(scope="module")
def scenario() -> synthetic.Scenario:
    return synthetic.scale(3, 1200, 0.3)


def _dressed(m: synthetic.SyntheticMessage) -> bytes:
    return synthetic.message_bytes(generate_mailbox.realistic(m))


def _found(scenario: synthetic.Scenario, folder: Path, sizes: str) -> pd.DataFrame:
    root = synthetic.write_maildir(
        scenario, folder / "mail", _dressed if sizes == "realistic" else synthetic.message_bytes)
    config = load_config(root / "analyzer.toml")
    with Store.open(folder / "s.sqlite") as store:
        import_paths(store, [root], config)
    with Analysis.open(folder / "s.sqlite", config) as analysis:
        return analysis.messages()[FOUND].sort_values("message_id").reset_index(drop=True)


def test_realistic_sizes_change_nothing_the_analyzer_finds(
        scenario: synthetic.Scenario, tmp_path: Path) -> None:
    bare = _found(scenario, tmp_path / "small", "small")
    dressed = _found(scenario, tmp_path / "realistic", "realistic")
    assert bare["case_id"].notna().sum() == 360
    pd.testing.assert_frame_equal(bare, dressed)


def test_realistic_sizes_are_those_of_todays_mail(scenario: synthetic.Scenario) -> None:
    sizes = [len(_dressed(m)) for m in scenario.messages]
    bare = [len(synthetic.message_bytes(m)) for m in scenario.messages]
    attached = [len(_dressed(m)) for m in scenario.messages if m.attachment is not None]
    assert statistics.mean(bare) < 2_000
    # Most messages stay small; bulk HTML and attachments make the mean.
    assert 3_000 < statistics.median(sizes) < 10_000
    assert 15_000 < statistics.mean(sizes) < 60_000
    assert min(attached) > 10_000


def test_dressing_is_the_same_every_time_and_parses_cleanly(
        scenario: synthetic.Scenario) -> None:
    for m in scenario.messages[:200]:
        raw = _dressed(m)
        assert raw == _dressed(m)
        headers = parse_headers(raw)
        assert (headers.message_id, headers.problems) == (m.message_id, [])
    incoming = next(m for m in scenario.messages if m.folder == "INBOX")
    head = _dressed(incoming).split(b"\n\n", 1)[0]
    assert head.count(b"\nReceived: ") >= 2
    assert b"\nDKIM-Signature: " in head and b"\nARC-Seal: " in head
    attached, attachment = next((m, m.attachment) for m in scenario.messages
                                if m.attachment is not None and m.truth.case_id is not None)
    assert attachment is not None
    body = parse_body(_dressed(attached))
    assert [a["filename"] for a in body.attachments] == [attachment.filename]
    assert body.defects == []
