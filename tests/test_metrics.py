"""Issue 4's metrics pinned on small hand-built cases, whole frames compared."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analyzer import schema
from analyzer.errors import SchemaError, UsageError
from analyzer.metrics import (
    case_metrics,
    counterpart_summary,
    demanded_deadlines,
    monthly_trend,
    turns,
    waits,
)
from analyzer.schema import message_frame

FT = "France Travail"
UTC_KW: dict[str, str] = {"timezone": "UTC"}
NAT = pd.NaT
NAN = float("nan")
HOUR = 3600.0
DAY = 86400.0


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def msg(mid: str, party: str, at: str | None, **kw: Any) -> dict[str, Any]:
    """A message of case c1 with France Travail unless told otherwise."""
    row: dict[str, Any] = {"message_id": mid, "party": party, "sent_at": at,
                           "case_id": "c1", "counterpart": FT}
    if party in ("agency", "contractor"):
        row.setdefault("from_addr", "conseiller@francetravail.fr")
    row.update(kw)
    return row


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return message_frame(rows)


def expect(contract: schema.Contract, rows: list[dict[str, Any]]) -> pd.DataFrame:
    data = pd.DataFrame(rows, columns=contract.names)
    for col in contract.columns:
        if col.kind == "datetime":
            data[col.name] = pd.to_datetime(data[col.name], utc=True)
    return schema.conform(data, contract)


def wait(case: str, requester: str, responder: str | None, asked: str, answered: str | None,
         asked_id: str, answer_id: str | None, *, reminders: int = 0, crosses: bool = False,
         delay_wd: float = NAN, age: float = NAN, age_wd: float = NAN,
         counterpart: str | None = FT) -> dict[str, Any]:
    delay = NAN if answered is None else (ts(answered) - ts(asked)).total_seconds()
    return {
        "case_id": case, "counterpart": counterpart, "requester": requester,
        "responder": responder, "asked_at": ts(asked),
        "answered_at": NAT if answered is None else ts(answered),
        "delay_seconds": delay, "delay_working_days": delay_wd,
        "open_age_seconds": age, "open_age_working_days": age_wd,
        "asked_message_id": asked_id, "answer_message_id": answer_id,
        "reminders": reminders, "crosses_closure": crosses, "is_open": answered is None,
    }


# Monday 4 March 2024 and the following days: no holiday, no DST.
MON, TUE, WED, THU, FRI = (f"2024-03-0{d}" for d in (4, 5, 6, 7, 8))
AS_OF = ts("2024-03-08T12:00Z")


# --- turns ---------------------------------------------------------------------

def test_turns_bursts_automated_undated_and_other_parties() -> None:
    m = frame(
        msg("a", "me", f"{MON}T09:00Z"),
        msg("ack", "agency", f"{MON}T09:01Z", automated=True,
            automation_kind="acknowledgement"),
        msg("b", "me", f"{MON}T09:05Z"),                 # burst: same turn as a
        msg("nodate", "agency", None),                   # undated: left out
        msg("cc", "other", f"{MON}T10:00Z"),             # a third party: left out
        msg("c", "agency", f"{TUE}T09:00Z"),
        msg("d", "me", f"{TUE}T10:00Z"),
        msg("x", "me", f"{MON}T08:00Z", case_id=None),   # no case: left out
    )
    expected = expect(schema.TURNS, [
        {"case_id": "c1", "counterpart": FT, "turn": 0, "party": "me",
         "started_at": ts(f"{MON}T09:00Z"), "ended_at": ts(f"{MON}T09:05Z"),
         "first_message_id": "a", "last_message_id": "b", "messages": 2},
        {"case_id": "c1", "counterpart": FT, "turn": 1, "party": "agency",
         "started_at": ts(f"{TUE}T09:00Z"), "ended_at": ts(f"{TUE}T09:00Z"),
         "first_message_id": "c", "last_message_id": "c", "messages": 1},
        {"case_id": "c1", "counterpart": FT, "turn": 2, "party": "me",
         "started_at": ts(f"{TUE}T10:00Z"), "ended_at": ts(f"{TUE}T10:00Z"),
         "first_message_id": "d", "last_message_id": "d", "messages": 1},
    ])
    assert_frame_equal(turns(m), expected)


def test_turns_are_numbered_per_case_and_ties_break_on_message_id() -> None:
    m = frame(
        msg("b2", "agency", f"{MON}T10:00Z", case_id="c2", counterpart="Élan"),
        msg("z", "me", f"{MON}T09:00Z"),
        msg("a2", "me", f"{MON}T10:00Z", case_id="c2", counterpart="Élan"),
        msg("y", "contractor", f"{MON}T11:00Z"),
    )
    got = turns(m)[["case_id", "turn", "party", "first_message_id"]].values.tolist()
    assert got == [["c1", 0, "me", "z"], ["c1", 1, "contractor", "y"],
                   ["c2", 0, "me", "a2"], ["c2", 1, "agency", "b2"]]


def test_turns_of_an_empty_frame() -> None:
    assert_frame_equal(turns(frame()), schema.empty(schema.TURNS))


# --- waits ---------------------------------------------------------------------

def test_waits_exchange_with_reminder_and_open_end() -> None:
    m = frame(
        msg("a", "me", f"{MON}T09:00Z"),
        msg("b", "me", f"{MON}T12:00Z"),        # a reminder: does not restart the wait
        msg("c", "agency", f"{WED}T09:00Z"),
        msg("d", "me", f"{WED}T10:00Z"),
    )
    expected = expect(schema.WAITS, [
        wait("c1", "me", "agency", f"{MON}T09:00Z", f"{WED}T09:00Z", "a", "c",
             reminders=1, delay_wd=2.0),
        wait("c1", "agency", "me", f"{WED}T09:00Z", f"{WED}T10:00Z", "c", "d",
             delay_wd=1 / 24),
        wait("c1", "me", "agency", f"{WED}T10:00Z", None, "d", None,
             age=2 * DAY + 2 * HOUR, age_wd=2 + 2 / 24),
    ])
    assert_frame_equal(waits(m, as_of=AS_OF, **UTC_KW), expected)


def test_automated_messages_in_the_middle_do_not_answer_or_split() -> None:
    m = frame(
        msg("a", "me", f"{MON}T09:00Z"),
        msg("ack", "agency", f"{MON}T09:00:30Z", automated=True,
            automation_kind="acknowledgement"),
        msg("survey", "agency", f"{TUE}T09:00Z", automated=True, automation_kind="survey"),
        msg("b", "me", f"{TUE}T12:00Z"),
        msg("c", "agency", f"{THU}T09:00Z"),
    )
    got = waits(m, as_of=AS_OF, **UTC_KW)
    assert got[["asked_message_id", "answer_message_id", "reminders", "delay_seconds"]
               ].values.tolist()[0] == ["a", "c", 1, 3 * DAY]


def test_a_wait_runs_across_a_ticket_closure() -> None:
    # Ticket T1 closed unanswered; the citizen had to open T2; the answer
    # came in T2. One wait, from the first unanswered message.
    m = frame(
        msg("a", "me", f"{MON}T09:00Z", ticket_id="T1"),
        msg("close", "agency", f"{TUE}T09:00Z", ticket_id="T1", automated=True,
            automation_kind="closure", is_closure=True),
        msg("b", "me", f"{WED}T09:00Z", ticket_id="T2"),
        msg("c", "agency", f"{FRI}T09:00Z", ticket_id="T2"),
    )
    expected = expect(schema.WAITS, [
        wait("c1", "me", "agency", f"{MON}T09:00Z", f"{FRI}T09:00Z", "a", "c",
             reminders=1, crosses=True, delay_wd=4.0),
        wait("c1", "agency", "me", f"{FRI}T09:00Z", None, "c", None,
             age=3 * HOUR, age_wd=3 / 24),
    ])
    assert_frame_equal(waits(m, as_of=AS_OF, **UTC_KW), expected)


@pytest.mark.parametrize(("closed_at", "automated", "crosses"), [
    (f"{TUE}T09:00Z", True, [True, False]),    # strictly inside the first wait
    (f"{MON}T09:00Z", True, [False, False]),   # at the very start: not inside
    (f"{WED}T09:00Z", False, [False, False]),  # a signed closure that is the answer itself
    (f"{THU}T09:00Z", True, [False, True]),    # inside the open wait, before as_of
])
def test_crosses_closure_is_strictly_inside(closed_at: str, automated: bool,
                                            crosses: list[bool]) -> None:
    rows = [msg("a", "me", f"{MON}T09:00Z"), msg("c", "agency", f"{WED}T09:00Z")]
    if automated:
        rows.append(msg("close", "agency", closed_at, automated=True, is_closure=True,
                        automation_kind="closure"))
    else:
        rows[1]["is_closure"] = True
    got = waits(frame(*rows), as_of=AS_OF, **UTC_KW)
    assert got["crosses_closure"].tolist() == crosses


def test_open_wait_responder() -> None:
    as_of = ts(f"{FRI}T09:00Z")
    # only an automated acknowledgement from the agency: it still says who owes
    ack = frame(msg("a", "me", f"{MON}T09:00Z"),
                msg("ack", "agency", f"{MON}T09:01Z", automated=True))
    assert waits(ack, as_of=as_of, **UTC_KW)["responder"].tolist() == ["agency"]
    # nothing from the counterpart: the counterpart_kind column says it
    kind = frame(msg("a", "me", f"{MON}T09:00Z", counterpart_kind="contractor"))
    assert waits(kind, as_of=as_of, **UTC_KW)["responder"].tolist() == ["contractor"]
    # nothing at all: unknown
    alone = frame(msg("a", "me", f"{MON}T09:00Z"))
    got = waits(alone, as_of=as_of, **UTC_KW)
    assert got["responder"].tolist() == [None]
    assert got["open_age_seconds"].tolist() == [4 * DAY]
    assert got["open_age_working_days"].tolist() == [4.0]
    # the counterpart spoke last: I owe the answer
    last = frame(msg("c", "agency", f"{MON}T09:00Z"))
    assert waits(last, as_of=as_of, **UTC_KW)["responder"].tolist() == ["me"]


def test_as_of_rules() -> None:
    m = frame(msg("a", "me", f"{MON}T09:00Z"))
    with pytest.raises(UsageError, match="no time zone"):
        waits(m, as_of=pd.Timestamp(f"{FRI}T09:00"))
    with pytest.raises(UsageError, match="before the last dated message"):
        waits(m, as_of=ts(f"{MON}T08:59Z"))
    same = waits(m, as_of=ts(f"{MON}T09:00Z"), **UTC_KW)
    assert same["open_age_seconds"].tolist() == [0.0]
    # an as_of in another zone is the same instant
    paris = pd.Timestamp(f"{MON}T11:00", tz="Europe/Paris")
    assert waits(m, as_of=paris, **UTC_KW)["open_age_seconds"].tolist() == [HOUR]


def test_undated_messages_neither_answer_nor_split() -> None:
    m = frame(
        msg("a", "me", f"{MON}T09:00Z"),
        msg("lost", "agency", None),
        msg("b", "me", f"{TUE}T09:00Z"),
        msg("c", "agency", f"{WED}T09:00Z"),
    )
    got = waits(m, as_of=AS_OF, **UTC_KW)
    assert got[["asked_message_id", "answer_message_id", "reminders"]].values.tolist() == [
        ["a", "c", 1], ["c", None, 0]]


def test_journal_events_count_only_as_answers() -> None:
    base = [msg("a", "me", f"{MON}T09:00Z", source="mail", answer=False)]
    call = msg("call", "agency", f"{TUE}T09:00Z", source="journal", answer=True)
    note = msg("note", "agency", f"{TUE}T09:00Z", source="journal", answer=False)
    mail = msg("c", "agency", f"{THU}T09:00Z", source="mail", answer=False)
    answered = waits(frame(*base, call, mail), as_of=AS_OF, **UTC_KW)
    assert answered["answer_message_id"].tolist()[0] == "call"
    ignored = waits(frame(*base, note, mail), as_of=AS_OF, **UTC_KW)
    assert ignored["answer_message_id"].tolist()[0] == "c"


def test_working_days_of_waits_over_holidays_and_dst() -> None:
    m = frame(
        # 14 July 2023 (a Friday): Thursday noon → Monday noon, Paris time
        msg("a", "me", "2023-07-13T10:00Z", case_id="july"),
        msg("b", "agency", "2023-07-17T10:00Z", case_id="july"),
        # Easter Monday and spring DST: Friday 29 March 2024 → Tuesday 2 April, noon
        msg("c", "me", "2024-03-29T11:00Z", case_id="easter"),
        msg("d", "agency", "2024-04-02T10:00Z", case_id="easter"),
        # autumn DST: Friday 25 → Monday 28 October 2024, noon
        msg("e", "me", "2024-10-25T10:00Z", case_id="october"),
        msg("f", "agency", "2024-10-28T11:00Z", case_id="october"),
        # 1 May 2024 (a Wednesday)
        msg("g", "me", "2024-04-30T10:00Z", case_id="may"),
        msg("h", "agency", "2024-05-02T10:00Z", case_id="may"),
    )
    got = waits(m, as_of=ts("2024-12-31T00:00Z"))
    answered = got[~got["is_open"]].set_index("case_id")
    assert answered["delay_seconds"].to_dict() == {
        "easter": 4 * DAY - HOUR, "july": 4 * DAY, "may": 2 * DAY, "october": 3 * DAY + HOUR}
    assert answered["delay_working_days"].to_dict() == pytest.approx(
        {"easter": 1.0, "july": 1.0, "may": 1.0, "october": 1.0})


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.drop(columns=["is_closure"]), "column 'is_closure' is missing"),
    (lambda m: m.assign(sent_at=m["sent_at"].dt.tz_localize(None)),
     "column 'sent_at' has dtype datetime64"),
    (lambda m: m.assign(party="citizen"), "holds 'citizen'"),
    (lambda m: m.assign(automated=None), "column 'automated'"),
    (lambda m: m.assign(answer=1), "column 'answer'"),
])
def test_waits_check_the_contract(change: Any, message: str) -> None:
    m = frame(msg("a", "me", f"{MON}T09:00Z"))
    with pytest.raises(SchemaError, match=message) as err:
        waits(change(m), as_of=AS_OF)
    assert str(err.value).startswith("waits():")


# --- per case ------------------------------------------------------------------

def rich_case() -> pd.DataFrame:
    return frame(
        msg("a", "me", f"{MON}T09:00Z", ticket_id="T1"),
        msg("ack", "agency", f"{MON}T09:01Z", ticket_id="T1", automated=True,
            automation_kind="acknowledgement", from_addr="no-reply@francetravail.fr"),
        msg("a2", "me", f"{MON}T15:00Z", ticket_id="T1"),                  # reminder
        msg("close", "agency", f"{TUE}T09:00Z", ticket_id="T1", automated=True,
            is_closure=True, automation_kind="closure",
            from_addr="no-reply@francetravail.fr"),
        msg("b", "me", f"{TUE}T10:00Z", ticket_id="T2"),                   # reopen
        # a shared no-reply sender signed by two different advisors
        msg("c", "agency", f"{WED}T10:00Z", ticket_id="T2",
            from_addr="no-reply@francetravail.fr", sender_person="Claire Dumont"),
        msg("d", "me", f"{WED}T12:00Z", ticket_id="T2"),
        msg("e", "agency", f"{THU}T12:00Z", ticket_id="T2",
            from_addr="no-reply@francetravail.fr", sender_person="Nadia BENALI"),
        msg("e2", "agency", f"{THU}T13:00Z", ticket_id="T2",
            from_addr="no-reply@francetravail.fr", sender_person="nadia benali"),
        msg("undated", "me", None, ticket_id="T2"),
        msg("f", "me", f"{THU}T18:00Z", ticket_id="T2"),
    )


def test_case_metrics_whole_row() -> None:
    m = rich_case()
    w = waits(m, as_of=AS_OF, **UTC_KW)
    # turns: me a+a2+b | agency c | me d | agency e+e2 | me f
    # waits: me→agency a→c 49 h (2 reminders, across the closure), agency→me
    # c→d 2 h, me→agency d→e 24 h, agency→me e→f 6 h (1 reminder), f open 18 h
    expected = expect(schema.CASES, [{
        "case_id": "c1", "counterpart": FT, "messages": 11, "journal_events": 0,
        "undated_messages": 1, "tickets": 2, "reopens": 1, "closures": 1,
        "interlocutors": 2, "waits": 4, "open_waits": 1, "reminders": 3,
        "my_reminders": 2, "their_reminders": 1,
        "their_median_delay_seconds": (49 + 24) / 2 * HOUR,
        "their_p90_delay_seconds": (24 + 0.9 * 25) * HOUR,
        "my_median_delay_seconds": 4 * HOUR,
        "asymmetry": 36.5 / 4,
        "longest_silence_seconds": 24 * HOUR,
        "open_wait_age_seconds": 18 * HOUR,
        "open_wait_responder": "agency",
        "first_message_at": ts(f"{MON}T09:00Z"), "last_message_at": ts(f"{THU}T18:00Z"),
        "their_median_delay_working_days": 36.5 / 24,
        "their_p90_delay_working_days": (24 + 0.9 * 25) / 24,
        "my_median_delay_working_days": 4 / 24,
        "asymmetry_working_days": 36.5 / 4,
        "longest_silence_working_days": 1.0,
        "open_wait_age_working_days": 18 / 24,
    }])
    assert_frame_equal(case_metrics(m, w, **UTC_KW), expected, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize(("their", "mine", "asymmetry"), [
    ([2 * DAY], [HOUR], 48.0),
    ([2 * DAY], [0.0], NAN),          # I answered at once: not infinitely favourable
    ([2 * DAY], [], NAN),             # I never answered
    ([], [HOUR], NAN),                # they never answered
    ([0.0], [HOUR], 0.0),
    ([HOUR, 3 * HOUR, 100 * HOUR], [HOUR, HOUR], 3.0),  # medians, not means
])
def test_asymmetry_edge_cases(their: list[float], mine: list[float], asymmetry: float) -> None:
    rows = [wait("c1", "me", "agency", f"{MON}T09:00Z", f"{MON}T09:00Z", "x", "y")
            for _ in their] + [
            wait("c1", "agency", "me", f"{MON}T09:00Z", f"{MON}T09:00Z", "x", "y")
            for _ in mine]
    w = expect(schema.WAITS, rows)
    w["delay_seconds"] = [*their, *mine]
    w["delay_working_days"] = w["delay_seconds"] / DAY
    got = case_metrics(frame(msg("a", "me", f"{MON}T09:00Z")), w, **UTC_KW)
    value = got["asymmetry"].iloc[0]
    assert (math.isnan(value) and math.isnan(asymmetry)) or value == asymmetry
    assert not np.isinf(got[["asymmetry", "asymmetry_working_days"]].to_numpy()).any()


@pytest.mark.parametrize(("senders", "expected"), [
    # (from_addr, sender_person, automated, party)
    ([("no-reply@ft.fr", "Claire Dumont", False, "agency"),
      ("no-reply@ft.fr", "Nadia Benali", False, "agency")], 2),
    ([("no-reply@ft.fr", "Hélène Durand", False, "agency"),
      ("h.durand@ft.fr", "helene  DURAND", False, "agency")], 1),
    ([("no-reply@ft.fr", None, False, "agency"),
      ("no-reply@ft.fr", "", False, "agency"),
      ("NO-REPLY@ft.fr", None, False, "agency")], 1),
    ([("no-reply@ft.fr", None, False, "agency"),
      ("no-reply@ft.fr", "Claire Dumont", False, "agency")], 2),
    ([("no-reply@ft.fr", "Robot", True, "agency"),
      ("julie@perso.fr", "Julie Moreau", False, "me")], 0),
    ([("a@elan.fr", None, False, "contractor"), ("b@ft.fr", None, False, "agency")], 2),
])
def test_interlocutors(senders: list[tuple[str, str | None, bool, str]], expected: int) -> None:
    rows = [msg(f"m{i}", party, f"{MON}T0{i}:00Z", from_addr=addr, sender_person=person,
                automated=auto)
            for i, (addr, person, auto, party) in enumerate(senders)]
    m = frame(*rows)
    got = case_metrics(m, waits(m, as_of=AS_OF), **UTC_KW)
    assert got["interlocutors"].tolist() == [expected]


@pytest.mark.parametrize(("rows", "tickets", "reopens", "closures"), [
    # no closure: a second ticket is not a reopening
    ([("a", "T1", False, MON), ("b", "T2", False, TUE)], 2, 0, 0),
    # a ticket opened after a closure is one
    ([("a", "T1", False, MON), ("x", "T1", True, TUE), ("b", "T2", False, WED)], 2, 1, 1),
    # the closed ticket written to again is not a new ticket
    ([("a", "T1", False, MON), ("x", "T1", True, TUE), ("b", "T1", False, WED)], 1, 0, 1),
    # a ticket already open before the closure is not a reopening
    ([("a", "T1", False, MON), ("b", "T2", False, TUE), ("x", "T1", True, WED),
      ("c", "T2", False, THU)], 2, 0, 1),
    # two closures, two reopenings
    ([("a", "T1", False, MON), ("x", "T1", True, TUE), ("b", "T2", False, WED),
      ("y", "T2", True, THU), ("c", "T3", False, FRI)], 3, 2, 2),
])
def test_tickets_reopens_closures(rows: list[tuple[str, str, bool, str]], tickets: int,
                                  reopens: int, closures: int) -> None:
    m = frame(*[msg(mid, "agency" if closed else "me", f"{day}T09:00Z", ticket_id=ticket,
                    is_closure=closed, automated=closed)
                for mid, ticket, closed, day in rows])
    got = case_metrics(m, waits(m, as_of=AS_OF), **UTC_KW)
    assert got[["tickets", "reopens", "closures"]].values.tolist() == [
        [tickets, reopens, closures]]


def test_case_without_turns() -> None:
    m = frame(msg("ack", "agency", f"{MON}T09:00Z", automated=True),
              msg("nodate", "me", None))
    got = case_metrics(m, waits(m, as_of=AS_OF), **UTC_KW)
    row = got.iloc[0]
    assert (row["messages"], row["waits"], row["open_waits"], row["undated_messages"]) == (
        2, 0, 0, 1)
    assert math.isnan(row["longest_silence_seconds"])
    assert math.isnan(row["their_median_delay_seconds"]) and math.isnan(row["asymmetry"])
    assert row["first_message_at"] == ts(f"{MON}T09:00Z")


def test_longest_silence_ignores_automated_mail_and_the_open_tail() -> None:
    m = frame(
        msg("a", "me", f"{MON}T09:00Z"),
        msg("ack", "agency", f"{TUE}T09:00Z", automated=True),   # does not cut the silence
        msg("c", "agency", f"{THU}T09:00Z"),
    )
    got = case_metrics(m, waits(m, as_of=ts("2024-06-01T00:00Z")), **UTC_KW)
    assert got["longest_silence_seconds"].tolist() == [3 * DAY]
    assert got["longest_silence_working_days"].tolist() == [3.0]


def test_journal_events_are_counted_apart() -> None:
    m = frame(msg("a", "me", f"{MON}T09:00Z", source="mail", answer=False),
              msg("call", "agency", f"{TUE}T09:00Z", source="journal", answer=True),
              msg("visit", "me", f"{WED}T09:00Z", source="journal", answer=False))
    got = case_metrics(m, waits(m, as_of=AS_OF), **UTC_KW)
    assert got[["messages", "journal_events", "waits"]].values.tolist() == [[1, 2, 1]]
    assert got["their_median_delay_seconds"].tolist() == [DAY]


# --- demanded deadlines ---------------------------------------------------------

def test_demand_beside_their_delay() -> None:
    # The control story: 48 hours demanded, weeks of agency silence.
    m = frame(
        msg("ctl", "agency", "2024-03-04T09:00Z",
            body_text="Vous devez nous transmettre vos justificatifs sous 48h."),
        msg("a", "me", "2024-03-04T18:00Z"),
        msg("c", "agency", "2024-03-27T18:00Z"),
    )
    expected = expect(schema.DEADLINES, [{
        "case_id": "c1", "counterpart": FT, "message_id": "ctl",
        "sent_at": ts("2024-03-04T09:00Z"), "phrase": "sous 48h", "kind": "duration",
        "due_at": ts("2024-03-06T09:00Z"), "demanded_seconds": 2 * DAY,
        "demanded_working_days": 2.0,
        "their_median_delay_seconds": 23 * DAY, "their_median_delay_working_days": 17.0,
    }])
    assert_frame_equal(demanded_deadlines(m), expected)
    # the same from precomputed waits
    assert_frame_equal(demanded_deadlines(m, waits(m, as_of=AS_OF.replace(month=4))),
                       expected)


def test_demand_on_a_friday_leaves_less_than_a_working_day() -> None:
    m = frame(msg("f", "agency", "2024-03-08T10:00Z", body_text="Répondez sous 48 heures."))
    got = demanded_deadlines(m)
    assert got["demanded_seconds"].tolist() == [2 * DAY]
    # Friday 11:00 Paris to Sunday: 13 hours of one working day
    assert got["demanded_working_days"].tolist() == pytest.approx([13 / 24])
    assert math.isnan(got["their_median_delay_seconds"].iloc[0])


def test_which_messages_are_read_for_demands() -> None:
    m = frame(
        msg("ack", "agency", f"{MON}T09:00Z", automated=True,
            automation_kind="acknowledgement",
            body_text="Nous vous répondrons sous 48h."),           # a promise
        msg("mine", "me", f"{MON}T10:00Z", body_text="Merci de répondre sous 48h."),
        msg("quoted", "agency", f"{TUE}T09:00Z",
            body_text="Bien reçu.\n\nLe 3 mars 2024, X a écrit :\n> répondez sous 8 jours"),
        msg("notice", "agency", f"{TUE}T10:00Z", automated=True,
            automation_kind="notification",
            body_text="Vous disposez d'un délai de 15 jours pour compléter."),
        msg("vague", "agency", f"{WED}T10:00Z",
            body_text="Merci de répondre dans les plus brefs délais."),
        msg("dated", "agency", f"{WED}T11:00Z",
            body_text="Envoyez le formulaire avant le 21/03/2024."),
        msg("undated", "agency", None, body_text="Répondez sous 48h."),
        msg("campaign", "contractor", f"{WED}T12:00Z", automated=True,
            automation_kind="bulk",                                 # mass mail still demands
            body_text="Cet accompagnement est OBLIGATOIRE. Merci de prendre rendez-vous "
                      "sous 8 jours."),
    )
    got = demanded_deadlines(m)
    assert got["message_id"].tolist() == ["notice", "vague", "dated", "campaign"]
    assert got["demanded_seconds"].iloc[0] == 15 * DAY
    assert math.isnan(got["demanded_seconds"].iloc[1])
    assert pd.isna(got["due_at"].iloc[1])
    # a bare date falls due at the end of that day, Paris time
    assert got["due_at"].iloc[2] == ts("2024-03-21T22:59:59Z")
    assert got["demanded_seconds"].iloc[3] == 8 * DAY


def test_no_demand_gives_the_empty_contract() -> None:
    got = demanded_deadlines(frame(msg("a", "me", f"{MON}T09:00Z")))
    assert_frame_equal(got, schema.empty(schema.DEADLINES))


# --- across cases --------------------------------------------------------------

def summary_waits() -> pd.DataFrame:
    rows = [
        wait("c1", "me", "agency", f"{MON}T00:00Z", f"{MON}T10:00Z", "a", "b",
             delay_wd=10 / 24),
        wait("c1", "agency", "me", f"{MON}T10:00Z", f"{MON}T11:00Z", "b", "c",
             delay_wd=1 / 24),
        wait("c2", "me", "agency", f"{MON}T00:00Z", f"{MON}T20:00Z", "d", "e",
             delay_wd=20 / 24),
        wait("c2", "me", "agency", f"{TUE}T00:00Z", None, "f", None, age=DAY, age_wd=1.0),
        wait("c3", "me", "contractor", f"{MON}T00:00Z", f"{MON}T04:00Z", "g", "h",
             delay_wd=4 / 24, counterpart="Élan"),
        wait("c3", "contractor", "me", f"{MON}T04:00Z", f"{MON}T06:00Z", "h", "i",
             delay_wd=2 / 24, counterpart="Élan"),
    ]
    return expect(schema.WAITS, rows)


def test_counterpart_summary_whole_frame() -> None:
    cases = pd.DataFrame({"case_id": ["c1", "c2", "c3", "c4"],
                          "counterpart": [FT, FT, "Élan", "Élan"]})

    def row(name: str | None, cases_n: int, waits_n: int, open_n: int, their: list[float],
            mine: list[float]) -> dict[str, Any]:
        t, m = pd.Series(their, dtype=float), pd.Series(mine, dtype=float)
        out: dict[str, Any] = {"counterpart": name, "overall": name is None,
                               "cases": cases_n, "waits": waits_n, "open_waits": open_n,
                               "their_waits": len(their), "my_waits": len(mine)}
        for unit, scale in (("seconds", HOUR), ("working_days", 1 / 24)):
            for who, values in (("their", t), ("my", m)):
                out[f"{who}_median_delay_{unit}"] = values.median() * scale
                out[f"{who}_p90_delay_{unit}"] = values.quantile(0.9) * scale
        out["asymmetry"] = t.median() / m.median()
        out["asymmetry_working_days"] = t.median() / m.median()
        return out

    expected = expect(schema.COUNTERPARTS, [
        row(FT, 2, 3, 1, [10, 20], [1]),
        row("Élan", 2, 2, 0, [4], [2]),
        row(None, 4, 5, 1, [10, 20, 4], [1, 2]),
    ])
    got = counterpart_summary(cases, summary_waits())
    assert got["counterpart"].tolist() == ["France Travail", "Élan", None]
    assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_monthly_trend_whole_frame() -> None:
    w = summary_waits()
    # 23:30 UTC on 29 February is already March in Paris
    w.loc[0, "asked_at"] = ts("2024-02-29T23:30Z")
    w.loc[0, "delay_seconds"] = 7 * HOUR
    unknown = expect(schema.WAITS, [wait("c9", "me", None, f"{MON}T00:00Z", None, "z", None,
                                         age=DAY, age_wd=1.0)])
    w = pd.concat([w, unknown], ignore_index=True)
    expected = expect(schema.MONTHLY, [
        {"month": "2024-03", "responder": "agency", "waits": 2, "open_waits": 1,
         "median_delay_seconds": 13.5 * HOUR, "p90_delay_seconds": 7 * HOUR + 0.9 * 13 * HOUR,
         "median_delay_working_days": 15 / 24},
        {"month": "2024-03", "responder": "contractor", "waits": 1, "open_waits": 0,
         "median_delay_seconds": 4 * HOUR, "p90_delay_seconds": 4 * HOUR,
         "median_delay_working_days": 4 / 24},
        {"month": "2024-03", "responder": "me", "waits": 2, "open_waits": 0,
         "median_delay_seconds": 1.5 * HOUR, "p90_delay_seconds": HOUR + 0.9 * HOUR,
         "median_delay_working_days": 1.5 / 24},
    ])
    assert_frame_equal(monthly_trend(w, "Europe/Paris"), expected, check_exact=False,
                       rtol=1e-12)
    assert monthly_trend(w, "UTC")["month"].tolist()[0] == "2024-02"


# --- scale and independent truth ----------------------------------------------------

def big_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cases = rng.integers(0, n // 5, n)
    parties = rng.choice(np.array(["me", "agency", "contractor", "other"], dtype=object), n,
                         p=[0.45, 0.4, 0.1, 0.05])
    sent = pd.Timestamp("2019-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 6 * 365 * 86400, n), unit="s")
    sent = pd.Series(sent).where(rng.random(n) > 0.01)
    automated = rng.random(n) < 0.2
    data = pd.DataFrame({
        "message_id": [f"m{i}" for i in range(n)],
        "case_id": [f"c{c}" for c in cases],
        "ticket_id": [f"t{c}-{k}" for c, k in zip(cases, rng.integers(0, 3, n), strict=True)],
        "party": parties, "counterpart": FT, "automated": automated,
        "automation_kind": np.where(automated, "acknowledgement", None),
        "sent_at": sent, "from_addr": [f"a{k}@ft.fr" for k in rng.integers(0, 50, n)],
        "from_name": None,
        "sender_person": np.where(rng.random(n) < 0.5, "Claire Dumont", None),
        "is_closure": rng.random(n) < 0.05, "subject": "s", "body_text": "",
    })
    return schema.conform(data, schema.MESSAGES)


def test_100k_messages_meet_the_contracts() -> None:
    # Speed at this size is measured by benchmarks/bench_import.py, not here.
    m = big_frame(100_000)
    w = waits(m, as_of=ts("2030-01-01T00:00Z"))
    c = case_metrics(m, w)
    counterpart_summary(c, w)
    monthly_trend(w)
    schema.check(w, schema.WAITS, "test")
    schema.check(c, schema.CASES, "test")


@pytest.mark.parametrize("seed", [1, 7])
def test_waits_match_the_generator_truth(seed: int) -> None:
    # The generator's truth computes waits on its own; fed the true cases and
    # parties, waits() must find exactly the same ones.
    synthetic = pytest.importorskip("analyzer.synthetic")
    scenario = synthetic.generate(seed, members=2, cases=30, unrelated=10)
    truth = scenario.truth
    m = schema.message_frame(
        {"message_id": t.message_id, "case_id": t.case_id, "ticket_id": t.ticket_id,
         "party": t.party, "counterpart": t.counterpart, "automated": t.automated,
         "sent_at": t.sent_at.isoformat()}
        for t in truth.messages)
    got = waits(m, as_of=m["sent_at"].max())
    expected = pd.DataFrame(synthetic.truth_waits(truth))
    assert len(got) == len(expected)
    pairs = got.merge(expected, on=["case_id", "asked_message_id"], suffixes=("", "_truth"))
    assert len(pairs) == len(got)
    assert (pairs["answer_message_id"].fillna("") == pairs["answer_message_id_truth"]
            .fillna("")).all()
    answered = pairs[~pairs["is_open"]]
    assert (answered["delay_seconds"] == answered["delay_seconds_truth"].astype(float)).all()


def test_input_typed_the_pandas_3_way() -> None:
    # Frames built by pandas 3 hold text in its str dtype and dates in
    # microseconds; the result must be the same as from the canonical frame.
    rows = [msg("a", "me", f"{MON}T09:00Z"), msg("b", "agency", f"{TUE}T09:00Z",
                                                 body_text="Répondez sous 48h.")]
    canonical = frame(*rows)
    loose = pd.DataFrame({c: canonical[c].tolist() for c in canonical.columns})
    loose["sent_at"] = canonical["sent_at"].astype("datetime64[us, UTC]")
    for column in ("message_id", "case_id", "party", "counterpart", "body_text"):
        loose[column] = loose[column].astype("string")
    assert_frame_equal(waits(loose, as_of=AS_OF), waits(canonical, as_of=AS_OF))
    w = waits(canonical, as_of=AS_OF)
    assert_frame_equal(case_metrics(loose, w), case_metrics(canonical, w))
    assert_frame_equal(demanded_deadlines(loose), demanded_deadlines(canonical))
    assert_frame_equal(turns(loose), turns(canonical))
