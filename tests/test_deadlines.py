"""Demanded deadlines: one row per phrase, with exact spans and due times."""

from __future__ import annotations

import doctest
import email
import email.policy
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import analyzer.deadlines
from analyzer.deadlines import (
    TEXT_SCAN_LIMIT,
    Deadline,
    add_working_days,
    extract_deadlines,
    is_french_public_holiday,
)

PARIS_WINTER = timezone(timedelta(hours=1))
# Wednesday 19 February 2020, 14:00 in Paris: the day of the control call.
SENT = datetime(2020, 2, 19, 14, 0, tzinfo=PARIS_WINTER)
FIXTURES = Path(__file__).parent / "data" / "tickets"


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS_WINTER)


def eod(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=PARIS_WINTER)


@pytest.mark.parametrize(
    ("text", "phrase", "hours", "working_days", "due_at"),
    [
        # French durations.
        ("Répondez sous 48h.", "sous 48h", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("Répondez sous 48 h.", "sous 48 h", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("Répondez sous 48H.", "sous 48H", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("à renvoyer sous 48 heures", "sous 48 heures", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("dans les 48 heures", "dans les 48 heures", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("dans les 72h", "dans les 72h", 72.0, False, at(2020, 2, 22, 14, 0)),
        ("dans les prochaines 24 heures", "dans les prochaines 24 heures", 24.0, False,
         at(2020, 2, 20, 14, 0)),
        ("dans un délai de 15 jours", "dans un délai de 15 jours", 360.0, False,
         at(2020, 3, 5, 14, 0)),
        ("dans un délai maximum de 8 jours", "dans un délai maximum de 8 jours", 192.0, False,
         at(2020, 2, 27, 14, 0)),
        ("dans un délai d'un mois", "dans un délai d'un mois", 720.0, False,
         at(2020, 3, 20, 14, 0)),
        ("sous un délai de 10 jours", "sous un délai de 10 jours", 240.0, False,
         at(2020, 2, 29, 14, 0)),
        ("d'ici 48h", "d'ici 48h", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("sous 8j", "sous 8j", 192.0, False, at(2020, 2, 27, 14, 0)),
        ("sous une semaine", "sous une semaine", 168.0, False, at(2020, 2, 26, 14, 0)),
        ("sous deux semaines", "sous deux semaines", 336.0, False, at(2020, 3, 4, 14, 0)),
        ("vous disposez d'un délai de deux mois pour contester",
         "vous disposez d'un délai de deux mois", 1440.0, False, at(2020, 4, 19, 14, 0)),
        ("vous disposez de 15 jours pour répondre", "vous disposez de 15 jours", 360.0, False,
         at(2020, 3, 5, 14, 0)),
        ("vous avez 30 jours pour répondre", "vous avez 30 jours", 720.0, False,
         at(2020, 3, 20, 14, 0)),
        ("sous huitaine", "sous huitaine", 192.0, False, at(2020, 2, 27, 14, 0)),
        ("dans la huitaine", "dans la huitaine", 192.0, False, at(2020, 2, 27, 14, 0)),
        ("sous quinzaine", "sous quinzaine", 360.0, False, at(2020, 3, 5, 14, 0)),
        # Numbers in words.
        ("sous deux jours", "sous deux jours", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("sous huit jours", "sous huit jours", 192.0, False, at(2020, 2, 27, 14, 0)),
        ("dans les quinze jours", "dans les quinze jours", 360.0, False, at(2020, 3, 5, 14, 0)),
        ("dans un délai de trente jours", "dans un délai de trente jours", 720.0, False,
         at(2020, 3, 20, 14, 0)),
        ("sous quarante-huit heures", "sous quarante-huit heures", 48.0, False,
         at(2020, 2, 21, 14, 0)),
        ("sous quinze (15) jours", "sous quinze (15) jours", 360.0, False, at(2020, 3, 5, 14, 0)),
        # Working days: weekends (and Saturdays for "ouvrés") stepped over.
        ("dans un délai de 15 jours ouvrés", "dans un délai de 15 jours ouvrés", 360.0, True,
         at(2020, 3, 11, 14, 0)),
        ("sous 5 jours ouvrés", "sous 5 jours ouvrés", 120.0, True, at(2020, 2, 26, 14, 0)),
        ("dans les 5 jours ouvrables", "dans les 5 jours ouvrables", 120.0, True,
         at(2020, 2, 25, 14, 0)),
        ("sous 3 jours calendaires", "sous 3 jours calendaires", 72.0, False,
         at(2020, 2, 22, 14, 0)),
        # English durations.
        ("within 10 days", "within 10 days", 240.0, False, at(2020, 2, 29, 14, 0)),
        ("within 48 hours", "within 48 hours", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("within two weeks", "within two weeks", 336.0, False, at(2020, 3, 4, 14, 0)),
        ("within ten days", "within ten days", 240.0, False, at(2020, 2, 29, 14, 0)),
        ("within a week", "within a week", 168.0, False, at(2020, 2, 26, 14, 0)),
        ("within the next 24 hours", "within the next 24 hours", 24.0, False,
         at(2020, 2, 20, 14, 0)),
        ("in the next 2 days", "in the next 2 days", 48.0, False, at(2020, 2, 21, 14, 0)),
        ("within 5 business days", "within 5 business days", 120.0, True,
         at(2020, 2, 26, 14, 0)),
        ("within two working days", "within two working days", 48.0, True,
         at(2020, 2, 21, 14, 0)),
        ("you have 30 days to appeal", "you have 30 days", 720.0, False, at(2020, 3, 20, 14, 0)),
    ],
)  # fmt: skip
def test_durations(
    text: str, phrase: str, hours: float, working_days: bool, due_at: datetime
) -> None:
    assert extract_deadlines(text, SENT) == [
        Deadline(phrase, "duration", hours, working_days, due_at)
    ]


@pytest.mark.parametrize(
    "phrase",
    [
        "dans les plus brefs délais",
        "dans les meilleurs délais",
        "au plus vite",
        "dès que possible",
        "sans délai",
        "sans tarder",
        "as soon as possible",
        "without delay",
        "at your earliest convenience",
    ],
)
def test_urgent_demands_without_a_span(phrase: str) -> None:
    text = f"Merci de nous répondre {phrase}."
    assert extract_deadlines(text, SENT) == [Deadline(phrase, "duration", None, False, None)]


@pytest.mark.parametrize(
    ("text", "phrase", "due_at"),
    [
        ("avant le 21/02/2020", "avant le 21/02/2020", eod(2020, 2, 21)),
        ("avant le 21.02.2020", "avant le 21.02.2020", eod(2020, 2, 21)),
        ("avant le 21-02-2020", "avant le 21-02-2020", eod(2020, 2, 21)),
        ("avant le 21/02/20", "avant le 21/02/20", eod(2020, 2, 21)),
        ("avant le 2020-02-21", "avant le 2020-02-21", eod(2020, 2, 21)),
        ("au plus tard le 3 mars 2024", "au plus tard le 3 mars 2024", eod(2024, 3, 3)),
        ("au plus tard le 1er mars", "au plus tard le 1er mars", eod(2020, 3, 1)),
        ("avant le lundi 24 février 2020", "avant le lundi 24 février 2020", eod(2020, 2, 24)),
        ("le 3 mars au plus tard", "le 3 mars au plus tard", eod(2020, 3, 3)),
        ("pour le 03/03/2020 au plus tard", "pour le 03/03/2020 au plus tard", eod(2020, 3, 3)),
        ("d'ici le 5 avril", "d'ici le 5 avril", eod(2020, 4, 5)),
        ("d'ici au 5 avril", "d'ici au 5 avril", eod(2020, 4, 5)),
        ("vous avez jusqu'au 5 avril pour répondre", "vous avez jusqu'au 5 avril",
         eod(2020, 4, 5)),
        ("date limite : 12/03", "date limite : 12/03", eod(2020, 3, 12)),
        ("date limite de dépôt : le 12 mars", "date limite de dépôt : le 12 mars",
         eod(2020, 3, 12)),
        ("avant le 5 mars à 12h", "avant le 5 mars à 12h", at(2020, 3, 5, 12, 0)),
        ("avant le 5 mars à 17h30", "avant le 5 mars à 17h30", at(2020, 3, 5, 17, 30)),
        ("avant le 5 mars à midi", "avant le 5 mars à midi", at(2020, 3, 5, 12, 0)),
        ("by 21 February 2020", "by 21 February 2020", eod(2020, 2, 21)),
        ("by the 21st of February", "by the 21st of February", eod(2020, 2, 21)),
        ("no later than March 3, 2024", "no later than March 3, 2024", eod(2024, 3, 3)),
        ("not later than 3 March 2024", "not later than 3 March 2024", eod(2024, 3, 3)),
        ("on or before Mar. 3", "on or before Mar. 3", eod(2020, 3, 3)),
        ("before 5 April 2020 at 5pm", "before 5 April 2020 at 5pm", at(2020, 4, 5, 17, 0)),
        ("deadline: 12 March", "deadline: 12 March", eod(2020, 3, 12)),
        ("due by Friday, 21 February", "due by Friday, 21 February", eod(2020, 2, 21)),
        # Year inference: the next occurrence on or after the day sent.
        ("d'ici le 19 février", "d'ici le 19 février", eod(2020, 2, 19)),
        ("d'ici le 18 février", "d'ici le 18 février", eod(2021, 2, 18)),
        ("avant le 10/01", "avant le 10/01", eod(2021, 1, 10)),
        ("avant le 29 février", "avant le 29 février", eod(2020, 2, 29)),
        # A day named without a date: the next one after the day sent
        # (Wednesday 19 February 2020).
        ("d'ici vendredi", "d'ici vendredi", eod(2020, 2, 21)),
        ("d'ici mercredi", "d'ici mercredi", eod(2020, 2, 26)),
        ("avant lundi prochain", "avant lundi prochain", eod(2020, 2, 24)),
        ("au plus tard jeudi", "au plus tard jeudi", eod(2020, 2, 20)),
        ("d'ici demain", "d'ici demain", eod(2020, 2, 20)),
        ("au plus tard demain à 12h", "au plus tard demain à 12h", at(2020, 2, 20, 12, 0)),
        ("by Friday", "by Friday", eod(2020, 2, 21)),
        ("no later than next Monday", "no later than next Monday", eod(2020, 2, 24)),
        ("by tomorrow at 5pm", "by tomorrow at 5pm", at(2020, 2, 20, 17, 0)),
        ("avant lundi 24", None, None),
        # A four-digit number outside 1900-2099 is not a year (here, 16:00).
        ("received by 18 Nov 1600 CET", "by 18 Nov", eod(2020, 11, 18)),
        ("avant le 21/02/1600", None, None),
    ],
)  # fmt: skip
def test_dates(text: str, phrase: str | None, due_at: datetime | None) -> None:
    expected = [] if phrase is None else [Deadline(phrase, "date", None, False, due_at)]
    assert extract_deadlines(text, SENT) == expected


def test_leap_day_without_a_year_goes_to_the_next_leap_year() -> None:
    sent = datetime(2021, 3, 1, 9, 0, tzinfo=PARIS_WINTER)
    assert extract_deadlines("avant le 29 février", sent)[0].due_at == eod(2024, 2, 29)


def test_hours_are_real_time_across_a_clock_change() -> None:
    # Clocks go forward in Paris on Sunday 31 March 2024 at 02:00.
    sent = datetime(2024, 3, 30, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    hours, days, date_ = extract_deadlines("sous 48h, sous 2 jours, avant le 1er avril", sent)
    assert hours.due_at == datetime(2024, 4, 1, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert days.due_at == datetime(2024, 4, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert date_.due_at == datetime(2024, 4, 1, 23, 59, 59, tzinfo=ZoneInfo("Europe/Paris"))
    assert date_.due_at is not None and date_.due_at.utcoffset() == timedelta(hours=2)


def test_naive_sent_at_gives_naive_due_times() -> None:
    sent = datetime(2020, 2, 19, 14, 0)
    found = extract_deadlines("sous 48h, et avant le 21/02/2020", sent)
    assert [d.due_at for d in found] == [
        datetime(2020, 2, 21, 14, 0),
        datetime(2020, 2, 21, 23, 59, 59),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Nous sommes joignables du lundi au vendredi de 8h30 à 17h.",
        "Appelez le 39 49 (service gratuit + prix d'un appel).",
        "Le 19/02/2020, vous avez été contacté par la cellule contrôle.",
        "Votre rendez-vous est fixé au 3 mars 2020 à 10h.",
        "Nos bureaux sont ouverts de 9h à 12h et de 14h à 16h30.",
        "Je suis absente jusqu'au 28 février.",
        "Rendez-vous vendredi à 10h à l'agence.",
        "L'agence est fermée le lundi matin.",
        "Vous avez 15 jours de retard sur votre actualisation.",
        "Votre demande a été reçue il y a 15 jours.",
        "Nous vous répondrons dans 48h.",
        "avant le 31/02/2020",
        "avant le début de la formation",
        "sent by email on 21 February 2020",
        "Indemnisation de 1 234,56 € versée le 5 mars.",
    ],
)
def test_no_deadline_without_a_demand_cue(text: str) -> None:
    assert extract_deadlines(text, SENT) == []


def test_several_deadlines_in_order() -> None:
    text = (
        "Merci de nous transmettre sous 48h vos justificatifs et de mettre à jour "
        "votre profil avant le 21/02/2020. À défaut, dans les plus brefs délais."
    )
    assert [(d.phrase, d.kind) for d in extract_deadlines(text, SENT)] == [
        ("sous 48h", "duration"),
        ("avant le 21/02/2020", "date"),
        ("dans les plus brefs délais", "duration"),
    ]


def test_overlapping_cues_give_one_deadline() -> None:
    found = extract_deadlines("au plus tard le 3 mars au plus tard", SENT)
    assert [d.phrase for d in found] == ["au plus tard le 3 mars"]


def test_text_beyond_the_scan_limit_is_ignored() -> None:
    assert extract_deadlines("x" * TEXT_SCAN_LIMIT + " sous 48h", SENT) == []


@pytest.mark.parametrize(
    ("fixture", "phrases"),
    [
        ("francetravail_advisor_reply_noreply_fr.eml", ["sous 48h", "avant le 21/02/2020"]),
        ("zendesk_agent_reply_fr.eml", ["au plus tard le 24 mars"]),
        ("salesforce_case_update_en.eml", ["within 10 days"]),
        ("dynamics_case_reply_fr.eml", ["avant le 15/03/2020"]),
        ("glpi_followup_fr.eml", ["dans les 48 heures"]),
        ("rt_agent_reply_fr.eml", ["sous 8 jours"]),
        ("francetravail_acknowledgement_fr.eml", ["dans les meilleurs délais"]),
        ("out_of_office_exchange_fr.eml", []),
    ],
)
def test_real_shaped_messages(fixture: str, phrases: list[str]) -> None:
    msg = email.message_from_bytes((FIXTURES / fixture).read_bytes(), policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    found = extract_deadlines(part.get_content(), SENT)
    assert [d.phrase.replace("\n", " ") for d in found] == phrases


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2020, 1, 1), True),
        (date(2020, 4, 13), True),  # Easter Monday
        (date(2020, 5, 21), True),  # Ascension
        (date(2020, 6, 1), True),  # Whit Monday
        (date(2020, 7, 14), True),
        (date(2020, 11, 11), True),
        (date(2024, 4, 1), True),  # Easter Monday
        (date(2006, 6, 5), False),  # Whit Monday, a working "journée de solidarité" then
        (date(2008, 5, 12), True),  # Whit Monday again
        (date(2020, 4, 12), False),  # Easter Sunday is a Sunday anyway
        (date(2020, 2, 19), False),
    ],
)
def test_french_public_holidays(day: date, holiday: bool) -> None:
    assert is_french_public_holiday(day) is holiday


@pytest.mark.parametrize(
    ("start", "days", "saturdays", "expected"),
    [
        (datetime(2020, 2, 21, 9, 0), 1, False, datetime(2020, 2, 24, 9, 0)),  # Fri -> Mon
        (datetime(2020, 2, 21, 9, 0), 1, True, datetime(2020, 2, 22, 9, 0)),  # Fri -> Sat
        (datetime(2020, 4, 10, 9, 0), 1, False, datetime(2020, 4, 14, 9, 0)),  # Easter Monday
        (datetime(2020, 2, 19, 9, 0), 0.5, False, datetime(2020, 2, 20, 9, 0)),
        (datetime(2020, 2, 19, 9, 0), 0, False, datetime(2020, 2, 19, 9, 0)),
    ],
)
def test_add_working_days(
    start: datetime, days: float, saturdays: bool, expected: datetime
) -> None:
    assert add_working_days(start, days, saturdays=saturdays) == expected


_WORDS = [
    "sous", "dans", "les", "un", "délai", "de", "48h", "48", "heures", "jours", "ouvrés",
    "avant", "le", "au", "plus", "tard", "d'ici", "21/02/2020", "3", "mars", "2024", "by",
    "within", "two", "days", "no", "later", "than", "February", "à", "12h", "huitaine",
    "brefs", "délais", "vous", "avez", "pour", "jusqu'au", "29", "février", "İ", "\n", ",",
]  # fmt: skip


@given(
    words=st.lists(st.sampled_from(_WORDS) | st.text(max_size=6), max_size=40),
    sent=st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_any_text_gives_well_formed_deadlines(words: list[str], sent: datetime) -> None:
    text = " ".join(words)
    sent_at = sent.replace(tzinfo=PARIS_WINTER)
    for found in extract_deadlines(text, sent_at):
        assert found.phrase and found.phrase in text
        if found.kind == "date":
            assert found.hours is None and found.due_at is not None
            assert found.due_at.tzinfo is PARIS_WINTER
        elif found.hours is None:
            assert found.due_at is None and not found.working_days
        else:
            assert found.due_at is not None and found.due_at >= sent_at


def test_docstring_examples_hold() -> None:
    # CI runs plain pytest, without --doctest-modules.
    result = doctest.testmod(analyzer.deadlines)
    assert result.attempted > 0
    assert result.failed == 0
