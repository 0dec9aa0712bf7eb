"""The terminal report: exact text on the sample mailbox (``--as-of`` pinned) in
both languages, and the figures and formats behind it."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from rich.console import Console

from analyzer.analysis import Analysis
from analyzer.cases import case_links_frame
from analyzer.cli import cli
from analyzer.config import Config, load_config
from analyzer.importer import import_paths
from analyzer.report import (
    Summary,
    case_sentences,
    format_delay,
    format_duration,
    format_number,
    format_ratio,
    render_terminal,
    summarize,
)
from analyzer.schema import message_frame
from analyzer.store import Store
from tests.conftest import ROOT, SAMPLE_MAILBOX

GOLDEN = ROOT / "tests" / "golden"
AS_OF = "2024-03-01"
CONTROL = "C-8ea5c4a0"  # controle-2020: "48 hours demanded", 57 days taken
STATUS = "C-1b77b497"   # changement-statut-2023: five tickets, each closed and reopened
PROGRAMME = "C-e8d002da"  # the contractor's programme


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ANALYZER_CONFIG": None})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "s.sqlite"
    with Store.open(path) as store:
        import_paths(store, [SAMPLE_MAILBOX], load_config(SAMPLE_MAILBOX / "analyzer.toml"))
    return path


@pytest.fixture(scope="module")
def summary(sample_store: Path) -> Summary:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    with Analysis.open(sample_store, config) as analysis:
        messages, as_of = analysis.metric_input(as_of=AS_OF)
        return summarize(messages, config, as_of=as_of.to_pydatetime(),
                         links=analysis.links())


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_terminal_report_golden(sample_store: Path, lang: str) -> None:
    code, out, err = run("--lang", lang, "--store", str(sample_store), "report",
                         str(SAMPLE_MAILBOX), "--as-of", AS_OF)
    golden = GOLDEN / f"report_sample_{lang}.txt"
    text = out.replace(str(sample_store), "{store}").replace(
        str(SAMPLE_MAILBOX / "analyzer.toml"), "{config}")
    if os.environ.get("ANALYZER_UPDATE_GOLDEN"):
        golden.write_text(text, "utf-8")
    assert (code, err) == (0, "")
    assert text == golden.read_text("utf-8")


def test_report_fits_100_columns_without_trailing_spaces() -> None:
    for lang in ("fr", "en"):
        for line in (GOLDEN / f"report_sample_{lang}.txt").read_text("utf-8").splitlines():
            assert len(line) <= 100, line
            assert line == line.rstrip(), line


def test_the_two_stories_in_figures(summary: Summary) -> None:
    cases = {c.case_id: c for c in summary.cases}
    assert list(cases) == [CONTROL, STATUS, PROGRAMME]
    control = cases[CONTROL]
    # 48 hours demanded; I answered the same afternoon; their answer was the closure.
    assert [d.phrase for d in control.deadlines] == ["SOUS 48 HEURES", "AVANT LE 21/02/2020"]
    assert control.deadlines[0].demanded_seconds == 48 * 3600
    assert control.deadlines[0].my_delay_seconds < 5 * 3600
    assert control.their_median_seconds > 56 * 86400
    assert control.asymmetry > 100
    assert control.open_wait is not None and control.open_wait.ended_by_closure
    status = cases[STATUS]
    assert (status.tickets, status.reopens, status.closures) == (5, 4, 5)
    assert status.interlocutors >= 5
    assert status.open_wait is not None and status.open_wait.responder == "agency"
    assert status.open_wait.closed_meanwhile
    overall = summary.delays[-1]
    assert overall.name is None and overall.asymmetry > 5


def test_as_of_ages_the_open_waits(sample_store: Path) -> None:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    with Analysis.open(sample_store, config) as analysis:
        messages = analysis.messages()
        links = analysis.links()
    early = summarize(messages, config, as_of=datetime(2024, 3, 1, tzinfo=UTC), links=links)
    late = summarize(messages, config, as_of=datetime(2024, 4, 1, tzinfo=UTC), links=links)
    age = {c.case_id: c.open_wait.age_seconds for c in early.cases if c.open_wait}
    later = {c.case_id: c.open_wait.age_seconds for c in late.cases if c.open_wait}
    assert later[STATUS] - age[STATUS] == 31 * 86400


def test_hostile_names_are_not_rich_markup() -> None:
    m = message_frame([
        {"message_id": "a", "case_id": "c", "party": "agency", "counterpart": "[bold]FT[/]",
         "subject": "[red]x[/red] <script>", "sent_at": "2024-03-04T09:00Z"}])
    console = Console(width=100, record=True)
    render_terminal(summarize(m, Config(), as_of=datetime(2024, 3, 5, tzinfo=UTC)), "en",
                    console, title="[b]t", store="s", config=None)
    text = console.export_text()
    assert "[red]x[/red] <script>" in text and "[bold]FT[/]" in text and "[b]t" in text


def test_a_case_with_a_guessed_notification_asks_to_check_it() -> None:
    m = message_frame([
        {"message_id": "ask", "case_id": "C-1", "party": "me", "counterpart": "FT",
         "subject": "Attestation employeur", "sent_at": "2024-03-04T09:00Z"},
        {"message_id": "notif", "case_id": "C-1", "party": "agency", "counterpart": "FT",
         "subject": "Nouveau message", "sent_at": "2024-03-06T09:00Z"}])
    links = case_links_frame([("C-1", "ask", "notif", "notice-guessed", {"others": 2}, "")])
    as_of = datetime(2024, 3, 7, tzinfo=UTC)
    guessed = case_sentences(summarize(m, Config(), as_of=as_of, links=links).cases[0], "en")
    sure = case_sentences(summarize(m, Config(), as_of=as_of).cases[0], "en")
    assert guessed == [*sure, (
        "To check: 1 portal notification(s) naming no request filed here for want of "
        "better, as other requests were also awaiting an answer. See in your personal "
        "space which one was answered; analyzer cases --explain C-1 says which, --split "
        "and --join correct it.")]


def test_interleaved_cases_keep_their_own_messages_waits_and_deadlines() -> None:
    # Two cases whose messages alternate in time, listed out of order, and
    # a message in no case: each line is made of its own case's rows only.
    m = message_frame([
        {"message_id": "b2", "case_id": "C-b", "party": "agency", "counterpart": "FT",
         "subject": "RE : Trop-perçu", "sent_at": "2024-03-08T09:00Z",
         "body_text": "Merci de répondre sous 48h."},
        {"message_id": "a1", "case_id": "C-a", "party": "me", "counterpart": "FT",
         "subject": "Attestation", "sent_at": "2024-03-04T09:00Z"},
        {"message_id": "x", "party": "other", "subject": "Covoiturage",
         "sent_at": "2024-03-05T09:00Z"},
        {"message_id": "b1", "case_id": "C-b", "party": "me", "counterpart": "FT",
         "subject": "Trop-perçu", "sent_at": "2024-03-05T10:00Z"},
        {"message_id": "a2", "case_id": "C-a", "party": "agency", "counterpart": "FT",
         "subject": "RE : Attestation", "sent_at": "2024-03-06T09:00Z"},
        {"message_id": "b3", "case_id": "C-b", "party": "me", "counterpart": "FT",
         "subject": "RE : Trop-perçu", "sent_at": "2024-03-09T09:00Z"}])
    lines = summarize(m, Config(), as_of=datetime(2024, 3, 20, tzinfo=UTC)).cases

    def known(value: float) -> float | None:
        return None if math.isnan(value) else value

    assert [(c.case_id, c.subject, c.messages, c.sent_by_me, c.sent_by_them,
             known(c.their_median_seconds), known(c.my_median_seconds),
             c.open_wait and (c.open_wait.responder, c.open_wait.age_seconds))
            for c in lines] == [
        # C-a: they answered on the 6th; my turn since, 13 days 15 hours.
        ("C-a", "Attestation", 2, 1, 1, 2 * 86400.0, None, ("me", 1_177_200.0)),
        # C-b: my reply of the 9th still waits for theirs.
        ("C-b", "Trop-perçu", 3, 2, 1, 3 * 86400.0 - 3600, 86400.0, ("agency", 918_000.0))]
    assert [(d.phrase, d.my_delay_seconds) for d in lines[1].deadlines] == [
        ("sous 48h", 86400.0)]
    assert lines[0].deadlines == []


def test_summary_without_cases_counts_messages_only() -> None:
    frame = pd.DataFrame({"party": ["me"], "counterpart": [None],
                          "sent_at": pd.to_datetime(["2024-03-04T09:00Z"], utc=True)})
    summary = summarize(frame, Config())
    assert (summary.total, summary.cases, summary.frames) == (1, [], None)


@pytest.mark.parametrize(("value", "lang", "expected"), [
    (59, "fr", "1 min"), (17291, "fr", "4,8 h"), (17291, "en", "4.8 h"),
    (4914024, "fr", "56,9 j"), (4914024, "en", "56.9 days"), (math.nan, "fr", "—"),
])
def test_format_duration(value: float, lang: str, expected: str) -> None:
    assert format_duration(value, lang) == expected


def test_number_delay_and_ratio_formats() -> None:
    assert format_number(12345.678, "fr", 2) == "12\u202f345,68"
    assert format_number(12345.678, "en", 2) == "12,345.68"
    assert format_delay(86400 * 3, 2.0, "en") == "3.0 days (2.0 working days)"
    assert format_delay(math.nan, 2.0, "fr") == "—"
    assert format_ratio(0.5, "fr") == "×0,5"
    assert format_ratio(math.nan, "fr") == "—"


def test_docstring_examples() -> None:
    import doctest

    import analyzer.report

    # CI runs plain pytest, without --doctest-modules.
    assert doctest.testmod(analyzer.report).failed == 0


def test_empty_mailbox_reports_and_draws(tmp_path: Path) -> None:
    from tests.builders import write_maildir

    write_maildir(tmp_path / "mail", {})
    base = ["--lang", "en", "--store", str(tmp_path / "s.sqlite"), "--config", ""]
    result = CliRunner().invoke(cli, [*base, "report", str(tmp_path / "mail"), "--html",
                                      str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "No message in the store." in result.stdout
    assert "No case" in (tmp_path / "r.html").read_text("utf-8")
    result = CliRunner().invoke(cli, [*base, "chart", "distribution", str(tmp_path / "mail"),
                                      "--out", str(tmp_path / "d.svg")])
    assert result.exit_code == 0, result.output
