"""The sample mailbox's stories read true through ``Analysis``: the control story
shows a 48-hour demand beside weeks of agency silence, and every wait a
reader of the stories names (``expected.json`` ``key_waits``) is checked
against ``Analysis.waits``.

Where a reader's wait is not a wait of the metric's definition (README,
"Metrics"), the test says which rule makes the difference and checks what the
metric gives instead; those differences are listed in ``READER_VS_METRIC``.
"""

from __future__ import annotations

import email.utils
import gc
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from analyzer import analysis as analysis_module
from analyzer import schema
from analyzer.analysis import Analysis, _collector_paused, _utc_times
from analyzer.config import load_config
from analyzer.importer import import_paths
from analyzer.store import Store
from tests.conftest import SAMPLE_MAILBOX

AS_OF = "2024-03-01T00:00:00Z"
DAY = 86_400.0
CONTROL_DEMAND = "72DC1B6C1B12E8F2BDC97DC3F7A3F83B@EXMBX07.pole-emploi.fr"
CONTROL_FIRST_REPLY = "1abb9d2b-14f1-c43a-b18b-8bdd8486333f@exemple-perso.fr"
CONTROL_CLOSURE = "ADD4C0210EFCF9D8E72C670CF55A4C1F@EXMBX04.pole-emploi.fr"
CONTROL_REMINDERS = (
    "eb796d1f-d741-c9ba-72d5-957cd0108340@exemple-perso.fr",
    "9a0304f4-ba7f-e762-8421-c9a70369fbd5@exemple-perso.fr",
    "92b22b39-97ad-2ce6-a2df-7e2053b20532@exemple-perso.fr",
)

#: key_waits entries (asked, answer) that are not waits by the metric's
#: definition, and why. Each is checked by ``test_reader_wait_differs_as_documented``.
READER_VS_METRIC: dict[tuple[str, str | None], str] = {
    ("9a0304f4-ba7f-e762-8421-c9a70369fbd5@exemple-perso.fr", CONTROL_CLOSURE):
        "reminder: a wait starts at the first message of my turn (19 Feb), not at a later "
        "message of the same turn",
    ("92b22b39-97ad-2ce6-a2df-7e2053b20532@exemple-perso.fr", CONTROL_CLOSURE):
        "reminder: a reminder does not restart the wait",
    ("cb12e7f1-9a02-42e1-ac16-380b769009fc@exemple-perso.fr", None):
        "closure: a wait runs across closures; the reader stops it at the closure notice",
    ("41d97c79-2a9f-4466-d2de-a54e175691be@exemple-perso.fr",
     "notif-f4e21ec8bdc9e845df98@notifications.pole-emploi.fr"):
        "reminder: the new request after the closure continues my unanswered turn",
    ("464f41f5-9bfd-4d84-9a77-e900ddb6b6e3@exemple-perso.fr",
     "20240201153008.2024-019844.b2aa086cb0@crm.francetravail.fr"):
        "span: first message to decision is the case's length, not one wait",
    ("ed7fb9123f2d314b1da2a5aa@relais-rdv.fr",
     "310a06eb-677b-1c8a-93ad-1da040397b3d@exemple-perso.fr"):
        "one side: the contractor's mail follows the agency's answer in the same case, so "
        "both are one counterpart turn, started by the agency",
}


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads((SAMPLE_MAILBOX / "expected.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    path = tmp_path_factory.mktemp("sample") / "s.sqlite"
    with Store.open(path) as store:
        import_paths(store, [SAMPLE_MAILBOX], config)
    with Analysis.open(path, config) as opened:
        yield opened


@pytest.fixture(scope="module")
def messages(analysis: Analysis) -> pd.DataFrame:
    return analysis.messages().set_index("message_id")


@pytest.fixture(scope="module")
def waits(analysis: Analysis) -> pd.DataFrame:
    return analysis.waits(as_of=AS_OF)


def test_messages_honour_the_contract_every_metric_checks(analysis: Analysis) -> None:
    # Notebooks hand Analysis.messages() straight to the metrics, which check
    # their input against schema.MESSAGES: the library's own output must pass.
    messages = analysis.messages()
    schema.check(messages, schema.MESSAGES, "Analysis.messages()")
    assert messages["case_id"].notna().any() and messages["automated"].any()


def case_of(messages: pd.DataFrame, message_id: str) -> str:
    return str(messages.loc[message_id, "case_id"])


def wait_holding(waits: pd.DataFrame, messages: pd.DataFrame, message_id: str) -> pd.Series:
    """The wait whose asking turn holds ``message_id`` (as its first message or a reminder)."""
    row = messages.loc[message_id]
    mine = row["party"] == "me"
    found = waits[waits["case_id"].eq(row["case_id"])
                  & waits["requester"].eq("me").eq(mine)
                  & (waits["asked_at"] <= row["sent_at"])
                  & (waits["answered_at"].isna() | (waits["answered_at"] > row["sent_at"]))]
    assert len(found) == 1, message_id
    return found.iloc[0]


def near(days: float, approx: float) -> bool:
    # approx_days is written to the precision a reader gives (0.2, 8, 14.1);
    # a quarter of an hour is allowed below that.
    decimals = len(repr(approx).split(".")[1]) if "." in repr(approx) else 0
    return abs(days - approx) <= max(0.5 * 10 ** -decimals, 0.01)


def test_control_story_shows_a_48_hour_demand_beside_weeks_of_silence(
        analysis: Analysis, messages: pd.DataFrame, waits: pd.DataFrame) -> None:
    case = case_of(messages, CONTROL_DEMAND)
    deadlines = analysis.deadlines(as_of=AS_OF, case=case)
    demand = deadlines[deadlines["phrase"].str.casefold() == "sous 48 heures"]
    assert demand[["message_id", "kind", "demanded_seconds", "demanded_working_days",
                   "their_median_delay_seconds"]].values.tolist() == [
        [CONTROL_DEMAND, "duration", 48 * 3600.0, 2.0, 4_914_024.0]]

    theirs = waits[waits["case_id"].eq(case) & waits["responder"].eq("agency")]
    assert len(theirs) == 1
    silence = theirs.iloc[0]
    # Her first batch of proofs (19 Feb 16:02) to the closure letter (16 Apr
    # 14:03), the other two batches and the reminder counting as reminders.
    assert (silence["asked_message_id"], silence["answer_message_id"]) == (
        CONTROL_FIRST_REPLY, CONTROL_CLOSURE)
    assert silence["delay_seconds"] == 4_914_024.0
    assert round(silence["delay_seconds"] / DAY) == 57
    assert silence["delay_seconds"] // (7 * DAY) == 8  # weeks
    assert silence["reminders"] == len(CONTROL_REMINDERS)

    mine = waits[waits["case_id"].eq(case) & waits["responder"].eq("me") & ~waits["is_open"]]
    assert mine[["asked_message_id", "answer_message_id", "delay_seconds"]].values.tolist() == [
        [CONTROL_DEMAND, CONTROL_FIRST_REPLY, 17_291.0]]
    row = analysis.cases(as_of=AS_OF, case=case).iloc[0]
    assert row["asymmetry"] == pytest.approx(4_914_024 / 17_291)


def test_every_key_wait_is_listed_as_agreeing_or_documented(expected: dict[str, Any]) -> None:
    named = {(w["asked_message_id"], w["answer_message_id"]) for w in expected["key_waits"]}
    assert set(READER_VS_METRIC) <= named


def _key_waits() -> list[Any]:
    data = json.loads((SAMPLE_MAILBOX / "expected.json").read_text("utf-8"))
    return [pytest.param(w, id=f"{w['case']}:{w['asked_message_id'][:8]}")
            for w in data["key_waits"]
            if (w["asked_message_id"], w["answer_message_id"]) not in READER_VS_METRIC]


@pytest.mark.parametrize("key", _key_waits())
def test_key_wait(key: dict[str, Any], messages: pd.DataFrame, waits: pd.DataFrame) -> None:
    found = waits[waits["asked_message_id"].eq(key["asked_message_id"])]
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["requester"], row["responder"], row["answer_message_id"]) == (
        key["requester"], key["responder"], key["answer_message_id"])
    assert row["case_id"] == case_of(messages, key["asked_message_id"])
    assert near(row["delay_seconds"] / DAY, key["approx_days"]), row["delay_seconds"] / DAY


def _time(messages: pd.DataFrame, message_id: str) -> pd.Timestamp:
    return pd.Timestamp(messages.loc[message_id, "sent_at"])


def test_reader_wait_differs_as_documented(expected: dict[str, Any], messages: pd.DataFrame,
                                           waits: pd.DataFrame) -> None:
    for key in expected["key_waits"]:
        asked, answer = key["asked_message_id"], key["answer_message_id"]
        why = READER_VS_METRIC.get((asked, answer))
        if why is None:
            continue
        kind = why.split(":")[0]
        held = wait_holding(waits, messages, asked)
        if kind == "reminder":
            # The reader's start is a later message of a turn whose wait began earlier.
            assert held["asked_message_id"] != asked
            assert held["asked_at"] < _time(messages, asked)
            assert held["reminders"] >= 1
        elif kind == "closure":
            # The wait goes on past the closure notice the reader stops at.
            assert held["asked_message_id"] == asked
            assert bool(held["crosses_closure"])
            closure = "20231121110502.2023-418552.6f13ba4558@crm.pole-emploi.fr"
            days = (_time(messages, closure) - _time(messages, asked)).total_seconds() / DAY
            assert near(days, key["approx_days"])
        elif kind == "span":
            assert waits[waits["asked_message_id"].eq(asked)]["answer_message_id"].tolist() != [
                answer]
            days = (_time(messages, answer) - _time(messages, asked)).total_seconds() / DAY
            assert near(days, key["approx_days"])
        else:
            assert kind == "one side"
            assert held["requester"] == "agency"
            assert held["answer_message_id"] == answer
        if answer is not None and kind == "reminder" and held["answer_message_id"] == answer:
            days = (_time(messages, answer) - _time(messages, asked)).total_seconds() / DAY
            assert near(days, key["approx_days"])


def test_portal_notifications_answer_their_own_case(messages: pd.DataFrame,
                                                    waits: pd.DataFrame) -> None:
    held = wait_holding(waits, messages, "cb12e7f1-9a02-42e1-ac16-380b769009fc@exemple-perso.fr")
    assert held["answer_message_id"] == "notif-f4e21ec8bdc9e845df98@notifications.pole-emploi.fr"


def _demanded_hours(analysis: Analysis) -> dict[tuple[str, str], float]:
    found = analysis.deadlines(as_of=AS_OF)
    durations = found[found["kind"].eq("duration")]
    return {(m, p.casefold()): s / 3600 for m, p, s in
            durations[["message_id", "phrase", "demanded_seconds"]].itertuples(index=False)}


CAMPAIGN_DEMAND = "cmp.511f6d2a520f52317885bd83@campagnes.elanparcours-conseil.fr"


def test_expected_deadlines(analysis: Analysis, expected: dict[str, Any]) -> None:
    got = _demanded_hours(analysis)
    for want in expected["deadlines"]:
        assert got[(want["message_id"], want["phrase"].casefold())] == want["demanded_hours"]


def test_campaign_demand_is_read(analysis: Analysis, expected: dict[str, Any]) -> None:
    # The contractor's campaign mail is bulk mail (Precedence, List-Unsubscribe)
    # and still demands: "OBLIGATOIRE. Merci de prendre rendez-vous sous 8 jours".
    messages = analysis.messages().set_index("message_id")
    assert messages.loc[CAMPAIGN_DEMAND, "automation_kind"] == "bulk"
    want = next(d for d in expected["deadlines"] if d["message_id"] == CAMPAIGN_DEMAND)
    assert _demanded_hours(analysis)[(CAMPAIGN_DEMAND, want["phrase"].casefold())] == 192.0
    assert want["demanded_hours"] == 192.0


# --- the case build saved in the store ----------------------------------------


@pytest.fixture()
def sample_store(tmp_path: Any) -> Any:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        import_paths(store, [SAMPLE_MAILBOX], config)
    return path, config


def _tamper(path: Any) -> None:
    """Rename one case in the saved build behind the builder's back: whoever
    reads that name read the saved build."""
    with Store.open(path) as store:
        store.conn.execute(
            "UPDATE built_columns SET values_json = json_set(values_json, '$[' || "
            "(SELECT min(key) FROM json_each(values_json) WHERE value IS NOT NULL) || ']', "
            "'C-tampered') WHERE name = 'case_id'")


def _first_case(path: Any, config: Any) -> Any:
    with Analysis.open(path, config) as fresh:
        return fresh.messages()["case_id"].dropna().iloc[0]


def test_saved_build_is_read_back_equal_to_a_new_build(sample_store: Any) -> None:
    path, config = sample_store
    with Analysis.open(path, config) as first:
        made = first.build()
    with Analysis.open(path, config) as second:
        read = second.build()
    pd.testing.assert_frame_equal(read.messages, made.messages)
    pd.testing.assert_frame_equal(read.links, made.links)
    _tamper(path)
    assert _first_case(path, config) == "C-tampered"


@pytest.mark.parametrize("saved", [False, True], ids=["new build", "saved build"])
def test_a_build_runs_with_the_collector_paused_and_leaves_it_on(
        sample_store: Any, saved: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    path, config = sample_store
    if saved:
        with Analysis.open(path, config) as first:
            first.build()
    states: list[bool] = []
    step = "_frame_from_saved" if saved else "build_cases"
    real = getattr(analysis_module, step)

    def spy(*args: Any) -> Any:
        states.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(analysis_module, step, spy)
    with Analysis.open(path, config) as analysis:
        assert len(analysis.messages()) == 75
    assert states == [False]
    assert gc.isenabled()


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_paused_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with pytest.raises(KeyError), _collector_paused():
            assert not gc.isenabled()
            raise KeyError("a failed build")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_saved_build_is_made_anew_after_an_import(sample_store: Any, tmp_path: Any) -> None:
    from tests.builders import message

    path, config = sample_store
    original = _first_case(path, config)
    _tamper(path)
    extra = tmp_path / "extra.eml"
    extra.write_bytes(message(message_id="<unrelated@example.org>", to="ami@example.org"))
    with Store.open(path) as store:
        import_paths(store, [extra], config)
    assert _first_case(path, config) == original


def test_saved_build_is_made_anew_after_a_correction(sample_store: Any) -> None:
    path, config = sample_store
    original = _first_case(path, config)
    _tamper(path)
    with Store.open(path) as store:
        store.add_correction("split", "a@example.org", "b@example.org")
    assert _first_case(path, config) == original


def test_saved_build_is_made_anew_under_another_config(sample_store: Any) -> None:
    import dataclasses

    path, config = sample_store
    _first_case(path, config)
    _tamper(path)
    other = dataclasses.replace(config, me=(*config.me, "autre.adresse@example.org"))
    assert _first_case(path, other) != "C-tampered"
    # The build saved under the other config replaced the tampered one.
    assert _first_case(path, config) != "C-tampered"


def test_a_build_holds_until_a_message_dated_ahead_would_count_at_its_date(
        sample_store: Any, tmp_path: Any) -> None:
    from tests.builders import message

    path, config = sample_store
    ahead = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    extra = tmp_path / "ahead.eml"
    extra.write_bytes(message(message_id="<ahead@example.org>", to="ami@example.org",
                              date=email.utils.format_datetime(ahead)))
    with Store.open(path) as store:
        import_paths(store, [extra], config)
    original = _first_case(path, config)
    with Store.open(path) as store:
        until = store.meta("build_valid_until")
    # Dated a month ahead, it counts at its delivery time until two days
    # before that date; the build is made again from then on.
    assert until == (ahead - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _tamper(path)
    assert _first_case(path, config) == "C-tampered"
    with Store.open(path) as store:
        store.set_meta("build_valid_until", "2000-01-01T00:00:00Z")
    assert _first_case(path, config) == original


_ODD_TIMES = [
    "2020-02-19T09:14:00Z", "1970-01-01T00:00:00Z", "5138-11-16T09:46:39Z",
    "999-01-01T00:00:00Z", "0999-01-01T00:00:00Z", "2020-02-30T00:00:00Z",
    "2020-02-19T24:00:00Z", "2020-2-19T09:14:00Z", "2020-02-19T09:14:00+01:00", "2020-02-19",
    "2020-02-19 09:14:00Z", "2020-02-19T09:14:00", "2020-02-19T09:14:00.5Z",
    "2020-02-19t09:14:00z", " 2020-02-19T09:14:00Z", "２０２０-02-19T09:14:00Z", "garbage", "",
    None,
]


@pytest.mark.parametrize("values", [_ODD_TIMES, _ODD_TIMES[:2], [None, "x"], [None], []])
@pytest.mark.parametrize("dtype", ["str", object])
def test_stored_times_read_as_the_strftime_format_reads_them(values: list[str | None],
                                                             dtype: Any) -> None:
    # The stored shape takes pandas' fast ISO 8601 reader; every other text,
    # and the column's dtype, must come out as the format alone gives them.
    text = pd.Series(values, dtype=dtype)
    expected = pd.to_datetime(text, utc=True, format="%Y-%m-%dT%H:%M:%SZ", errors="coerce")
    pd.testing.assert_series_equal(_utc_times(text), expected)
