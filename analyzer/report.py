"""The report a citizen reads: terminal text (rich) built from the messages table.

Building the figures (:func:`summarize`) is separate from drawing them
(:func:`render_terminal`), so tests and notebooks can check the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from rich.console import Console
from rich.table import Table

from analyzer.config import Config
from analyzer.i18n import translate
from analyzer.parties import PARTIES


@dataclass(frozen=True)
class CounterpartLine:
    name: str
    kind: str
    messages: int
    received: int
    sent: int
    first: datetime | None
    last: datetime | None


@dataclass
class Summary:
    """The figures of the first report."""

    total: int
    counterparts: list[CounterpartLine] = field(default_factory=list)
    parties: dict[str, int] = field(default_factory=dict)
    months: list[tuple[str, dict[str, int]]] = field(default_factory=list)


def summarize(messages: pd.DataFrame, config: Config) -> Summary:
    """The first report's figures from the messages table.

    Counterparts appear in config order, even when no message was found for
    them, so a user sees a mistyped domain at once.
    """
    tz = ZoneInfo(config.timezone)
    summary = Summary(total=len(messages))
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
    return summary


def format_date(moment: datetime | None, lang: str) -> str:
    """A date as its readers write it.

    >>> format_date(datetime(2020, 2, 19), "fr"), format_date(datetime(2020, 2, 19), "en")
    ('19/02/2020', '2020-02-19')
    """
    if moment is None:
        return "—"
    return moment.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


def render_terminal(summary: Summary, lang: str, console: Console, *, title: str,
                    store: str, config: str | None) -> None:
    """Print the summary; colour only when ``console`` is a terminal."""
    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    console.print(t("report.title", mailbox=title), style="bold")
    console.print(t("report.store_line", store=store))
    console.print(t("report.config_line", config=config or "—"))
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
        table.add_row(line.name, t(f"report.kind.{line.kind}"), str(line.messages),
                      str(line.received), str(line.sent), format_date(line.first, lang),
                      format_date(line.last, lang))
    console.print(table)
    if not any(line.messages for line in summary.counterparts):
        console.print(t("report.no_counterpart_mail"))

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


def render_html(summary: Summary, lang: str, *, title: str) -> str:
    """The same figures as one self-contained HTML page (no external resource;
    every text from a message or the config is escaped)."""
    from html import escape

    def t(key: str, **params: object) -> str:
        return escape(translate(key, lang, **params))

    def table(caption: str, head: list[str], rows: list[list[str]]) -> str:
        cells = "".join(f"<th>{h}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                       for row in rows)
        return (f"<table><caption>{caption}</caption><thead><tr>{cells}</tr></thead>"
                f"<tbody>{body}</tbody></table>")

    parts = [table(t("report.counterparts"),
                   [t(k) for k in ("report.col.counterpart", "report.col.kind",
                                   "report.col.messages", "report.col.received",
                                   "report.col.sent", "report.col.first", "report.col.last")],
                   [[c.name, translate(f"report.kind.{c.kind}", lang), str(c.messages),
                     str(c.received), str(c.sent), format_date(c.first, lang),
                     format_date(c.last, lang)] for c in summary.counterparts]),
             table(t("report.parties"), [t("report.col.party"), t("report.col.messages")],
                   [[translate(f"report.party.{p}", lang), str(n)]
                    for p, n in summary.parties.items()])]
    if summary.months:
        shown = [p for p in PARTIES if p != "other"]
        parts.append(table(t("report.months"),
                           [t("report.col.month")] + [t(f"report.party.{p}") for p in shown],
                           [[m] + [str(c[p]) for p in shown] for m, c in summary.months]))
    style = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#111}"
             "table{border-collapse:collapse;margin:1.5rem 0}caption{text-align:left;"
             "font-weight:bold;padding:.3rem 0}td,th{border:1px solid #999;padding:.2rem .6rem}"
             "@media print{table{page-break-inside:avoid}}")
    return (f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f"<title>{t('report.title', mailbox=title)}</title><style>{style}</style></head>"
            f"<body><h1>{t('report.title', mailbox=title)}</h1>{''.join(parts)}</body></html>\n")
