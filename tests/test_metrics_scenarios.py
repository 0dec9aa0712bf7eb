"""Issue 4's acceptance on generated mailboxes: the counterpart's per-case median
delay, computed by the real pipeline (import, parties, automation, case
builder, metrics), matches the one the generator's truth gives
(:func:`analyzer.synthetic.truth_waits`) within 1% or 2 minutes for at least
95% of cases, across ticket styles.

Seeds 11–13: the case builder's numbers are tuned on seeds 1–25, not on
these (their misses were read, though, on 6 December 2026).
Each predicted case is mapped to the truth case most of its messages belong
to; a truth case is compared through the predicted case holding most of its
messages, and counts as a miss when no predicted case maps to it.

Two measures, so a miss says where it comes from:

* ``test_metric_matches_truth_on_true_cases``: the pipeline with the true
  case of every message: the metric alone (with parties, automation and
  message times as the pipeline reads them) against the truth.
* ``test_pipeline_matches_truth``: the whole pipeline, cases included, over
  the cases of the three seeds together.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from analyzer import synthetic
from analyzer.analysis import Analysis
from analyzer.config import load_config
from analyzer.importer import import_paths
from analyzer.store import Store

# The measure is written once, in the script that prints it for any seeds.
_SPEC = importlib.util.spec_from_file_location(
    "score_cases", Path(__file__).resolve().parent.parent / "tools" / "score_cases.py")
assert _SPEC is not None and _SPEC.loader is not None
score_cases = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(score_cases)
matches = score_cases.matches

SEEDS = (11, 12, 13)
SHARE = 0.95


class Run:
    """One generated mailbox through the pipeline, with its truth."""

    def __init__(self, seed: int, folder: Path) -> None:
        self.scenario = synthetic.generate(seed)
        root = synthetic.write_maildir(self.scenario, folder / "mail")
        config = load_config(root / "analyzer.toml")
        with Store.open(folder / "s.sqlite") as store:
            import_paths(store, [root], config)
        with Analysis.open(folder / "s.sqlite", config) as analysis:
            self.messages = analysis.messages()
        self.messages["truth_case"] = score_cases.truth_cases(self.messages, self.scenario)
        self.styles = {c.case_id: c.style for c in self.scenario.truth.cases}

    def outcome(self, case_column: str) -> dict[str, list[bool]]:
        """Per ticket style, one match flag per truth case."""
        flags: dict[str, list[bool]] = score_cases.delay_agreement(
            self.messages, self.scenario, case_column)
        return flags


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Run]:
    return {seed: Run(seed, tmp_path_factory.mktemp(f"seed{seed}")) for seed in SEEDS}


def report(seed: int, outcome: dict[str, list[bool]]) -> tuple[float, str]:
    flags = [f for v in outcome.values() for f in v]
    share = sum(flags) / len(flags)
    styles = ", ".join(f"{s} {sum(v)}/{len(v)}" for s, v in sorted(outcome.items()))
    text = f"seed {seed}: {sum(flags)}/{len(flags)} = {share:.0%} ({styles})"
    print(text)
    return share, text


@pytest.mark.parametrize("seed", SEEDS)
def test_metric_matches_truth_on_true_cases(runs: dict[int, Run], seed: int) -> None:
    share, text = report(seed, runs[seed].outcome("truth_case"))
    assert share == 1.0, text


def test_pipeline_matches_truth(runs: dict[int, Run]) -> None:
    # Thirty cases a seed, so one miss weighs three points: the share is taken
    # over the cases of the three seeds together, every ticket style in it.
    flags: list[bool] = []
    texts: list[str] = []
    for seed in SEEDS:
        outcome = runs[seed].outcome("case_id")
        texts.append(report(seed, outcome)[1])
        flags += [f for v in outcome.values() for f in v]
    assert sum(flags) / len(flags) >= SHARE, "; ".join(texts)


def test_tolerance() -> None:
    assert matches(86_400.0 + 864.0, 86_400.0) and not matches(86_400.0 + 865.0, 86_400.0)
    assert matches(3_600.0 + 120.0, 3_600.0) and not matches(3_600.0 + 121.0, 3_600.0)
    assert matches(float("nan"), float("nan")) and not matches(60.0, float("nan"))


def test_a_wrong_grouping_is_caught(runs: dict[int, Run]) -> None:
    # Guards the harness: merging the cases two by two must make at least half
    # the comparisons fail (one of each pair has no case left), or a 100% above
    # would prove nothing. Renaming cases, by contrast, changes nothing.
    run = runs[SEEDS[0]]
    ids = sorted(run.styles)
    merged = {case: ids[i - i % 2] for i, case in enumerate(ids)}
    run.messages["wrong_case"] = run.messages["truth_case"].map(merged).astype(object)
    flags = [f for v in run.outcome("wrong_case").values() for f in v]
    assert sum(flags) / len(flags) <= 0.5
