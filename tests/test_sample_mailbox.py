"""The sample mailbox tells two stories; the pipeline must read them as a
reader of the stories would (``sample_mailbox/expected.json``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analyzer.analysis import Analysis
from analyzer.config import load_config
from analyzer.importer import import_paths
from analyzer.store import Store
from tests.conftest import SAMPLE_MAILBOX


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads((SAMPLE_MAILBOX / "expected.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def messages(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    path = tmp_path_factory.mktemp("sample") / "s.sqlite"
    with Store.open(path) as store:
        summary = import_paths(store, [SAMPLE_MAILBOX], config)
        assert (summary.read, summary.new, summary.broken) == (75, 75, [])
        assert sorted(Path(p).name for p, _ in summary.skipped) == [
            "README.md", "analyzer.toml", "expected.json"]
    with Analysis.open(path, config) as analysis:
        return analysis.messages().set_index("message_id")


def test_every_file_is_one_message(messages: pd.DataFrame, expected: dict[str, Any]) -> None:
    assert sorted(messages.index) == sorted(m["message_id"] for m in expected["messages"])


def test_parties_and_counterparts_match_the_story(messages: pd.DataFrame,
                                                  expected: dict[str, Any]) -> None:
    got = {mid: (row.party, row.counterpart if isinstance(row.counterpart, str) else None)
           for mid, row in messages.iterrows()}
    want = {m["message_id"]: (m["party"], m["counterpart"]) for m in expected["messages"]}
    assert got == want


def test_folders(messages: pd.DataFrame, expected: dict[str, Any]) -> None:
    folder_of = {"cur": "INBOX", ".Sent": "Sent", ".Junk": "Junk"}
    want = {m["message_id"]: [folder_of[m["file"].split("/")[0]]] for m in expected["messages"]}
    assert messages["folders"].to_dict() == want
    assert Counter(f[0] for f in want.values()) == {"INBOX": 45, "Sent": 24, "Junk": 6}


def test_counterpart_mail_is_kept_raw_and_personal_mail_is_not(
        messages: pd.DataFrame, expected: dict[str, Any]) -> None:
    for m in expected["messages"]:
        involved = m["counterpart"] is not None
        assert messages.loc[m["message_id"], "has_body"] == involved, m["file"]


def test_message_times_are_the_date_headers(messages: pd.DataFrame,
                                            expected: dict[str, Any]) -> None:
    for m in expected["messages"]:
        when = pd.Timestamp(m["date"]).tz_convert("UTC")
        assert messages.loc[m["message_id"], "sent_at"] == when, m["file"]
