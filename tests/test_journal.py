"""The journal of events outside the mailbox: formats, errors, joining cases and turns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analyzer import schema
from analyzer.config import Config, parse_config
from analyzer.errors import UsageError
from analyzer.journal import attach_journal, bare_message_id, read_journal
from analyzer.metrics import waits
from analyzer.schema import message_frame


@pytest.fixture
def config() -> Config:
    return parse_config({"counterpart": [
        {"name": "France Travail", "kind": "agency", "domains": ["francetravail.fr"]},
        {"name": "Élan Parcours Conseil", "kind": "contractor", "id": "elan",
         "domains": ["elanparcours-conseil.fr"]},
    ]})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


CSV = (
    "date,counterpart,direction,kind,note,case,answer\n"
    "2024-03-05 10:30,France Travail,in,phone,Appel de la conseillère,<m1@ft.fr>,true\n"
    "2024-03-06,elan,out,letter,Courrier recommandé,,\n"
)


def test_csv_whole_frame(tmp_path: Path, config: Config) -> None:
    got = read_journal(write(tmp_path, "journal.csv", CSV), config)
    ids = got["message_id"].tolist()
    assert all(i.startswith("journal-") for i in ids) and len(set(ids)) == 2
    expected = pd.DataFrame({
        "message_id": ids, "case_id": [None, None], "ticket_id": [None, None],
        "party": ["agency", "me"], "counterpart": ["France Travail", "Élan Parcours Conseil"],
        "counterpart_kind": ["agency", "contractor"],
        "automated": [False, False], "automation_kind": [None, None],
        # 10:30 in Paris (CET) is 09:30 UTC; a date alone stands at noon, Paris time
        "sent_at": [ts("2024-03-05T09:30Z"), ts("2024-03-06T11:00Z")],
        "from_addr": [None, None], "from_name": [None, None], "sender_person": [None, None],
        "is_closure": [False, False], "subject": ["", ""],
        "body_text": ["Appel de la conseillère", "Courrier recommandé"],
        "source": ["journal", "journal"], "answer": [True, False],
        "event_kind": ["phone", "letter"], "direction": ["in", "out"],
        "note": ["Appel de la conseillère", "Courrier recommandé"],
        "case_ref": ["m1@ft.fr", None], "origin": ["journal.csv:1", "journal.csv:2"],
    })
    assert_frame_equal(got, schema.conform(expected, schema.JOURNAL))
    schema.check(got, schema.JOURNAL, "test")


def test_semicolons_and_french_headers(tmp_path: Path, config: Config) -> None:
    text = ("Date;Correspondant;Sens;Type;Remarque;Dossier;Réponse\n"
            "05/03/2024 14h00;FRANCE TRAVAIL;in;appointment;RDV;m1@ft.fr;oui\n\n")
    got = read_journal(write(tmp_path, "j.csv", text), config)
    assert got[["sent_at", "event_kind", "answer", "case_ref"]].values.tolist() == [
        [ts("2024-03-05T13:00Z"), "appointment", True, "m1@ft.fr"]]


def test_toml_with_native_dates(tmp_path: Path, config: Config) -> None:
    text = """
[[event]]
date = 2024-07-01T09:00:00
counterpart = "France Travail"
direction = "in"
kind = "portal"
note = "Message lu dans l'espace personnel"
case = "<m1@ft.fr>"
answer = true

[[event]]
date = 2024-07-02
counterpart = "Élan Parcours Conseil"
direction = "out"
kind = "phone"

[[event]]
date = "2024-07-03T08:00:00Z"
counterpart = "elan"
direction = "in"
kind = "phone"
answer = "non"
"""
    got = read_journal(write(tmp_path, "j.toml", text), config)
    assert got[["sent_at", "party", "answer", "note", "origin"]].values.tolist() == [
        [ts("2024-07-01T07:00Z"), "agency", True, "Message lu dans l'espace personnel",
         "j.toml:1"],
        [ts("2024-07-02T10:00Z"), "me", False, None, "j.toml:2"],
        [ts("2024-07-03T08:00Z"), "contractor", False, None, "j.toml:3"],
    ]


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-10-27 02:30", "2024-10-27T00:30Z"),        # repeated hour: the first (CEST) reading
    ("2024-03-31 12:00", "2024-03-31T10:00Z"),        # after the spring change
    ("2024-03-05T10:30:00+00:00", "2024-03-05T10:30Z"),
    ("2024-03-05T10:30Z", "2024-03-05T10:30Z"),
    ("5/3/2024", "2024-03-05T11:00Z"),
])
def test_dates(tmp_path: Path, config: Config, value: str, expected: str) -> None:
    text = f"date,counterpart,direction,kind\n{value},France Travail,in,phone\n"
    got = read_journal(write(tmp_path, "j.csv", text), config)
    assert got["sent_at"].tolist() == [ts(expected)]


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("TRUE", True), ("yes", True), ("oui", True), ("1", True),
    ("false", False), ("non", False), ("0", False), ("", False), ("no", False),
])
def test_answer_values(tmp_path: Path, config: Config, value: str, expected: bool) -> None:
    text = f"date,counterpart,direction,kind,answer\n2024-03-05,France Travail,in,phone,{value}\n"
    assert read_journal(write(tmp_path, "j.csv", text), config)["answer"].tolist() == [expected]


@pytest.mark.parametrize(("row", "message"), [
    ("yesterday,France Travail,in,phone,", "field 'date'"),
    ("2024-03-05,,in,phone,", "field 'counterpart'"),
    ("2024-03-05,CAF,in,phone,", "counterpart 'CAF' is not in the configuration"),
    ("2024-03-05,France Travail,incoming,phone,", "field 'direction'"),
    ("2024-03-05,France Travail,in,fax,", "field 'kind'"),
    ("2024-03-05,France Travail,in,phone,maybe", "field 'answer'"),
])
def test_entry_errors_name_the_entry(tmp_path: Path, config: Config, row: str,
                                     message: str) -> None:
    text = f"date,counterpart,direction,kind,answer\n{row}\n"
    path = write(tmp_path, "j.csv", text)
    with pytest.raises(UsageError, match=message) as err:
        read_journal(path, config)
    assert "entry 1" in str(err.value) and str(path) in str(err.value)


def test_file_errors(tmp_path: Path, config: Config) -> None:
    with pytest.raises(UsageError, match="not found"):
        read_journal(tmp_path / "none.csv", config)
    with pytest.raises(UsageError, match=r"\.csv or \.toml"):
        read_journal(write(tmp_path, "j.txt", "x"), config)
    with pytest.raises(UsageError, match="cannot be parsed"):
        read_journal(write(tmp_path, "j.toml", "[[event]\n"), config)
    with pytest.raises(UsageError, match="field 'colour'"):
        read_journal(write(tmp_path, "k.csv", "date,colour\n2024-03-05,red\n"), config)
    fr = UsageError("journal.unknown_case", origin="j.csv:2", message_id="x").render("fr")
    assert fr.startswith("Journal j.csv:2 : aucun message")


def test_empty_journal(tmp_path: Path, config: Config) -> None:
    empty = read_journal(write(tmp_path, "j.csv", "date,counterpart,direction,kind\n"), config)
    assert_frame_equal(empty, schema.empty(schema.JOURNAL))
    assert read_journal(write(tmp_path, "j.toml", ""), config).empty


def test_ids_are_stable_and_unique(tmp_path: Path, config: Config) -> None:
    lines = CSV.splitlines()
    reordered = "\n".join([lines[0], lines[2], lines[1]]) + "\n"
    first = read_journal(write(tmp_path, "a.csv", CSV), config)
    second = read_journal(write(tmp_path, "b.csv", reordered), config)
    assert set(first["message_id"]) == set(second["message_id"])
    twice = read_journal(write(tmp_path, "c.csv", CSV + lines[1] + "\n"), config)
    assert twice["message_id"].is_unique


def test_bare_message_id() -> None:
    assert bare_message_id("<a@b>") == bare_message_id("a@b") == "a@b"


# --- joining the messages -------------------------------------------------------------

def mail() -> pd.DataFrame:
    return message_frame([
        {"message_id": "m1@ft.fr", "case_id": "c1", "party": "me",
         "counterpart": "France Travail", "sent_at": "2024-03-04T09:00Z"},
        {"message_id": "m2@ft.fr", "case_id": "c1", "party": "agency",
         "counterpart": "France Travail", "sent_at": "2024-03-08T09:00Z",
         "from_addr": "x@francetravail.fr"},
    ])


def test_attach_puts_events_in_their_case(tmp_path: Path, config: Config) -> None:
    journal = read_journal(write(tmp_path, "journal.csv", CSV), config)
    both = attach_journal(mail(), journal)
    assert both[["message_id", "case_id", "source", "answer"]].values.tolist() == [
        ["m1@ft.fr", "c1", "mail", False],
        [journal["message_id"].iloc[0], "c1", "journal", True],
        [journal["message_id"].iloc[1], None, "journal", False],
        ["m2@ft.fr", "c1", "mail", False],
    ]
    schema.check(both, schema.MESSAGES, "test")


def test_attach_keeps_extra_columns(tmp_path: Path, config: Config) -> None:
    journal = read_journal(write(tmp_path, "journal.csv", CSV), config)
    both = attach_journal(mail().assign(thread_id="t1"), journal)
    assert both["thread_id"].tolist()[0] == "t1" and "thread_id" in both.columns


def test_unknown_case_reference(tmp_path: Path, config: Config) -> None:
    text = "date,counterpart,direction,kind,case\n2024-03-05,France Travail,in,phone,<zz@x>\n"
    journal = read_journal(write(tmp_path, "j.csv", text), config)
    with pytest.raises(UsageError, match="zz@x") as err:
        attach_journal(mail(), journal)
    assert "j.csv:1" in str(err.value)


def test_an_answer_event_ends_a_wait_and_a_note_does_not(tmp_path: Path,
                                                         config: Config) -> None:
    text = ("date,counterpart,direction,kind,case,answer\n"
            "2024-03-05 10:00,France Travail,in,phone,m1@ft.fr,true\n"
            "2024-03-06 10:00,France Travail,in,letter,m1@ft.fr,false\n")
    both = attach_journal(mail(), read_journal(write(tmp_path, "j.csv", text), config))
    got = waits(both, as_of=ts("2024-03-09T00:00Z"), timezone="UTC")
    call = both.loc[both["event_kind"].eq("phone"), "message_id"].iloc[0]
    # me m1 | agency: the call (10:00 Paris = 09:00 UTC) then m2, a reminder;
    # the letter is on the timeline only
    columns = ["requester", "responder", "asked_message_id", "answer_message_id",
               "delay_seconds", "reminders"]
    expected = pd.DataFrame([
        ["me", "agency", "m1@ft.fr", call, 86400.0, 0],
        ["agency", "me", call, None, float("nan"), 1],
    ], columns=columns).astype({"requester": object, "responder": object,
                                "asked_message_id": object})
    expected["answer_message_id"] = pd.Series([call, None], dtype=object)
    assert_frame_equal(got[columns], expected)
