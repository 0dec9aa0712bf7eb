"""Working-day arithmetic: how many working days elapsed between two instants.

Definition (the one every delay "in working days" uses):

* A **working day** is a calendar day, in the configured time zone
  (``Europe/Paris`` by default), that is a Monday to Friday and not a public
  holiday of the configured country (``FR`` by default) as listed by the
  maintained ``holidays`` library (national days only: no regional
  subdivision such as Alsace-Moselle).
* A working day counts **whole**, midnight to midnight local time: office
  hours are not modelled, because the agencies' clocks (and the citizen's)
  do not stop at 17:00.
* The working days elapsed between instants ``a`` and ``b`` is the sum, over
  the working days ``D`` touched, of the share of ``D`` that lies between
  them: ``|[a, b) ∩ D| / |D|``, where ``D`` runs from local midnight to the
  next local midnight in real time. A full working day thus counts exactly 1
  even on a 23- or 25-hour day, and an instant's wall-clock time is never
  read twice or skipped at a DST change. (In Europe clocks change on Sunday
  nights, so there ``|D|`` is always 86,400 seconds on working days.)
* Elapsed time on weekends and holidays counts 0. ``b`` before ``a`` gives
  the negative of ``b`` to ``a``; a missing end (``NaT``) gives ``NaN``.

Examples (Europe/Paris, France): Friday 17:00 to Monday 09:00 is 7 h + 9 h =
16/24 ≈ 0.667 working days; Thursday 13 July 2023 12:00 to Monday 17 July
12:00 is 0.5 (Thursday) + 0 (Friday 14 July, a holiday) + 0 (the weekend) +
0.5 (Monday) = 1 working day, for 4 calendar days.

The computation is vectorised: ``W(t)`` = number of working days before
``t``'s local date (``numpy.busday_count``) + the elapsed share of ``t``'s own
day when it is a working day; a span is ``W(b) - W(a)``.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from analyzer.errors import UsageError

#: Monday to Friday, in numpy's weekmask notation.
WEEKMASK = "1111100"
SECONDS_PER_DAY = 86_400.0


@lru_cache(maxsize=64)
def holiday_dates(country: str, first_year: int, last_year: int) -> tuple[date, ...]:
    """Public holidays of ``country`` from ``first_year`` to ``last_year``, sorted.

    >>> date(2024, 7, 14) in holiday_dates("FR", 2024, 2024)
    True
    """
    import holidays

    try:
        table = holidays.country_holidays(country.upper(),
                                          years=range(first_year, last_year + 1))
    except NotImplementedError:
        raise UsageError("metrics.unknown_country", country=country) from None
    return tuple(sorted(table))


def check_timezone(timezone: str) -> str:
    """``timezone`` if it names an IANA zone, else a :class:`UsageError`.

    >>> check_timezone("Europe/Paris")
    'Europe/Paris'
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UsageError("metrics.unknown_timezone", timezone=timezone) from None
    return timezone


def is_working_day(day: date, country: str = "FR") -> bool:
    """Whether ``day`` is Monday to Friday and not a public holiday of ``country``.

    >>> is_working_day(date(2024, 5, 1)), is_working_day(date(2024, 5, 2))
    (False, True)
    >>> is_working_day(date(2024, 4, 1)), is_working_day(date(2024, 4, 6))  # Easter Monday, Sat
    (False, False)
    """
    return bool(np.is_busday(np.datetime64(day, "D"), weekmask=WEEKMASK,
                             holidays=_holidays_array(country, day.year, day.year)))


def _holidays_array(country: str, first_year: int, last_year: int) -> np.ndarray:
    return np.array(holiday_dates(country, first_year, last_year), dtype="datetime64[D]")


def _as_utc_index(values: pd.Series | pd.DatetimeIndex, where: str) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(values)
    if index.tz is None:
        if len(index) and index.notna().any():
            raise UsageError("metrics.naive_datetimes", where=where)
        index = index.tz_localize("UTC")
    return index.tz_convert("UTC").as_unit("ns")


def _positions(instants: pd.DatetimeIndex, country: str, timezone: str) -> np.ndarray:
    """``W(t)`` for every instant: working days from an arbitrary epoch (NaN for NaT)."""
    out = np.full(len(instants), np.nan)
    valid = np.asarray(instants.notna())
    if not valid.any():
        return out
    local = instants[valid].tz_convert(timezone)
    # Wall-clock dates of the instants; day boundaries are then found in real
    # time from those dates, so a DST change never shifts an instant's day.
    dates = local.tz_localize(None).normalize()
    unique = pd.DatetimeIndex(dates.unique())
    starts = _local_midnights(unique, timezone)
    nexts = _local_midnights(unique + pd.Timedelta(days=1), timezone)
    lengths = (nexts - starts).total_seconds().to_numpy()
    slot = unique.get_indexer(dates)

    day64 = unique.to_numpy().astype("datetime64[D]")
    years = pd.DatetimeIndex(unique).year
    hol = _holidays_array(country, int(years.min()), int(years.max()))
    epoch = day64.min()
    before = np.busday_count(epoch, day64, weekmask=WEEKMASK, holidays=hol)
    working = np.is_busday(day64, weekmask=WEEKMASK, holidays=hol)

    elapsed = (local.tz_convert("UTC") - starts[slot].tz_convert("UTC")).total_seconds()
    share = np.asarray(elapsed) / lengths[slot]
    out[valid] = before[slot] + np.where(working[slot], share, 0.0)
    return out


def _local_midnights(days: pd.DatetimeIndex, timezone: str) -> pd.DatetimeIndex:
    # Where midnight does not exist (a spring-forward at 00:00) the day starts
    # at the first instant after the gap; where it happens twice, at the first.
    ambiguous = np.ones(len(days), dtype=bool)
    return days.tz_localize(timezone, ambiguous=ambiguous, nonexistent="shift_forward")


def working_days_between(
    start: pd.Series | pd.DatetimeIndex,
    end: pd.Series | pd.DatetimeIndex,
    *,
    country: str = "FR",
    timezone: str = "Europe/Paris",
) -> pd.Series:
    """Working days elapsed from each ``start`` to the matching ``end`` (float64).

    Both are tz-aware (naive values raise :class:`UsageError`); ``NaT`` on
    either side gives ``NaN``. The result has ``start``'s index when it is a
    Series. See the module docstring for the definition.

    >>> s = pd.Series(pd.to_datetime(["2023-07-13 10:00", "2024-03-28 11:00"], utc=True))
    >>> e = pd.Series(pd.to_datetime(["2023-07-17 10:00", "2024-04-02 10:00"], utc=True))
    >>> working_days_between(s, e).tolist()   # 14 July + weekend; Easter Monday + DST
    [1.0, 2.0]
    """
    check_timezone(timezone)
    a = _as_utc_index(start, "working_days_between")
    b = _as_utc_index(end, "working_days_between")
    if len(a) != len(b):
        raise ValueError("start and end must have the same length")
    pos = _positions(pd.DatetimeIndex(a.append(b)), country, timezone)
    values = pos[len(a):] - pos[: len(a)]
    index = start.index if isinstance(start, pd.Series) else None
    return pd.Series(values, index=index, dtype="float64")


def working_days(start: datetime, end: datetime, *, country: str = "FR",
                 timezone: str = "Europe/Paris") -> float:
    """Working days elapsed from ``start`` to ``end`` (aware datetimes).

    >>> from datetime import UTC
    >>> working_days(datetime(2024, 5, 3, 15, 0, tzinfo=UTC),   # Friday 17:00 Paris
    ...              datetime(2024, 5, 6, 7, 0, tzinfo=UTC))    # Monday 09:00 Paris
    0.6666666666666666
    """
    return float(working_days_between(pd.Series([pd.Timestamp(start)]),
                                      pd.Series([pd.Timestamp(end)]),
                                      country=country, timezone=timezone).iloc[0])
