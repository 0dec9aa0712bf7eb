"""Charts that make the asymmetry visible, as matplotlib Figures.

Every function takes the analysis tables (:mod:`analyzer.metrics` outputs) and
returns a :class:`matplotlib.figure.Figure` built directly, never through
``pyplot``: no global state, no window, no ``plt.show()``; safe in threads,
servers and notebooks (a notebook displays a returned Figure by itself).
Labels come from the message catalogue in the language asked for.

Artists that tests and callers look for carry a ``gid``: ``messages`` (one
mark per dated message), ``waits`` (one bar per wait), ``deadlines`` (one
marker per demanded deadline), ``median`` (median lines), ``asymmetry``
(one bar per case or counterpart), ``trend`` (one line per side).

>>> import pandas as pd
>>> from analyzer.schema import empty, WAITS
>>> fig = delay_distribution(empty(WAITS), lang="en")
>>> len(fig.axes)
2
>>> png = figure_bytes(fig, "png"); png[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from analyzer.i18n import translate
from analyzer.schema import tuples

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colours that survive black-and-white printing by lightness as well as hue.
COLOURS = {"me": "#1f5fa8", "agency": "#c0392b", "contractor": "#d68910", "them": "#c0392b"}
LANES = ("me", "agency", "contractor")
KINDS = ("distribution", "timeline", "asymmetry", "trend")
DAY = 86400.0
# Figure sizes in inches: wide and short, to sit in a page of A4 text.
WIDE = (9.0, 3.6)
TALL = (9.0, 4.2)
#: The timeline's margins, as fractions of :data:`TALL`: room for the lane
#: names on the left, the rotated dates below, the title and legend above.
TIMELINE_MARGINS = {"left": 0.105, "right": 0.985, "bottom": 0.16, "top": 0.865}


def _figure(size: tuple[float, float], *, margins: dict[str, float] | None = None) -> Figure:
    from matplotlib.figure import Figure

    if margins is None:
        return Figure(figsize=size, layout="constrained")
    fig = Figure(figsize=size)
    fig.subplots_adjust(**margins)
    return fig


def _t(key: str, lang: str, **params: object) -> str:
    return translate(key, lang, **params)


def _number(value: float, lang: str, digits: int = 1) -> str:
    from analyzer.report import format_number

    return format_number(value, lang, digits)


def _tick_text(value: float, lang: str) -> str:
    return _number(value, lang, 0 if float(value).is_integer() else 1)


def _number_ticks(axis: Any, lang: str, prefix: str = "") -> None:
    from matplotlib.ticker import FuncFormatter

    # Tick labels in the reader's decimal mark ("0,5" in French).
    axis.set_major_formatter(FuncFormatter(lambda x, _: prefix + _tick_text(x, lang)))


def _local_naive(series: pd.Series, timezone: str) -> pd.Series:
    # matplotlib draws naive datetimes; local wall-clock time is what the
    # reader lived, so convert before dropping the zone.
    return pd.to_datetime(series, utc=True).dt.tz_convert(timezone).dt.tz_localize(None)


def _date_axis(ax: Axes, lang: str) -> None:
    from matplotlib.dates import AutoDateLocator, DateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(
        DateFormatter("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d"))  # type: ignore[no-untyped-call]
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


# --- delay distributions -------------------------------------------------------

def delay_distribution(waits: pd.DataFrame, *, lang: str = "fr") -> Figure:
    """Answered delays by side (counterpart vs me), in calendar days (left)
    and working days (right): one dot per answer, the median as a bar.

    >>> from analyzer.schema import empty, WAITS
    >>> [ax.get_xlabel() for ax in delay_distribution(empty(WAITS), lang="fr").axes]
    ['Délai (jours calendaires)', 'Délai (jours ouvrés)']
    """
    fig = _figure(WIDE)
    answered = waits[~waits["is_open"].astype(bool)] if len(waits) else waits
    rows = [("them", answered[answered["responder"].isin(("agency", "contractor"))]),
            ("me", answered[answered["responder"] == "me"])]
    axes = fig.subplots(1, 2, sharey=True)
    for ax, column, divisor, label in (
            (axes[0], "delay_seconds", DAY, "chart.axis.calendar_days"),
            (axes[1], "delay_working_days", 1.0, "chart.axis.working_days")):
        for y, (side, part) in enumerate(rows):
            values = (part[column].dropna() / divisor).to_list() if len(part) else []
            # Deterministic spread so equal delays stay visible as several dots.
            jitter = [y + ((i * 7919) % 11 - 5) * 0.03 for i in range(len(values))]
            ax.scatter(values, jitter, s=28, color=COLOURS[side], alpha=0.75, gid="delays",
                       edgecolors="white", linewidths=0.5)
            if values:
                median = float(pd.Series(values).median())
                ax.plot([median, median], [y - 0.3, y + 0.3], color="black", linewidth=2.5,
                        gid="median")
                ax.annotate(_t("chart.median", lang, value=_number(median, lang)),
                            (median, y + 0.32), ha="center", va="bottom", fontsize=8)
        ax.set_xlabel(_t(label, lang))
        ax.set_xlim(left=0)
        _number_ticks(ax.xaxis, lang)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks([0, 1], [_t("chart.side.them", lang), _t("chart.side.me", lang)])
    axes[0].set_ylim(-0.6, 1.8)
    fig.suptitle(_t("chart.distribution.title", lang))
    return fig


# --- case timeline --------------------------------------------------------------

def _short_ticket(ticket: str) -> str:
    return ticket.split(":", 1)[-1]


def case_timeline(messages: pd.DataFrame, waits: pd.DataFrame, case_id: str, *,
                  deadlines: pd.DataFrame | None = None, as_of: datetime | None = None,
                  timezone: str = "Europe/Paris", lang: str = "fr",
                  title: str | None = None) -> Figure:
    """One case over time: a swimlane each for me, the agency and the
    contractor; each dated message a mark (hollow when automated, a cross for
    a closure), tickets as shaded bands, closures as dashed lines, waits as
    bars on the lane of who owed the answer (hatched while still open) and
    demanded deadlines as red triangles at their due date on my lane.

    ``title`` defaults to the case id; text from messages is drawn as glyph
    paths in SVG, so no markup from a subject can reach a page.

    >>> from analyzer.schema import message_frame, empty, WAITS
    >>> m = message_frame([
    ...     {"message_id": "a", "case_id": "c", "party": "agency", "sent_at": "2024-03-04T09:00Z"},
    ...     {"message_id": "b", "case_id": "c", "party": "me", "sent_at": "2024-03-05T09:00Z"}])
    >>> fig = case_timeline(m, empty(WAITS), "c", lang="en")
    >>> sum(len(a.get_offsets()) for a in fig.axes[0].collections if a.get_gid() == "messages")
    2
    """
    from matplotlib.patches import Patch

    # Fixed margins rather than the layout engine, which draws the figure
    # once more to measure it: the report draws one timeline per case, and
    # lane names and rotated dates take the same room in every one.
    fig = _figure(TALL, margins=TIMELINE_MARGINS)
    ax = fig.add_subplot()
    rows = messages[messages["case_id"] == case_id]
    dated = rows[rows["sent_at"].notna()].copy()
    dated["local"] = _local_naive(dated["sent_at"], timezone)
    lane_of = {party: LANES.index(party) for party in LANES}
    y_of = {party: len(LANES) - 1 - i for party, i in lane_of.items()}

    # Tickets: a band from first to last message, labelled with its number.
    tickets = dated[dated["ticket_id"].notna()].groupby("ticket_id")["local"]
    for n, (ticket, span) in enumerate(sorted(
            ((str(k), (v.min(), v.max())) for k, v in tickets), key=lambda kv: kv[1][0])):
        ax.axvspan(span[0], span[1], color="#888888", alpha=0.12 if n % 2 else 0.22,
                   linewidth=0, gid="tickets")
        ax.annotate(_t("chart.ticket", lang, number=_short_ticket(ticket)), (span[0], 2.62),
                    fontsize=7, rotation=0, va="bottom", color="#444444", clip_on=True)
    for when in dated.loc[dated["is_closure"].astype(bool), "local"]:
        ax.axvline(when, color="#7b241c", linestyle="--", linewidth=1, gid="closures")

    case_waits = waits[waits["case_id"] == case_id]
    end = (pd.Timestamp(as_of).tz_convert(timezone).tz_localize(None) if as_of is not None
           else (dated["local"].max() if len(dated) else None))
    closures = set(dated.loc[dated["is_closure"].astype(bool), "message_id"])
    # A wait still open today can be years long beside an exchange of weeks:
    # its bar is cut a little after the last message, its full age written on
    # it, so that the exchange itself stays readable.
    horizon = None
    if len(dated):
        last = dated["local"].max()
        horizon = last + max((last - dated["local"].min()) * 0.3, pd.Timedelta(days=21))
    for wait in tuples(case_waits):
        if wait.responder not in y_of:
            continue
        if wait.is_open and wait.asked_message_id in closures:
            # A closure asks nothing: the case ended, nobody is waiting.
            continue
        start = pd.Timestamp(wait.asked_at).tz_convert(timezone).tz_localize(None)
        stop = (end if wait.is_open or pd.isna(wait.answered_at)
                else pd.Timestamp(wait.answered_at).tz_convert(timezone).tz_localize(None))
        if stop is None:
            continue
        y = y_of[wait.responder]
        side = "me" if wait.responder == "me" else wait.responder
        days = (stop - start).total_seconds() / DAY
        cut = bool(wait.is_open) and horizon is not None and stop > horizon
        if cut and horizon is not None:
            stop = horizon
        # matplotlib places datetimes through its units registry; its stubs
        # only name numbers.
        left: Any = start
        ax.barh(y - 0.22, (stop - start).total_seconds() / DAY, left=left, height=0.14,
                color=COLOURS[side], alpha=0.45, hatch="///" if wait.is_open else None,
                edgecolor=COLOURS[side], linewidth=0.5, gid="waits")
        if wait.responder != "me" and days >= 1:
            label = "chart.days_open" if cut else "chart.days_taken"
            ax.annotate(_t(label, lang, days=_number(days, lang, 0)),
                        (start + (stop - start) / 2, y - 0.36), ha="center", va="top",
                        fontsize=7, color=COLOURS[side], zorder=6,
                        # Closure lines cross the bars: keep the figure readable.
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})

    for party in LANES:
        part = dated[dated["party"] == party]
        if part.empty:
            continue
        auto = part["automated"].astype(bool)
        closure = part["is_closure"].astype(bool)
        y = y_of[party]
        plain = part[~auto & ~closure]
        robot = part[auto & ~closure]
        closed = part[closure]
        ax.scatter(plain["local"], [y] * len(plain), s=46, color=COLOURS[party], zorder=3,
                   gid="messages")
        ax.scatter(robot["local"], [y] * len(robot), s=46, facecolors="white",
                   edgecolors=COLOURS[party], linewidths=1.2, zorder=3, gid="messages")
        ax.scatter(closed["local"], [y] * len(closed), s=70, marker="X", color="#7b241c",
                   zorder=4, gid="messages")

    if deadlines is not None and len(deadlines):
        mine = deadlines[(deadlines["case_id"] == case_id) & deadlines["due_at"].notna()]
        if len(mine):
            sent = _local_naive(mine["sent_at"], timezone)
            due = _local_naive(mine["due_at"], timezone)
            y = y_of["me"]
            for start, stop in zip(sent, due, strict=True):
                ax.plot([start, stop], [y + 0.25, y + 0.25], color="#7b241c", linewidth=2,
                        gid="deadline-spans")
            ax.scatter(due, [y + 0.25] * len(due), marker="v", s=60, color="#7b241c",
                       zorder=5, gid="deadlines")
            for n, (phrase, stop) in enumerate(zip(mine["phrase"], due, strict=True)):
                # Demands of one message fall together: stack their labels.
                ax.annotate(_t("chart.demanded", lang, phrase=str(phrase)), (stop, y + 0.33),
                            xytext=(3, 9 * n), textcoords="offset points", fontsize=7,
                            color="#7b241c", va="bottom")

    ax.set_yticks([y_of[p] for p in LANES], [_t(f"report.party.{p}", lang) for p in LANES])
    ax.set_ylim(-0.6, 3.0)
    ax.margins(x=0.03)
    ax.grid(axis="x", alpha=0.3)
    if len(dated):
        _date_axis(ax, lang)
    handles = [
        Patch(color=COLOURS["agency"], alpha=0.45, label=_t("chart.legend.wait", lang)),
        Patch(facecolor="white", edgecolor="#555555", hatch="///",
              label=_t("chart.legend.open_wait", lang)),
        Patch(color="#888888", alpha=0.22, label=_t("chart.legend.ticket", lang)),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, ncols=3,
              bbox_to_anchor=(0, 1.0))
    fig.suptitle(title if title is not None else _t("chart.timeline.title", lang, case=case_id),
                 fontsize=10)
    return fig


# --- asymmetry ------------------------------------------------------------------

def _ratio_bars(ax: Axes, labels: Sequence[str], ratios: Sequence[float], lang: str) -> None:
    positions = list(range(len(labels)))[::-1]
    shown = [r if not math.isnan(r) and r > 0 else 0.0 for r in ratios]
    colours = [COLOURS["them"] if r > 1 else COLOURS["me"] for r in shown]
    left = [min(1.0, r) if r else 1.0 for r in shown]
    widths = [abs(max(r, 1.0) - min(r, 1.0)) if r else 0.0 for r in shown]
    ax.barh(positions, widths, left=left, color=colours, alpha=0.8, gid="asymmetry")
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter

    # "×10" reads better than 10¹ for a citizen.
    _number_ticks(ax.xaxis, lang, "×")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="black", linewidth=1)
    for y, r in zip(positions, ratios, strict=True):
        from analyzer.report import format_ratio

        text = format_ratio(r, lang)
        ax.annotate(text, (max(r, 1.0) if not math.isnan(r) else 1.0, y), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(positions, labels)
    top = max([r for r in shown if r] + [2.0])
    bottom = min([r for r in shown if r] + [0.5])
    ax.set_xlim(bottom / 2, top * 3)
    ax.grid(axis="x", alpha=0.3)


def asymmetry_chart(cases: pd.DataFrame, counterparts: pd.DataFrame, *,
                    lang: str = "fr", labels: dict[str, str] | None = None) -> Figure:
    """Their median delay divided by mine, per case (top) and per counterpart
    (bottom), on a log scale around 1 (equal delays): a bar to the right means
    they are slower than me.

    ``labels`` maps case ids to the text shown (default: the case id).

    >>> from analyzer.schema import empty, CASES, COUNTERPARTS
    >>> [ax.get_title(loc="left") for ax in asymmetry_chart(empty(CASES), empty(COUNTERPARTS),
    ...                                                     lang="en").axes]
    ['Per case', 'Per counterpart']
    """
    fig = _figure(TALL)
    counted = counterparts[~counterparts["overall"].astype(bool)] if len(counterparts) else \
        counterparts
    heights = [max(len(cases), 1), max(len(counted) + 1, 1)]
    top, bottom = fig.subplots(2, 1, height_ratios=heights)
    if "first_message_at" in cases.columns:
        # In the order the citizen lived them, oldest on top.
        cases = cases.sort_values(["first_message_at", "case_id"], na_position="last")
    case_labels = [(labels or {}).get(str(c), str(c)) for c in cases["case_id"]]
    _ratio_bars(top, case_labels, [float(x) for x in cases["asymmetry"]], lang)
    top.set_title(_t("chart.asymmetry.cases", lang), fontsize=9, loc="left")
    names = [str(n) for n in counted["counterpart"]] + [_t("report.all_counterparts", lang)]
    ratios = [float(x) for x in counted["asymmetry"]]
    overall = counterparts[counterparts["overall"].astype(bool)] if len(counterparts) else None
    ratios.append(float(overall["asymmetry"].iloc[0]) if overall is not None and len(overall)
                  else float("nan"))
    _ratio_bars(bottom, names, ratios, lang)
    bottom.set_title(_t("chart.asymmetry.counterparts", lang), fontsize=9, loc="left")
    bottom.set_xlabel(_t("chart.axis.asymmetry", lang))
    fig.suptitle(_t("chart.asymmetry.title", lang))
    return fig


# --- monthly trend ----------------------------------------------------------------

def monthly_chart(monthly: pd.DataFrame, *, lang: str = "fr") -> Figure:
    """Median delay per month (of the question) for their answers and mine,
    in days; months whose waits are still open are marked with their count.

    >>> from analyzer.schema import empty, MONTHLY
    >>> monthly_chart(empty(MONTHLY), lang="en").axes[0].get_ylabel()
    'Median delay (days)'
    """
    fig = _figure(WIDE)
    ax = fig.add_subplot()
    if len(monthly):
        frame = monthly.assign(
            side=monthly["responder"].map(lambda r: "me" if r == "me" else "them"),
            when=pd.to_datetime(monthly["month"] + "-15"))
        months = pd.DatetimeIndex(
            pd.period_range(min(monthly["month"]), max(monthly["month"]), freq="M")
            .to_timestamp() + pd.Timedelta(days=14), name="when")
        for side in ("them", "me"):
            part = frame[frame["side"] == side]
            if part.empty:
                continue
            # Several counterparts in one month: the slowest median is the
            # one the citizen lived with.
            grouped = part.groupby("when").agg(median=("median_delay_seconds", "max"),
                                               open=("open_waits", "sum"))
            # Every month in the range, empty ones as gaps: a line must not
            # join two answers years apart as if the months between existed.
            grouped = grouped.reindex(months)
            ax.plot(grouped.index, grouped["median"] / DAY, marker="o", color=COLOURS[side],
                    label=_t(f"chart.side.{side}", lang), gid="trend")
            for when, row in grouped[grouped["open"].fillna(0) > 0].iterrows():
                value = row["median"] / DAY if not math.isnan(row["median"]) else 0.0
                ax.annotate(_t("chart.open_waits", lang, count=int(row["open"])),
                            (when, value), xytext=(0, 6), textcoords="offset points",
                            ha="center", fontsize=7, color=COLOURS[side])
        ax.legend(fontsize=8, frameon=False)
        _date_axis(ax, lang)
    ax.set_ylabel(_t("chart.axis.median_days", lang))
    ax.set_ylim(bottom=0)
    _number_ticks(ax.yaxis, lang)
    ax.grid(alpha=0.3)
    fig.suptitle(_t("chart.trend.title", lang))
    return fig


# --- output -----------------------------------------------------------------------

def figure_bytes(fig: Figure, fmt: str, *, salt: str = "analyzer") -> bytes:
    """``fig`` rendered as ``png`` or ``svg`` bytes; the same figure gives the
    same bytes.

    No timestamp goes in the file, and the names of an SVG's definitions
    (clip paths, markers, hatches) derive from ``salt`` and their content,
    where matplotlib would draw a random salt each time: an evidence bundle
    made twice from the same data must have the same digests.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # A figure made without pyplot has no canvas able to print PNG until given one.
    if fig.canvas is None or type(fig.canvas).__name__ == "FigureCanvasBase":
        FigureCanvasAgg(fig)
    out = io.BytesIO()
    metadata: dict[str, Any] = ({"Date": None} if fmt == "svg" else {"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(out, format=fmt, metadata=metadata, dpi=110 if fmt == "png" else "figure")
    return out.getvalue()


_XML_DECL = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def inline_svg(fig: Figure, *, label: str = "") -> str:
    """``fig`` as an ``<svg>`` element to paste into an HTML page.

    The XML declaration, doctype, metadata and comments are dropped: the
    page needs none of them, comments repeat every drawn text, and namespace
    URLs would be the only addresses left in a file that must hold none (the
    HTML parser puts ``svg`` in its namespace by itself). ``label`` becomes
    the accessible name (escaped), and salts the names of the figure's
    definitions: figures of one page with different labels never share one.

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = fig.add_subplot().set_title("<b>x</b> --> y")
    >>> svg = inline_svg(fig, label="<i>")
    >>> svg.startswith('<svg role="img" aria-label="&lt;i&gt;"'), "<b>" in svg, "http" in svg
    (True, False, False)
    """
    from html import escape

    text = figure_bytes(fig, "svg", salt=f"analyzer:{label}").decode("utf-8")
    text = _XML_DECL.sub("", text)
    text = _METADATA.sub("", text)
    text = _COMMENT.sub("", text)
    text = _XMLNS.sub("", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1).strip()


def save_figure(fig: Figure, path: str) -> None:
    """Write ``fig`` to ``path``; the format comes from the suffix (.png, .svg).

    >>> save_figure(monthly_chart(pd.DataFrame(columns=["month"])), "trend.svg")  # doctest: +SKIP
    """
    fmt = path.rsplit(".", 1)[-1].lower()
    with open(path, "wb") as out:
        out.write(figure_bytes(fig, fmt))
