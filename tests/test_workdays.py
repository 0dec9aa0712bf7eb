"""Working days: weekends, public holidays, DST, vectorisation, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
import pytest

from analyzer.errors import UsageError
from analyzer.workdays import (
    check_timezone,
    holiday_dates,
    is_working_day,
    working_days,
    working_days_between,
)


def paris(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Europe/Paris")


def span(start: pd.Timestamp | str, end: pd.Timestamp | str, **kw: str) -> float:
    return float(
        working_days_between(
            pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)]), **kw
        ).iloc[0]
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # within one working day: a quarter of it
        (paris("2024-03-04 09:00"), paris("2024-03-04 15:00"), 0.25),
        # Friday 17:00 to Monday 09:00: 7 h + 9 h, the weekend counts 0
        (paris("2024-03-08 17:00"), paris("2024-03-11 09:00"), 16 / 24),
        # inside a weekend
        (paris("2024-03-09 10:00"), paris("2024-03-10 18:00"), 0.0),
        # midnight to midnight of a working day
        (paris("2024-03-04 00:00"), paris("2024-03-05 00:00"), 1.0),
        # 14 July 2023 is a Friday: Thursday noon to Monday noon is one working day
        (paris("2023-07-13 12:00"), paris("2023-07-17 12:00"), 1.0),
        # 1 May 2024 is a Wednesday
        (paris("2024-04-30 12:00"), paris("2024-05-02 12:00"), 1.0),
        # a whole holiday counts 0
        (paris("2024-05-01 00:00"), paris("2024-05-02 00:00"), 0.0),
        # Easter Monday 2024 (1 April) and the DST change of Sunday 31 March
        (paris("2024-03-29 12:00"), paris("2024-04-02 12:00"), 1.0),
        # the October DST change (Sunday 27 October 2024)
        (paris("2024-10-25 12:00"), paris("2024-10-28 12:00"), 1.0),
        # across New Year: 1 January 2023 is a Sunday, nothing moves to Monday in France
        (paris("2022-12-30 12:00"), paris("2023-01-03 12:00"), 2.0),
        # Christmas Day between two working evenings/mornings (26 December is
        # a working day outside Alsace-Moselle)
        (paris("2024-12-24 18:00"), paris("2024-12-26 06:00"), 0.25 + 0.25),
    ],
)
def test_paris_calendar(start: pd.Timestamp, end: pd.Timestamp, expected: float) -> None:
    assert span(start, end) == pytest.approx(expected, abs=1e-12)


def test_reversed_span_is_negative_and_nat_is_nan() -> None:
    a, b = paris("2024-03-08 17:00"), paris("2024-03-11 09:00")
    assert span(b, a) == pytest.approx(-16 / 24)
    result = working_days_between(
        pd.Series([a, pd.NaT], dtype="datetime64[ns, UTC]"),
        pd.Series([pd.NaT, b], dtype="datetime64[ns, UTC]"),
    )
    assert result.isna().all()


def test_all_missing_gives_nan() -> None:
    empty = pd.Series([pd.NaT], dtype="datetime64[ns, UTC]")
    assert working_days_between(empty, empty).isna().all()
    none = pd.Series([], dtype="datetime64[ns, UTC]")
    assert working_days_between(none, none).tolist() == []


def test_a_23_hour_working_day_still_counts_one() -> None:
    # Egypt moved its clocks at midnight on Friday 28 April 2023 (a weekday
    # under a Monday–Friday week): the day lasted 23 hours and counts 1.
    start = pd.Timestamp("2023-04-28 01:00", tz="Africa/Cairo")  # first instant of the day
    end = pd.Timestamp("2023-04-29 00:00", tz="Africa/Cairo")
    assert (end - start) == pd.Timedelta(hours=23)
    assert span(start, end, timezone="Africa/Cairo") == 1.0
    # noon to midnight is 12 real hours of a 23-hour day
    noon = pd.Timestamp("2023-04-28 12:00", tz="Africa/Cairo")
    assert span(noon, end, timezone="Africa/Cairo") == pytest.approx(12 / 23)


def test_a_25_hour_working_day_still_counts_one() -> None:
    start = pd.Timestamp("2023-10-26 00:00").tz_localize("Africa/Cairo")
    end = pd.Timestamp("2023-10-27 00:00").tz_localize("Africa/Cairo", ambiguous=True)
    assert (end - start) == pd.Timedelta(hours=25)
    assert span(start, end, timezone="Africa/Cairo") == 1.0


def test_the_time_zone_decides_the_day() -> None:
    # 23:30 UTC on Friday is already Saturday in Paris: nothing counts there.
    start, end = "2024-03-08T23:30Z", "2024-03-09T23:00Z"
    assert span(start, end) == 0.0
    assert span(start, end, timezone="UTC") == pytest.approx(0.5 / 24)


def test_country_decides_the_holidays() -> None:
    # 3 October is German Unity Day, an ordinary Thursday in France.
    start, end = "2024-10-02T10:00Z", "2024-10-04T10:00Z"
    assert span(start, end, country="DE", timezone="Europe/Berlin") == 1.0
    assert span(start, end) == 2.0


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 7, 14), False),  # Sunday and holiday
        (date(2023, 7, 14), False),  # Friday, holiday
        (date(2024, 5, 1), False),
        (date(2024, 4, 1), False),  # Easter Monday
        (date(2024, 5, 20), False),  # Whit Monday, listed by the holidays library
        (date(2024, 3, 29), True),  # Good Friday: a working day outside Alsace-Moselle
        (date(2024, 3, 9), False),  # Saturday
        (date(2024, 3, 11), True),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


def test_scalar_helper_and_index() -> None:
    assert working_days(
        datetime(2024, 5, 3, 15, tzinfo=UTC), datetime(2024, 5, 6, 7, tzinfo=UTC)
    ) == pytest.approx(16 / 24)
    start = pd.Series(pd.to_datetime(["2024-03-04T08:00Z"], utc=True), index=[42])
    end = pd.Series(pd.to_datetime(["2024-03-04T20:00Z"], utc=True), index=[42])
    result = working_days_between(start, end)
    pd.testing.assert_series_equal(result, pd.Series([0.5], index=[42]))


def test_errors() -> None:
    naive = pd.Series(pd.to_datetime(["2024-03-04 08:00"]))
    with pytest.raises(UsageError, match="no time zone"):
        working_days_between(naive, naive)
    aware = pd.Series(pd.to_datetime(["2024-03-04T08:00Z"], utc=True))
    with pytest.raises(UsageError, match="Country 'ZZ'"):
        working_days_between(aware, aware, country="ZZ")
    with pytest.raises(UsageError, match="Mars/Olympus"):
        working_days_between(aware, aware, timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="same length"):
        working_days_between(aware, pd.concat([aware, aware]))
    assert check_timezone("UTC") == "UTC"


def test_holidays_come_from_the_library_and_are_cached() -> None:
    listed = holiday_dates("FR", 2024, 2025)
    assert date(2024, 7, 14) in listed and date(2025, 4, 21) in listed
    assert holiday_dates("FR", 2024, 2025) is listed


def test_vectorised_on_many_spans() -> None:
    rng = np.random.default_rng(4)
    base = pd.Timestamp("2020-01-01", tz="UTC")
    starts = base + pd.to_timedelta(rng.integers(0, 5 * 365 * 86400, 200_000), unit="s")
    ends = starts + pd.to_timedelta(rng.integers(0, 60 * 86400, 200_000), unit="s")
    result = working_days_between(pd.Series(starts), pd.Series(ends))
    calendar = (ends - starts).total_seconds() / 86400
    assert (result.to_numpy() <= calendar.to_numpy() + 1e-9).all()
    assert (result >= 0).all()
    # against a slow day-by-day reading of the definition, on a sample
    for i in range(0, 200_000, 997):
        assert result.iloc[i] == pytest.approx(reference(starts[i], ends[i]), abs=1e-9)


def reference(a: pd.Timestamp, b: pd.Timestamp) -> float:
    """The definition read literally: each local day's share of real time."""
    zone = ZoneInfo("Europe/Paris")
    listed = holidays.country_holidays("FR")
    lo, hi = a.to_pydatetime(), b.to_pydatetime()
    day = lo.astimezone(zone).date()
    total = 0.0
    while True:
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        if start >= hi:
            return total
        if day.weekday() < 5 and day not in listed:
            overlap = (min(hi, end) - max(lo, start)).total_seconds()
            total += max(0.0, overlap) / (end - start).total_seconds()
        day += timedelta(days=1)
