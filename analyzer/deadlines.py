"""Deadlines demanded in a message: "sous 48h", "avant le 21/02/2020", "within 10 days".

The analyzer compares the time a citizen was given to answer with the time
the agency took itself, so each demanded deadline is turned into a span
(``hours``) and, where possible, a due time (``due_at``).

What counts as a deadline: a *demand cue* followed by a span or a date. A
bare date ("le 19/02/2020, vous avez été contacté"), opening hours ("du lundi
au vendredi de 8h30 à 17h") or a phone number ("appelez le 39 49") has no cue
and is ignored.

===========  ==================================================================
kind         phrases (FR / EN)
===========  ==================================================================
duration     "sous 48h", "sous 48 heures", "dans les 48 heures", "dans un délai
             (maximum) de 15 jours", "d'ici 48h", "vous disposez (d'un délai)
             de deux mois", "vous avez 15 jours pour", "sous huitaine" (8 days),
             "sous quinzaine" (15 days); "within 10 days", "within 48 hours",
             "in the next 2 days", "you have 30 days to"
duration,    "dans les plus brefs délais", "dans les meilleurs délais", "au plus
no span      vite", "dès que possible", "sans délai", "sans tarder"; "as soon as
             possible", "without delay", "at your earliest convenience": a
             demand with no measurable span, so ``hours`` and ``due_at`` are
             ``None`` (dropping it would hide the most common demand of all)
date         "avant le 21/02/2020", "au plus tard le 3 mars 2024", "le 3 mars au
             plus tard", "d'ici le 5 avril", "vous avez jusqu'au 5 avril",
             "date limite : 12/03", "d'ici vendredi", "au plus tard demain";
             "by 21 February 2020", "no later than March 3, 2024", "before 5
             April", "on or before …", "deadline: …", "by Friday", "by
             tomorrow"
===========  ==================================================================

Conventions:

* numbers may be digits or words (deux, huit, quinze, trente, quarante-huit;
  two, ten, forty-eight; "une semaine", "a week");
* a week is 7 days, a month 30 days (a span, not a calendar month); spans in
  hours are real elapsed time across a daylight-saving change, spans in days
  keep the hour of the day;
* "jours ouvrés", "business/working days": Monday to Friday; "jours
  ouvrables": Monday to Saturday (French usage); both skip French public
  holidays (metropolitan list, Alsace-Moselle days not included). ``hours``
  still counts 24 per day, ``due_at`` steps over the days off;
* dates are day-first ("03/04" is 3 April); a date without a year is the next
  one on or after ``sent_at``; a weekday named alone is the next one after
  ``sent_at``'s day ("d'ici vendredi" written on a Friday is a week later);
  ``due_at`` is the end of that day (23:59:59) in ``sent_at``'s time zone, or
  the stated time ("avant le 5 mars à 12h");
* only the first :data:`TEXT_SCAN_LIMIT` characters are read: demands sit in
  the message's own text, and what lies beyond is quoted history or converted
  HTML that would only cost time on tens of thousands of messages. Callers
  should pass the text without quoted replies, whose deadlines belong to the
  earlier message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal

from analyzer.tickets import lower_aligned, mentions
from analyzer.workdays import holiday_dates

#: How much of a text is read; see the module docstring for why.
TEXT_SCAN_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline demanded in a text."""

    phrase: str
    kind: Literal["duration", "date"]
    hours: float | None
    working_days: bool
    due_at: datetime | None


# Every pattern below is written in lower case: they run on the lower_aligned
# text, several times faster than re.IGNORECASE, and phrases are cut from the
# original text at the same offsets.
_NUMBER_WORDS: Mapping[str, int] = MappingProxyType({
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
    "quatorze": 14, "quinze": 15, "vingt": 20, "vingt-quatre": 24, "trente": 30,
    "quarante-huit": 48, "soixante": 60, "soixante-douze": 72, "quatre-vingt-dix": 90,
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "twenty-four": 24,
    "thirty": 30, "forty-eight": 48, "sixty": 60, "seventy-two": 72, "ninety": 90,
})  # fmt: skip
_WORD_ALTERNATION = "|".join(re.escape(w) for w in sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNIT_HOURS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"^(?:h|hrs?|hours?|heures?)$"), 1.0),
    (re.compile(r"^(?:j|jours?|days?)$"), 24.0),
    (re.compile(r"^(?:semaines?|weeks?)$"), 168.0),
    (re.compile(r"^(?:mois|months?)$"), 720.0),
)

_DURATION_CUE = re.compile(
    r"\b(?:"
    r"sous(?:\s+un\s+d[ée]lai\s+(?:maximum\s+|maximal\s+)?(?:de\s+|d['’]))?"
    r"|dans\s+(?:les(?:\s+prochaine?s)?|un\s+d[ée]lai\s+(?:maximum\s+|maximal\s+)?(?:de\s+|d['’])"
    r"|un\s+d[ée]lai\s+n['’]exc[ée]dant\s+pas)"
    r"|d['’]ici"
    r"|vous\s+(?:disposez|avez|b[ée]n[ée]ficiez)\s+(?:d['’]un\s+d[ée]lai\s+(?:de\s+|d['’])"
    r"|de\s+|d['’])?"
    r"|within(?:\s+the\s+next)?|in\s+the\s+next|you\s+have"
    r")\s*",
)
_SPAN = re.compile(
    rf"(?P<n>\d{{1,3}}(?:[.,]\d)?|{_WORD_ALTERNATION})(?:\s*\(\d{{1,3}}\))?\s*"
    r"(?:(?P<pre>business|working|calendar)\s+)?"
    r"(?P<unit>heures?|hours?|hrs?|h|jours?|j|days?|semaines?|weeks?|mois|months?)(?![\w])"
    r"(?:\s+(?P<post>ouvr[ée]e?s|ouvrables|calendaires|francs))?",
)
# "vous avez 15 jours de retard" is not a demand; "vous avez 15 jours pour" is.
_PURPOSE_AFTER = re.compile(r"\s+(?:pour|to)\b")
_NEEDS_PURPOSE = re.compile(r"^(?:vous\s+avez|you\s+have)\b")
_VAGUE_KEYS = ("lai", "vite", "possible", "tarder", "delay", "convenience")
_FIXED_SPANS = re.compile(r"\b(?:sous|dans\s+la)\s+(?P<w>huitaine|quinzaine)\b")
_VAGUE = re.compile(
    r"\bdans\s+les\s+(?:plus\s+brefs|meilleurs)\s+d[ée]lais\b|\bau\s+plus\s+vite\b"
    r"|\bd[èe]s\s+que\s+possible\b|\bsans\s+d[ée]lai\b|\bsans\s+tarder\b"
    r"|\bas\s+soon\s+as\s+possible\b|\bwithout\s+delay\b|\bat\s+your\s+earliest\s+convenience\b",
)

_WEEKDAY = (
    r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday)\s*,?\s+)?"
)
_FR_MONTHS = (
    r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre"
    r"|d[ée]cembre"
)
_EN_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTH_NUMBERS: Mapping[str, int] = MappingProxyType({
    "janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "decembre": 12, "décembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
})  # fmt: skip
# Each date form, as (pattern, order of day/month/year groups).
_NUMERIC_DATE = re.compile(
    _WEEKDAY + r"(\d{1,2})[/.](\d{1,2})(?:[/.]((?:19|20)\d{2}|\d{2}))?(?![\d/]|\.\d)"
)
_DASHED_DATE = re.compile(_WEEKDAY + r"(\d{1,2})-(\d{1,2})-((?:19|20)\d{2})\b")
_ISO_DATE = re.compile(r"((?:19|20)\d{2})-(\d{2})-(\d{2})\b")
_FR_TEXT_DATE = re.compile(
    _WEEKDAY + rf"(\d{{1,2}}|1er|premier)\s+({_FR_MONTHS})(?:\s+((?:19|20)\d{{2}}))?(?![\w])"
)
_EN_DMY_DATE = re.compile(
    _WEEKDAY + rf"(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_EN_MONTHS})\.?"
    r"(?:,?\s+((?:19|20)\d{2}))?(?![\w])",
)
_EN_MDY_DATE = re.compile(
    _WEEKDAY
    + rf"({_EN_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+((?:19|20)\d{{2}}))?(?![\w])",
)
_DATE_FORMS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    (_ISO_DATE, (3, 2, 1)),
    (_DASHED_DATE, (1, 2, 3)),
    (_NUMERIC_DATE, (1, 2, 3)),
    (_FR_TEXT_DATE, (1, 2, 3)),
    (_EN_DMY_DATE, (1, 2, 3)),
    (_EN_MDY_DATE, (2, 1, 3)),
)
_ANY_DATE = "|".join(f"(?:{p.pattern})" for p, _ in _DATE_FORMS)
_TIME_OF_DAY = re.compile(
    r"\s*,?\s*(?:[àa]|at|avant|before|by)\s+(?:(?P<h>\d{1,2})(?:\s*(?:h|:)\s*(?P<m>\d{2})?"
    r"\s*(?P<ap>am|pm)?|\s*(?P<ap2>am|pm))|(?P<noon>midi|noon))(?![\w])",
)
_DATE_CUE = re.compile(
    r"\b(?:au\s+plus\s+tard\s+(?:le|pour\s+le)|avant\s+le|avant\s+la\s+date\s+du"
    r"|d['’]ici\s+(?:le|au)|vous\s+(?:avez|disposez\s+de\s+\w+)\s+jusqu['’]au"
    r"|date\s+limite(?:\s+de\s+\w+)?\s*:?(?:\s*(?:le|au))?"
    r"|no\s+later\s+than|not\s+later\s+than|on\s+or\s+before|by|before"
    r"|deadline(?:\s+is)?\s*:?|due\s+(?:by|on))\s*",
)
# A day named without a date: "d'ici vendredi", "avant lundi prochain", "by
# Friday", "au plus tard demain". Followed by a number it is a full date
# ("avant lundi 24 février"), left to the date forms.
_DAY_CUE = re.compile(
    r"\b(?:d['’]ici|avant|au\s+plus\s+tard|no\s+later\s+than|not\s+later\s+than|by|before"
    r"|on\s+or\s+before)\s+(?:(?:ce|this|next)\s+)?"
    r"(?P<day>lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday|demain|tomorrow)(?:\s+prochain)?\b(?!\s*,?\s*\d)"
)
_DAY_KEYS = ("di", "main", "day", "tomorrow")
_DAY_NUMBERS: Mapping[str, int] = MappingProxyType({
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
})  # fmt: skip
_DATE_THEN_CUE = re.compile(
    rf"\b(?:le|pour\s+le)\s+(?P<date>{_ANY_DATE})\s*,?\s*au\s+plus\s+tard\b"
)


def _number(token: str) -> float:
    """A span's number, written in digits or words."""
    token = token.lower()
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    return float(token.replace(",", "."))


def _unit_hours(unit: str) -> float:
    for pattern, hours in _UNIT_HOURS:
        if pattern.match(unit):
            return hours
    raise ValueError(unit)  # unreachable: _SPAN only lets listed units through


def is_french_public_holiday(day: date) -> bool:
    """Whether ``day`` is a French (metropolitan) public holiday, as the
    ``holidays`` package lists them (the list :mod:`analyzer.workdays` counts
    elapsed working days with: due dates skip the same days).

    >>> is_french_public_holiday(date(2024, 5, 9)), is_french_public_holiday(date(2024, 5, 10))
    (True, False)
    """
    return day in holiday_dates("FR", day.year, day.year)


def add_working_days(start: datetime, days: float, *, saturdays: bool = False) -> datetime:
    """``start`` moved forward by ``days`` working days, keeping the time of day.

    Weekends (Sunday only when ``saturdays`` is true, for "jours ouvrables")
    and French public holidays are skipped; a fraction counts as a whole day.

    >>> add_working_days(datetime(2024, 5, 7, 10, 0), 2)  # 8 and 9 May are holidays
    datetime.datetime(2024, 5, 13, 10, 0)
    """
    remaining = math.ceil(days)
    current = start
    while remaining > 0:
        current += timedelta(days=1)
        weekday = current.weekday()
        if weekday == 6 or (weekday == 5 and not saturdays):
            continue
        if is_french_public_holiday(current.date()):
            continue
        remaining -= 1
    return current


def _span_deadline(phrase: str, match: re.Match[str], sent_at: datetime) -> Deadline:
    count = _number(match.group("n"))
    hours = count * _unit_hours(match.group("unit"))
    qualifier = (match.group("pre") or match.group("post") or "").lower()
    working = qualifier in ("business", "working", "ouvrables") or qualifier.startswith("ouvr")
    if working and hours >= 24:
        saturdays = qualifier == "ouvrables"
        due = add_working_days(sent_at, hours / 24, saturdays=saturdays)
    elif _UNIT_HOURS[0][0].match(match.group("unit")):
        due = _after_elapsed(sent_at, hours)
    else:
        due = sent_at + timedelta(hours=hours)
    return Deadline(phrase, "duration", hours, working, due)


def _after_elapsed(sent_at: datetime, hours: float) -> datetime:
    """``sent_at`` plus ``hours`` of real time, in ``sent_at``'s time zone.

    Aware datetime arithmetic adds to the wall clock, so "sous 48h" across a
    daylight-saving change would give 47 or 49 real hours; spans in hours are
    added in UTC instead. Spans in days keep the wall-clock time ("15 jours"
    falls at the same hour of the day).
    """
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        return sent_at + timedelta(hours=hours)
    return (sent_at.astimezone(UTC) + timedelta(hours=hours)).astimezone(sent_at.tzinfo)


def _year_for(day: int, month: int, sent_at: datetime) -> date | None:
    """The first date with this day and month on or after ``sent_at``'s day."""
    start = sent_at.date()
    for year in range(start.year, start.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # 29 February, or an impossible day: try the next year
        if candidate >= start:
            return candidate
    return None


def _parse_date(text: str, pos: int, sent_at: datetime) -> tuple[date, int] | None:
    """A date starting at ``pos``, and where it ends."""
    for pattern, (di, mi, yi) in _DATE_FORMS:
        m = pattern.match(text, pos)
        if not m:
            continue
        day_s, month_s, year_s = m.group(di), m.group(mi), m.group(yi)
        day = 1 if day_s.lower() in ("1er", "premier") else int(day_s)
        month = int(month_s) if month_s.isdigit() else _MONTH_NUMBERS.get(month_s.lower(), 0)
        if year_s is None:
            found = _year_for(day, month, sent_at) if 1 <= month <= 12 else None
            if found:
                return found, m.end()
            return None
        year = int(year_s) + (2000 if len(year_s) == 2 else 0)
        try:
            return date(year, month, day), m.end()
        except ValueError:
            return None
    return None


def _due_time(text: str, pos: int) -> tuple[time, int] | None:
    """A stated time of day right after a date ("à 12h", "at 5pm"), and where it ends."""
    m = _TIME_OF_DAY.match(text, pos)
    if not m:
        return None
    if m.group("noon"):
        return time(12, 0), m.end()
    hour = int(m.group("h") or 0)
    minute = int(m.group("m") or 0)
    meridiem = (m.group("ap") or m.group("ap2") or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute), m.end()


def _named_day(name: str, sent_at: datetime) -> date:
    """The day a weekday name or "demain" points at: the next one after ``sent_at``'s day.

    A weekday named on that same weekday means the following week ("d'ici
    vendredi" written on a Friday).
    """
    start = sent_at.date()
    if name in ("demain", "tomorrow"):
        return start + timedelta(days=1)
    ahead = (_DAY_NUMBERS[name] - start.weekday()) % 7 or 7
    return start + timedelta(days=ahead)


def _date_deadline(
    text: str, low: str, start: int, date_pos: int, sent_at: datetime
) -> tuple[Deadline, int] | None:
    parsed = _parse_date(low, date_pos, sent_at)
    if parsed is None:
        return None
    day, end = parsed
    clock = time(23, 59, 59)
    stated = _due_time(low, end)
    if stated:
        clock, end = stated
    due = datetime.combine(day, clock, tzinfo=sent_at.tzinfo)
    return Deadline(text[start:end].strip(), "date", None, False, due), end


def extract_deadlines(text: str, sent_at: datetime) -> list[Deadline]:
    """Every deadline demanded in ``text``, in order of appearance.

    >>> sent = datetime(2020, 2, 19, 14, 0)
    >>> [(d.phrase, d.hours, d.due_at) for d in extract_deadlines("Répondez sous 48h.", sent)]
    [('sous 48h', 48.0, datetime.datetime(2020, 2, 21, 14, 0))]
    >>> extract_deadlines("au plus tard le 3 mars", sent)[0].due_at
    datetime.datetime(2020, 3, 3, 23, 59, 59)
    >>> extract_deadlines("Appelez le 39 49, du lundi au vendredi de 8h30 à 17h.", sent)
    []
    """
    text = text[:TEXT_SCAN_LIMIT]
    low = lower_aligned(text)
    found: list[tuple[int, int, Deadline]] = []

    for m in _DURATION_CUE.finditer(low):
        span = _SPAN.match(low, m.end())
        if span and _NEEDS_PURPOSE.match(m.group(0)) and not _PURPOSE_AFTER.match(low, span.end()):
            continue
        if span:
            phrase = text[m.start() : span.end()].strip()
            found.append((m.start(), span.end(), _span_deadline(phrase, span, sent_at)))
    for m in _FIXED_SPANS.finditer(low) if "aine" in low else ():
        hours = 192.0 if m.group("w") == "huitaine" else 360.0
        due = sent_at + timedelta(hours=hours)
        phrase = text[m.start() : m.end()]
        found.append((m.start(), m.end(), Deadline(phrase, "duration", hours, False, due)))
    for m in _VAGUE.finditer(low) if any(k in low for k in _VAGUE_KEYS) else ():
        phrase = text[m.start() : m.end()]
        found.append((m.start(), m.end(), Deadline(phrase, "duration", None, False, None)))
    for m in _DATE_CUE.finditer(low):
        dated = _date_deadline(text, low, m.start(), m.end(), sent_at)
        if dated:
            found.append((m.start(), dated[1], dated[0]))
    for m in _DAY_CUE.finditer(low) if mentions(low, _DAY_KEYS) else ():
        clock, end = _due_time(low, m.end()) or (time(23, 59, 59), m.end())
        due = datetime.combine(_named_day(m.group("day"), sent_at), clock, tzinfo=sent_at.tzinfo)
        found.append((m.start(), end, Deadline(text[m.start() : end], "date", None, False, due)))
    for m in _DATE_THEN_CUE.finditer(low) if "plus tard" in low else ():
        dated = _date_deadline(text, low, m.start(), m.start("date"), sent_at)
        if dated:
            deadline = dated[0]
            phrase = text[m.start() : m.end()].strip()
            found.append(
                (m.start(), m.end(), Deadline(phrase, "date", None, False, deadline.due_at))
            )

    # Cues can overlap ("au plus tard le 3 mars" also holds "le 3 mars au plus
    # tard" in longer phrasing): keep the earliest, longest match.
    out: list[Deadline] = []
    last_end = -1
    for start, end, deadline in sorted(found, key=lambda item: (item[0], -item[1])):
        if start >= last_end:
            out.append(deadline)
            last_end = end
    return out
