"""The report a citizen reads: terminal text (rich) built from the analysis tables.

Building the figures (:func:`summarize`) is separate from drawing them
(:func:`render_terminal`, :mod:`analyzer.html_report`), so tests and
notebooks can check the figures.

>>> from analyzer.schema import message_frame
>>> from analyzer.config import Config
>>> m = message_frame([
...     {"message_id": "a", "case_id": "c", "party": "agency", "counterpart": "FT",
...      "sent_at": "2024-03-04T09:00Z", "body_text": "Répondez sous 48h."},
...     {"message_id": "b", "case_id": "c", "party": "me", "counterpart": "FT",
...      "sent_at": "2024-03-04T10:00Z"}])
>>> s = summarize(m, Config(), as_of=datetime(2024, 3, 30, tzinfo=UTC))
>>> [(c.case_id, c.my_median_seconds, c.deadlines[0].phrase) for c in s.cases]
[('c', 3600.0, 'sous 48h')]
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analyzer import metrics
from analyzer.config import Config
from analyzer.i18n import translate
from analyzer.parties import PARTIES
from analyzer.schema import message_frame, tuples

SIDES = ("agency", "contractor")
#: Above this ratio of medians the terminal shows the asymmetry in colour.
STRIKING_ASYMMETRY = 2.0


@dataclass(frozen=True)
class CounterpartLine:
    name: str
    kind: str
    messages: int
    received: int
    sent: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class DelayLine:
    """Who made whom wait, for one counterpart (``name`` None: every counterpart)."""

    name: str | None
    cases: int
    their_waits: int
    my_waits: int
    their_median_seconds: float
    their_median_working_days: float
    my_median_seconds: float
    my_median_working_days: float
    asymmetry: float
    #: Waits still open where they owe the answer.
    their_open_waits: int


@dataclass(frozen=True)
class DeadlineLine:
    """A deadline demanded of me, beside what I took and what they take."""

    phrase: str
    sent_at: datetime
    due_at: datetime | None
    demanded_seconds: float
    my_delay_seconds: float
    their_median_seconds: float


@dataclass(frozen=True)
class OpenWait:
    """The wait still running at ``as_of`` in one case."""

    responder: str | None
    since: datetime
    age_seconds: float
    age_working_days: float
    closed_meanwhile: bool
    #: The last message is a closure by them: nothing is owed, the case ended.
    ended_by_closure: bool


@dataclass(frozen=True)
class CaseLine:
    """One case's figures, as the report shows them."""

    case_id: str
    counterpart: str | None
    subject: str
    first: datetime | None
    last: datetime | None
    messages: int
    tickets: int
    reopens: int
    closures: int
    interlocutors: int
    their_median_seconds: float
    their_median_working_days: float
    my_median_seconds: float
    my_median_working_days: float
    asymmetry: float
    my_reminders: int
    their_reminders: int
    sent_by_me: int = 0
    sent_by_them: int = 0
    automated: int = 0
    ticket_numbers: list[str] = field(default_factory=list)
    deadlines: list[DeadlineLine] = field(default_factory=list)
    open_wait: OpenWait | None = None
    #: Portal notifications the case builder filed here by a tie-break
    #: (signal ``notice-guessed``): the person should check them.
    guessed_notifications: int = 0


@dataclass
class Frames:
    """The analysis tables behind a report, for charts, HTML and bundles."""

    messages: pd.DataFrame
    waits: pd.DataFrame
    cases: pd.DataFrame
    deadlines: pd.DataFrame
    counterparts: pd.DataFrame
    monthly: pd.DataFrame
    links: pd.DataFrame | None = None


@dataclass
class Summary:
    """The figures of the report."""

    total: int
    counterparts: list[CounterpartLine] = field(default_factory=list)
    parties: dict[str, int] = field(default_factory=dict)
    months: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    as_of: datetime | None = None
    timezone: str = "Europe/Paris"
    delays: list[DelayLine] = field(default_factory=list)
    cases: list[CaseLine] = field(default_factory=list)
    frames: Frames | None = None


def default_as_of(messages: pd.DataFrame) -> datetime:
    """Now, or the last message's time when a skewed clock put it in the future.

    >>> default_as_of(pd.DataFrame({"sent_at": pd.to_datetime([], utc=True)})).tzinfo
    datetime.timezone.utc
    """
    now = datetime.now(UTC)
    times = messages["sent_at"].dropna()
    if len(times) and times.max().to_pydatetime() > now:
        return datetime.fromtimestamp(times.max().timestamp(), UTC)
    return now


def compute_frames(messages: pd.DataFrame, config: Config, *, as_of: datetime,
                   links: pd.DataFrame | None = None) -> Frames:
    """Waits, cases, deadlines, counterpart summary and monthly trend at ``as_of``.

    >>> frames = compute_frames(message_frame([]), Config(),
    ...                         as_of=datetime(2024, 3, 1, tzinfo=UTC))
    >>> len(frames.waits), frames.counterparts["overall"].tolist()
    (0, [True])
    """
    case_rows = messages[messages["case_id"].notna()] if "case_id" in messages else messages
    if case_rows.empty:
        # An empty table has lost its column types (pandas guesses float);
        # the metrics' contracts want the typed empty frame.
        case_rows = message_frame([])
    waits = metrics.waits(case_rows, as_of=as_of, country=config.country,
                          timezone=config.timezone)
    cases = metrics.case_metrics(case_rows, waits, country=config.country,
                                 timezone=config.timezone)
    deadlines = metrics.demanded_deadlines(case_rows, waits, country=config.country,
                                           timezone=config.timezone)
    # An open wait that a closure "asks" is no wait: the case ended. It stays
    # in ``waits`` (the metric's definition) but not in the monthly open counts.
    closures = set(case_rows.loc[case_rows["is_closure"].astype(bool), "message_id"])
    ended = waits["is_open"] & waits["asked_message_id"].isin(closures)
    return Frames(messages, waits, cases, deadlines, metrics.counterpart_summary(cases, waits),
                  metrics.monthly_trend(waits[~ended], config.timezone), links)


def _local(moment: Any, tz: ZoneInfo) -> datetime | None:
    if moment is None or pd.isna(moment):
        return None
    stamp: datetime = pd.Timestamp(moment).tz_convert(tz).to_pydatetime()
    return stamp


def _f(value: Any) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _positions_by_case(case_ids: list[Any]) -> dict[str, list[int]]:
    """The positions of each case's rows, in order; rows in no case left out.

    One pass, where filtering the whole table once per case grows with
    cases × rows (minutes for a pooled mailbox's report).

    >>> _positions_by_case(["b", None, "a", "b"])
    {'b': [0, 3], 'a': [2]}
    """
    found: dict[str, list[int]] = defaultdict(list)
    for position, case in enumerate(case_ids):
        if isinstance(case, str):
            found[case].append(position)
    return dict(found)


def _case_lines(frames: Frames, tz: ZoneInfo) -> list[CaseLine]:
    m = frames.messages
    lines = []
    guessed: dict[str, int] = {}
    if frames.links is not None and len(frames.links):
        chosen = frames.links[frames.links["signal"] == "notice-guessed"]
        guessed = {str(k): int(v) for k, v in chosen["case_id"].value_counts().items()}
    ordered = frames.cases.sort_values(["first_message_at", "case_id"], na_position="last")
    # Whole columns as plain lists, read case by case: a few pandas
    # operations on each case's rows cost seconds over hundreds of cases.
    rows = m[m["case_id"].notna()].sort_values(["sent_at", "message_id"], na_position="last")
    message_ids = rows["message_id"].tolist()
    sent = rows["sent_at"].tolist()
    party = rows["party"].tolist()
    automated = rows["automated"].astype(bool).tolist()
    closing = rows["is_closure"].astype(bool).tolist()
    subjects = rows["subject"].tolist()
    tickets = rows["ticket_id"].tolist()
    positions = _positions_by_case(rows["case_id"].tolist())
    deadlines_of: dict[str, list[Any]] = defaultdict(list)
    for d in tuples(frames.deadlines):
        deadlines_of[d.case_id].append(d)
    # The case's first open wait, in the waits' order.
    open_of: dict[str, Any] = {}
    for o in tuples(frames.waits[frames.waits["is_open"].astype(bool)]):
        open_of.setdefault(o.case_id, o)
    for row in tuples(ordered, index=False):
        mine = positions.get(row.case_id, [])
        human = [i for i in mine if not automated[i]]
        subject = str(subjects[(human or mine)[0]] or "")
        deadlines = []
        # My answer to a demand is my next own message, even when the demand
        # was their reminder inside a wait that started earlier.
        my_times = [sent[i] for i in human if party[i] == "me" and not pd.isna(sent[i])]
        for d in deadlines_of.get(row.case_id, []):
            later = [t for t in my_times if t > d.sent_at]
            mine_delay = (min(later) - d.sent_at).total_seconds() if later else float("nan")
            deadlines.append(DeadlineLine(
                d.phrase, _local(d.sent_at, tz) or datetime.now(UTC), _local(d.due_at, tz),
                _f(d.demanded_seconds), mine_delay, _f(d.their_median_delay_seconds)))
        open_wait = None
        if (o := open_of.get(row.case_id)) is not None:
            closure = any(closing[i] for i in mine if message_ids[i] == o.asked_message_id)
            open_wait = OpenWait(o.responder, _local(o.asked_at, tz) or datetime.now(UTC),
                                 _f(o.open_age_seconds), _f(o.open_age_working_days),
                                 bool(o.crosses_closure), closure and o.responder == "me")
        # Ticket numbers in order of first appearance, without the
        # detector's prefix ("fr-reference:").
        numbers = dict.fromkeys(str(tickets[i]) for i in mine if not pd.isna(tickets[i]))
        lines.append(CaseLine(
            row.case_id, row.counterpart, subject, _local(row.first_message_at, tz),
            _local(row.last_message_at, tz), int(row.messages), int(row.tickets),
            int(row.reopens), int(row.closures), int(row.interlocutors),
            _f(row.their_median_delay_seconds), _f(row.their_median_delay_working_days),
            _f(row.my_median_delay_seconds), _f(row.my_median_delay_working_days),
            _f(row.asymmetry), int(row.my_reminders), int(row.their_reminders),
            sum(1 for i in mine if party[i] == "me"),
            sum(1 for i in mine if party[i] in SIDES),
            sum(1 for i in mine if automated[i]),
            [ticket.split(":", 1)[-1] for ticket in numbers],
            deadlines, open_wait, guessed.get(row.case_id, 0)))
    return lines


def summarize(messages: pd.DataFrame, config: Config, *, as_of: datetime | None = None,
              links: pd.DataFrame | None = None) -> Summary:
    """The report's figures from the messages table (:meth:`Analysis.messages`).

    Counterparts appear in config order, even when no message was found for
    them, so a user sees a mistyped domain at once. ``as_of`` (aware) dates
    the open waits; by default now. A table without cases (no ``case_id``
    column) gives the message counts only.
    """
    tz = ZoneInfo(config.timezone)
    summary = Summary(total=len(messages), timezone=config.timezone)
    summary.parties = {p: int((messages["party"] == p).sum()) for p in PARTIES}
    exchanged = messages[messages["counterpart"].notna()]
    for cp in config.counterparts:
        mine = exchanged[exchanged["counterpart"] == cp.name]
        times = mine["sent_at"].dropna()
        summary.counterparts.append(CounterpartLine(
            cp.name, cp.kind, len(mine),
            int((mine["party"] != "me").sum()), int((mine["party"] == "me").sum()),
            times.min().tz_convert(tz).to_pydatetime() if len(times) else None,
            times.max().tz_convert(tz).to_pydatetime() if len(times) else None,
        ))
    dated = exchanged[exchanged["sent_at"].notna()]
    if len(dated):
        local = dated["sent_at"].dt.tz_convert(tz)
        months = local.dt.strftime("%Y-%m")
        table = dated.assign(month=months).groupby(["month", "party"]).size()
        for month in sorted(set(months)):
            counts: dict[str, int] = {p: int(table.get((month, p), 0))
                                      for p in PARTIES if p != "other"}
            summary.months.append((month, counts))
    if "case_id" not in messages.columns:
        return summary
    moment = as_of or default_as_of(messages)
    summary.as_of = moment.astimezone(tz)
    frames = compute_frames(messages, config, as_of=moment, links=links)
    summary.frames = frames
    owed = frames.waits[frames.waits["is_open"] & frames.waits["responder"].isin(SIDES)]
    for row in tuples(frames.counterparts, index=False):
        open_theirs = (len(owed) if row.overall
                       else int((owed["counterpart"] == row.counterpart).sum()))
        summary.delays.append(DelayLine(
            row.counterpart, int(row.cases), int(row.their_waits), int(row.my_waits),
            _f(row.their_median_delay_seconds), _f(row.their_median_delay_working_days),
            _f(row.my_median_delay_seconds), _f(row.my_median_delay_working_days),
            _f(row.asymmetry), open_theirs))
    summary.cases = _case_lines(frames, tz)
    return summary


# --- formatting ------------------------------------------------------------------

def format_date(moment: datetime | None, lang: str) -> str:
    """A date as its readers write it.

    >>> format_date(datetime(2020, 2, 19), "fr"), format_date(datetime(2020, 2, 19), "en")
    ('19/02/2020', '2020-02-19')
    """
    if moment is None:
        return "—"
    return moment.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


def format_datetime(moment: datetime | None, lang: str) -> str:
    """A date and time as its readers write them.

    >>> format_datetime(datetime(2020, 2, 19, 9, 5), "fr")
    '19/02/2020 09:05'
    """
    if moment is None:
        return "—"
    return f"{format_date(moment, lang)} {moment:%H:%M}"


def format_number(value: float, lang: str, digits: int = 1) -> str:
    """A number with the language's decimal mark and thousands separator.

    >>> format_number(1234.56, "fr"), format_number(1234.56, "en"), format_number(3, "fr", 0)
    ('1\\u202f234,6', '1,234.6', '3')
    """
    text = f"{value:,.{digits}f}"
    if lang == "fr":
        # French: narrow no-break space for thousands, comma for decimals.
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def format_duration(seconds: float, lang: str) -> str:
    """A delay in the unit a reader grasps: minutes, hours, then days.

    >>> format_duration(600, "fr"), format_duration(17291, "fr"), format_duration(4914024, "en")
    ('10 min', '4,8 h', '56.9 days')
    >>> format_duration(float("nan"), "fr")
    '—'
    """
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds < 3600:
        return translate("unit.minutes", lang, n=format_number(seconds / 60, lang, 0))
    if seconds < 2 * 86400:
        return translate("unit.hours", lang, n=format_number(seconds / 3600, lang))
    return translate("unit.days", lang, n=format_number(seconds / 86400, lang))


def format_delay(seconds: float, working_days: float, lang: str) -> str:
    """A delay on both clocks: calendar time, then working days in brackets.

    >>> format_delay(4914024, 39.92, "fr")
    '56,9 j (39,9 j ouvrés)'
    """
    if seconds is None or math.isnan(seconds):
        return "—"
    if working_days is None or math.isnan(working_days):
        return format_duration(seconds, lang)
    return translate("unit.pair", lang, calendar=format_duration(seconds, lang),
                     working=format_number(working_days, lang))


def format_ratio(ratio: float, lang: str) -> str:
    """An asymmetry as a factor.

    >>> format_ratio(11.07, "fr"), format_ratio(284.2, "en"), format_ratio(float("nan"), "en")
    ('×11,1', '×284', '—')
    """
    if ratio is None or math.isnan(ratio):
        return "—"
    return "×" + format_number(ratio, lang, 0 if ratio >= 100 else 1)


def case_sentences(case: CaseLine, lang: str) -> list[str]:
    """The lines that tell one case, in plain words (shared by terminal and HTML).

    Message text (the subject) is not included: callers escape and place it.
    """
    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    lines = [t("report.case.span", first=format_date(case.first, lang),
               last=format_date(case.last, lang), messages=case.messages,
               mine=case.sent_by_me, theirs=case.sent_by_them, automated=case.automated,
               interlocutors=case.interlocutors)]
    if case.ticket_numbers:
        lines.append(t("report.case.tickets", count=case.tickets,
                       numbers=", ".join(case.ticket_numbers), reopens=case.reopens,
                       closures=case.closures))
    elif case.closures:
        lines.append(t("report.case.no_ticket", closures=case.closures))
    lines.append(t("report.case.delays",
                   their=format_delay(case.their_median_seconds,
                                      case.their_median_working_days, lang),
                   mine=format_delay(case.my_median_seconds, case.my_median_working_days, lang),
                   ratio=format_ratio(case.asymmetry, lang)))
    if case.my_reminders or case.their_reminders:
        lines.append(t("report.case.reminders", mine=case.my_reminders,
                       theirs=case.their_reminders))
    for d in case.deadlines:
        lines.append(t("report.case.deadline", phrase=d.phrase,
                       date=format_date(d.sent_at, lang),
                       demanded=format_duration(d.demanded_seconds, lang),
                       mine=format_duration(d.my_delay_seconds, lang),
                       theirs=format_duration(d.their_median_seconds, lang)))
    o = case.open_wait
    if o is not None:
        since = format_date(o.since, lang)
        age = format_delay(o.age_seconds, o.age_working_days, lang)
        if o.ended_by_closure:
            lines.append(t("report.case.ended", date=since))
        elif o.responder == "me":
            lines.append(t("report.case.open_mine", date=since, age=age))
        else:
            lines.append(t("report.case.open_theirs", date=since, age=age))
            if o.closed_meanwhile:
                lines.append(t("report.case.closed_meanwhile"))
    if case.guessed_notifications:
        lines.append(t("report.case.guessed", count=case.guessed_notifications,
                       case=case.case_id))
    return lines


# --- terminal ---------------------------------------------------------------------

def render_terminal(summary: Summary, lang: str, console: Console, *, title: str,
                    store: str, config: str | None) -> None:
    """Print the summary; colour only when ``console`` is a terminal."""
    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    console.print(t("report.title", mailbox=escape(title)), style="bold")
    console.print(t("report.store_line", store=escape(store)))
    console.print(t("report.config_line", config=escape(config or "—")))
    if summary.as_of is not None:
        console.print(t("report.as_of", date=format_datetime(summary.as_of, lang)))
    console.print()
    if summary.total == 0:
        console.print(t("report.no_messages"))
        return

    console.print(t("report.counterparts"), style="bold")
    table = Table()
    table.add_column(t("report.col.counterpart"))
    table.add_column(t("report.col.kind"))
    for key in ("report.col.messages", "report.col.received", "report.col.sent"):
        table.add_column(t(key), justify="right")
    table.add_column(t("report.col.first"))
    table.add_column(t("report.col.last"))
    for line in summary.counterparts:
        table.add_row(escape(line.name), t(f"report.kind.{line.kind}"), str(line.messages),
                      str(line.received), str(line.sent), format_date(line.first, lang),
                      format_date(line.last, lang))
    console.print(table)
    if not any(line.messages for line in summary.counterparts):
        console.print(t("report.no_counterpart_mail"))

    if summary.delays and summary.cases:
        _render_delays(summary, lang, console)
        _render_cases(summary, lang, console)

    console.print(t("report.parties"), style="bold")
    parties = Table()
    parties.add_column(t("report.col.party"))
    parties.add_column(t("report.col.messages"), justify="right")
    for party, count in summary.parties.items():
        parties.add_row(t(f"report.party.{party}"), str(count))
    parties.add_row(t("report.total"), str(summary.total), style="bold")
    console.print(parties)

    if summary.months:
        console.print(t("report.months"), style="bold")
        months = Table()
        months.add_column(t("report.col.month"))
        shown = [p for p in PARTIES if p != "other"]
        for party in shown:
            months.add_column(t(f"report.party.{party}"), justify="right")
        for month, counts in summary.months:
            months.add_row(month, *(str(counts[p]) for p in shown))
        console.print(months)


def _ratio_style(ratio: float) -> str:
    return "bold red" if not math.isnan(ratio) and ratio >= STRIKING_ASYMMETRY else ""


def _render_delays(summary: Summary, lang: str, console: Console) -> None:
    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    console.print(t("report.delays"), style="bold")
    table = Table()
    table.add_column(t("report.col.counterpart"), min_width=14)
    table.add_column(t("report.col.cases"), justify="right")
    for key in ("report.col.their_median", "report.col.my_median", "report.col.asymmetry",
                "report.col.open_waits"):
        table.add_column(t(key), justify="right")
    for d in summary.delays:
        name = escape(d.name) if d.name is not None else t("report.all_counterparts")
        table.add_row(
            name, str(d.cases),
            _two_clocks(d.their_median_seconds, d.their_median_working_days, lang,
                        d.their_waits),
            _two_clocks(d.my_median_seconds, d.my_median_working_days, lang, d.my_waits),
            format_ratio(d.asymmetry, lang), str(d.their_open_waits),
            style="bold" if d.name is None else "")
    console.print(table)
    _indented(console, t("report.delays_note"))
    console.print()


def _two_clocks(seconds: float, working_days: float, lang: str, answers: int) -> str:
    # One clock a line, then how many answers the median is taken over.
    lines = [format_duration(seconds, lang)]
    if not math.isnan(working_days):
        lines.append(translate("unit.working_short", lang, n=format_number(working_days, lang)))
    lines.append(translate("report.answers", lang, count=answers))
    return "\n".join(lines)


def quoted(text: str, lang: str) -> str:
    """``text`` between the language's quotation marks.

    >>> quoted("Objet", "fr"), quoted("Subject", "en")
    ('« Objet »', '“Subject”')
    """
    return f"« {text} »" if lang == "fr" else f"“{text}”"


def _render_cases(summary: Summary, lang: str, console: Console) -> None:
    console.print(translate("report.cases", lang, count=len(summary.cases)), style="bold")
    for case in summary.cases:
        console.print(translate("report.case.title", lang, case=case.case_id,
                                counterpart=escape(case.counterpart or "—")), style="bold")
        _indented(console, quoted(case.subject, lang))
        for number, line in enumerate(case_sentences(case, lang)):
            _indented(console, line, _ratio_style(case.asymmetry) if number == 1 else "")
        console.print()


def _indented(console: Console, text: str, style: str = "") -> None:
    # Wrapped here with a hanging indent, so a long sentence stays under its
    # start and lines carry no trailing spaces (a file or a pipe gets clean text).
    for line in textwrap.wrap(text, width=max(console.width - 2, 20), break_on_hyphens=False):
        console.print("  " + escape(line), style=style, highlight=False, soft_wrap=True)


def render_html(summary: Summary, lang: str, *, title: str) -> str:
    """The report as one self-contained HTML page: see :mod:`analyzer.html_report`."""
    from analyzer.html_report import render_report

    return render_report(summary, lang, title=title)
