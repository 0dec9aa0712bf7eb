"""Charts: each function returns a Figure with the expected artists, built
without pyplot; the CLI writes PNG and SVG files."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analyzer import charts
from analyzer.analysis import Analysis
from analyzer.cli import cli
from analyzer.config import load_config
from analyzer.importer import import_paths
from analyzer.report import Frames, Summary, summarize
from analyzer.schema import MONTHLY, WAITS, empty
from analyzer.store import Store
from tests.conftest import SAMPLE_MAILBOX

CONTROL = "C-8ea5c4a0"
STATUS = "C-1b77b497"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("charts") / "s.sqlite"
    with Store.open(path) as opened:
        import_paths(opened, [SAMPLE_MAILBOX], load_config(SAMPLE_MAILBOX / "analyzer.toml"))
    return path


@pytest.fixture(scope="module")
def summary(store: Path) -> Summary:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    with Analysis.open(store, config) as analysis:
        return summarize(analysis.messages(), config,
                         as_of=datetime(2024, 3, 1, tzinfo=UTC), links=analysis.links())


@pytest.fixture(scope="module")
def frames(summary: Summary) -> Frames:
    assert summary.frames is not None
    return summary.frames


def artists(fig: Figure, gid: str) -> list[object]:
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def points(fig: Figure, gid: str) -> int:
    return sum(len(a.get_offsets()) for a in artists(fig, gid)
               if isinstance(a, PathCollection))


def bars(fig: Figure, gid: str) -> int:
    return sum(1 for a in artists(fig, gid) if isinstance(a, Rectangle))


@pytest.mark.parametrize("case_id", [CONTROL, STATUS])
def test_timeline_marks_every_dated_message(frames: Frames, case_id: str) -> None:
    fig = charts.case_timeline(frames.messages, frames.waits, case_id,
                               deadlines=frames.deadlines,
                               as_of=datetime(2024, 3, 1, tzinfo=UTC), lang="fr")
    rows = frames.messages[frames.messages["case_id"] == case_id]
    assert isinstance(fig, Figure)
    assert points(fig, "messages") == int(rows["sent_at"].notna().sum())
    closures = int(rows["is_closure"].sum())
    assert len(artists(fig, "closures")) == closures


def test_timeline_of_the_control_is_48_hours_against_57_days(frames: Frames) -> None:
    fig = charts.case_timeline(frames.messages, frames.waits, CONTROL,
                               deadlines=frames.deadlines,
                               as_of=datetime(2024, 3, 1, tzinfo=UTC), lang="en")
    waits = frames.waits[frames.waits["case_id"] == CONTROL]
    # The open "wait" after the closure is not drawn: nobody waits on a closure.
    assert bars(fig, "waits") == int((~waits["is_open"]).sum())
    assert points(fig, "deadlines") == 2
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "57 d" in texts
    assert "demanded: SOUS 48 HEURES" in texts


def test_timeline_of_the_reopened_case_shows_five_tickets(frames: Frames) -> None:
    fig = charts.case_timeline(frames.messages, frames.waits, STATUS, lang="fr")
    assert len(artists(fig, "tickets")) == 5
    waits = frames.waits[frames.waits["case_id"] == STATUS]
    assert bars(fig, "waits") == len(waits)


def test_distribution_one_dot_per_answer_and_medians(frames: Frames) -> None:
    fig = charts.delay_distribution(frames.waits, lang="fr")
    answered = int((~frames.waits["is_open"]).sum())
    assert len(fig.axes) == 2
    # Both clocks show every answered wait once.
    assert points(fig, "delays") == 2 * answered
    assert len(artists(fig, "median")) == 4
    assert [ax.get_xlabel() for ax in fig.axes] == ["Délai (jours calendaires)",
                                                    "Délai (jours ouvrés)"]


def test_asymmetry_bars_per_case_and_counterpart(frames: Frames) -> None:
    fig = charts.asymmetry_chart(frames.cases, frames.counterparts, lang="en")
    top, bottom = fig.axes
    assert sum(1 for a in top.patches if a.get_gid() == "asymmetry") == len(frames.cases)
    assert sum(1 for a in bottom.patches if a.get_gid() == "asymmetry") == len(
        frames.counterparts)
    labels = [t.get_text() for t in top.texts]
    assert "×284" in labels


def test_trend_one_line_per_side(frames: Frames) -> None:
    fig = charts.monthly_chart(frames.monthly, lang="en")
    lines = artists(fig, "trend")
    assert len(lines) == 2
    assert fig.axes[0].get_ylabel() == "Median delay (days)"


def test_empty_tables_still_draw() -> None:
    assert len(charts.delay_distribution(empty(WAITS)).axes) == 2
    assert len(charts.monthly_chart(empty(MONTHLY)).axes) == 1


def test_svg_text_from_messages_is_escaped() -> None:
    fig = Figure()
    fig.add_subplot().set_title("<script>alert(1)</script> & <img src=x onerror=alert(1)>")
    raw = charts.figure_bytes(fig, "svg").decode()
    assert "<script>" not in raw and "<img" not in raw
    inline = charts.inline_svg(fig, label="<script>")
    assert "<script" not in inline and "<!--" not in inline and "http" not in inline
    assert inline.startswith("<svg ")


def test_the_same_figure_is_the_same_svg_and_labels_keep_definitions_apart(
        frames: Frames) -> None:
    def timeline() -> Figure:
        # A new figure each time, as each run of the report draws its own
        # (the layout engine moves a figure drawn twice a little).
        return charts.case_timeline(frames.messages, frames.waits, CONTROL,
                                    deadlines=frames.deadlines,
                                    as_of=datetime(2024, 3, 1, tzinfo=UTC))

    assert charts.figure_bytes(timeline(), "svg") == charts.figure_bytes(timeline(), "svg")
    first = charts.inline_svg(timeline(), label="C-1")
    assert charts.inline_svg(timeline(), label="C-1") == first

    def definitions(svg: str) -> set[str]:
        # Clip paths, markers and hatches, named by matplotlib from a salt.
        return set(re.findall(r'<(?:clipPath|path|pattern) id="([0-9a-z]{11})"', svg))

    named = definitions(first)
    assert len(named) >= 2
    assert not named & definitions(charts.inline_svg(timeline(), label="C-2"))


def test_charts_use_no_pyplot_and_leave_rcparams_alone() -> None:
    code = (
        "import sys, matplotlib\n"
        # dict.items reads the stored values: rcParams['backend'] would import pyplot.
        "def rc(): return dict(dict.items(matplotlib.rcParams))\n"
        "before = rc()\n"
        "from analyzer import charts; from analyzer.schema import empty, WAITS, MONTHLY\n"
        "charts.figure_bytes(charts.delay_distribution(empty(WAITS)), 'png')\n"
        "charts.figure_bytes(charts.monthly_chart(empty(MONTHLY)), 'svg')\n"
        "print('matplotlib.pyplot' in sys.modules, rc() == before)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "False True\n"


def test_importing_charts_does_no_work() -> None:
    code = "import sys; import analyzer.charts; print('matplotlib.figure' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "False\n"


@pytest.mark.parametrize(("kind", "suffix", "magic"), [
    ("distribution", ".png", b"\x89PNG"), ("asymmetry", ".svg", b"<?xml"),
    ("trend", ".png", b"\x89PNG"), ("timeline", ".svg", b"<?xml"),
])
def test_cli_writes_each_chart(store: Path, tmp_path: Path, kind: str, suffix: str,
                               magic: bytes) -> None:
    out = tmp_path / f"{kind}{suffix}"
    args = ["--lang", "en", "--store", str(store), "chart", kind, str(SAMPLE_MAILBOX),
            "--out", str(out), "--as-of", "2024-03-01"]
    if kind == "timeline":
        args += ["--case", CONTROL]
    result = CliRunner().invoke(cli, args, env={"ANALYZER_CONFIG": None})
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Chart written: {out}\n"
    assert out.read_bytes().startswith(magic)
    assert out.stat().st_size > 5000


def test_cli_timeline_needs_a_known_case(store: Path, tmp_path: Path) -> None:
    base = ["--lang", "en", "--store", str(store), "chart", "timeline", str(SAMPLE_MAILBOX),
            "--out", str(tmp_path / "t.png")]
    result = CliRunner().invoke(cli, base, env={"ANALYZER_CONFIG": None})
    assert result.exit_code == 2
    assert "give it with --case" in result.stderr
    result = CliRunner().invoke(cli, [*base, "--case", "C-nope"], env={"ANALYZER_CONFIG": None})
    assert (result.exit_code, result.stderr) == (
        2, "Unknown case: C-nope. The command 'analyzer cases' lists the cases.\n")
    result = CliRunner().invoke(cli, [*base[:-1], str(tmp_path / "t.pdf"), "--case", CONTROL],
                                env={"ANALYZER_CONFIG": None})
    assert (result.exit_code, result.stderr) == (
        2, "Unsupported file format: t.pdf. Use .png or .svg.\n")


def test_docstring_examples() -> None:
    import doctest

    # CI runs plain pytest, without --doctest-modules.
    assert doctest.testmod(charts).failed == 0


def test_a_wait_open_for_years_does_not_squeeze_the_exchange(frames: Frames) -> None:
    # Read in 2026, the 2023-24 case's last wait on the agency has been open
    # for years: its bar is cut after the last message, its age written on it.
    as_of = datetime(2026, 12, 3, tzinfo=UTC)
    fig = charts.case_timeline(frames.messages, frames.waits, STATUS, as_of=as_of, lang="en")
    rows = frames.messages[frames.messages["case_id"] == STATUS]
    first, last = rows["sent_at"].min(), rows["sent_at"].max()
    right = mdates.num2date(fig.axes[0].get_xlim()[1])
    assert right.replace(tzinfo=UTC) < last + max((last - first) * 0.4, pd.Timedelta(days=30))
    (open_wait,) = frames.waits[(frames.waits["case_id"] == STATUS)
                                & frames.waits["is_open"]].itertuples()
    days = (as_of - open_wait.asked_at).total_seconds() / 86400
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert f"{days:,.0f} d, still unanswered →" in texts
