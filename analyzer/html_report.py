"""The report as one self-contained HTML file, to open in a browser, print and hand over.

No network access at all: the styles are inline, the charts inline SVG (text
drawn as glyph paths, so no font is fetched), no script, and a
Content-Security-Policy that forbids loading anything. Jinja2 autoescapes
every value; text from messages (subjects, names) is only ever inserted as
text, and no message HTML is rendered. The SVG of the charts is the only
markup inserted as is; :func:`analyzer.charts.inline_svg` strips its
comments, the one place where matplotlib repeats drawn text.

>>> from datetime import UTC, datetime
>>> from analyzer.config import Config
>>> from analyzer.report import summarize
>>> from analyzer.schema import message_frame
>>> m = message_frame([{"message_id": "a", "case_id": "c", "party": "agency",
...     "counterpart": "FT", "sent_at": "2024-03-04T09:00Z", "subject": "<script>x</script>"}])
>>> page = render_report(summarize(m, Config(), as_of=datetime(2024, 3, 5, tzinfo=UTC)),
...                      "en", title="demo")
>>> "<script>" in page, "&lt;script&gt;x&lt;/script&gt;" in page
(False, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import pandas as pd

from analyzer import forking
from analyzer.i18n import translate
from analyzer.report import (
    CaseLine,
    Summary,
    case_sentences,
    format_date,
    format_datetime,
    format_delay,
    format_duration,
    format_ratio,
    quoted,
)
from analyzer.schema import tuples

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    # Autoescape on for the .j2 page and the included stylesheet alike.
    return Environment(loader=PackageLoader("analyzer", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _anchor(case_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in case_id)


def _explanation(summary: Summary, case_id: str, lang: str) -> tuple[list[str], list[str]]:
    """The case's conversations (one line each) and the links that join them."""
    from analyzer.cases import CaseBuild, explain_case

    frames = summary.frames
    if frames is None or frames.links is None:
        return [], []
    found = explain_case(CaseBuild(frames.messages, frames.links), case_id)
    if found is None:
        return [], []
    conversations = []
    convo_of: dict[str, int] = {}
    for number, conv in enumerate(found.conversations, 1):
        for mid in conv["message_id"]:
            convo_of[str(mid)] = number
        tickets = ", ".join(sorted({str(x).split(":", 1)[-1]
                                    for x in conv["ticket_id"].dropna()})) or "—"
        conversations.append(translate("cases.explain.conversation", lang, number=number,
                                       tickets=tickets,
                                       subject=str(conv["subject"].iloc[0] or "")).strip())
    links = [translate("cases.explain.link", lang,
                       later=convo_of.get(link.to_message_id, "?"),
                       earlier=convo_of.get(link.from_message_id, "?"),
                       signal=translate(f"cases.signal.{link.signal}", lang),
                       detail=translate(f"cases.detail.{link.signal}", lang, **link.params)
                       ).strip()
             for link in tuples(found.links)]
    return conversations, links


def _chronology(summary: Summary, case_id: str, lang: str) -> list[dict[str, Any]]:
    frames = summary.frames
    if frames is None:
        return []
    m = frames.messages
    rows = m[m["case_id"] == case_id].sort_values(["sent_at", "message_id"],
                                                  na_position="last")
    numbers: dict[object, int] = {}
    out = []
    for row in tuples(rows):
        conversation = getattr(row, "conversation_id", None)
        number = numbers.setdefault(conversation, len(numbers) + 1)
        notes = []
        if bool(row.automated):
            notes.append(translate("html.note.automated", lang))
        if bool(row.is_closure):
            notes.append(translate("html.note.closure", lang))
        when = (None if pd.isna(row.sent_at)
                else pd.Timestamp(row.sent_at).tz_convert(summary.timezone).to_pydatetime())
        ticket = row.ticket_id if isinstance(row.ticket_id, str) else ""
        name = row.from_name if isinstance(row.from_name, str) and row.from_name else (
            row.from_addr if isinstance(row.from_addr, str) else "")
        person = getattr(row, "sender_person", None)
        # A shared mailbox signed by an advisor: the signature names the human.
        if isinstance(person, str) and person and person not in name:
            name = f"{name} ({person})" if name else person
        out.append({
            "when": format_datetime(when, lang), "conversation": number, "party": row.party,
            "party_label": translate(f"report.party.{row.party}", lang), "name": name,
            "subject": row.subject or "", "ticket": ticket.split(":", 1)[-1],
            "notes": ", ".join(notes),
        })
    return out


def _open_text(case: CaseLine, lang: str) -> str:
    o = case.open_wait
    if o is None:
        return "—"
    if o.ended_by_closure:
        return translate("html.open.ended", lang, date=format_date(o.since, lang))
    who = "html.open.mine" if o.responder == "me" else "html.open.theirs"
    return translate(who, lang, age=format_duration(o.age_seconds, lang))


def _case_context(summary: Summary, case: CaseLine, lang: str, timeline: str
                  ) -> dict[str, Any]:
    conversations, links = _explanation(summary, case.case_id, lang)
    return {
        "id": case.case_id, "anchor": _anchor(case.case_id),
        "counterpart": case.counterpart or "—", "subject": case.subject,
        "quoted_subject": quoted(case.subject, lang),
        "first": format_date(case.first, lang), "last": format_date(case.last, lang),
        "messages": case.messages, "tickets": case.tickets, "reopens": case.reopens,
        "interlocutors": case.interlocutors,
        # The table is narrow: calendar time only; the case page gives both clocks.
        "their": format_duration(case.their_median_seconds, lang),
        "mine": format_duration(case.my_median_seconds, lang),
        "ratio": format_ratio(case.asymmetry, lang), "open": _open_text(case, lang),
        "sentences": case_sentences(case, lang),
        "timeline": _markup(timeline),
        "conversations": conversations, "links": links,
        "chronology": _chronology(summary, case.case_id, lang),
    }


# Past this many cases the timelines, most of the page's time, are drawn by
# two forked workers that inherit the summary; only the SVG text comes back.
PARALLEL_TIMELINES = 16


def _timeline(summary: Summary, case: CaseLine, lang: str) -> str:
    """The case's timeline as inline SVG ("" without the analysis tables)."""
    from analyzer.charts import case_timeline, inline_svg

    frames = summary.frames
    if frames is None:
        return ""
    fig = case_timeline(frames.messages, frames.waits, case.case_id,
                        deadlines=frames.deadlines, as_of=summary.as_of,
                        timezone=summary.timezone, lang=lang, title=case.subject)
    return inline_svg(fig, label=translate("chart.timeline.title", lang, case=case.case_id))


def _timeline_at(shared: tuple[Summary, Sequence[CaseLine], str], k: int) -> str:
    """:func:`_timeline` of the ``k``-th case."""
    summary, cases, lang = shared
    return _timeline(summary, cases[k], lang)


def _timelines(summary: Summary, cases: Sequence[CaseLine], lang: str) -> list[str]:
    """The timelines of ``cases``, in order; the same SVG whichever process drew it."""
    if (len(cases) < PARALLEL_TIMELINES or summary.frames is None
            or not forking.can_fork()):
        return [_timeline(summary, case, lang) for case in cases]
    # Cases differ in size: hand them out a few at a time.
    with forking.forked_map(_timeline_at, (summary, cases, lang), range(len(cases)),
                            chunksize=4) as pending:
        return pending.get()


def _markup(svg: str) -> Any:
    from markupsafe import Markup

    # The one unescaped insertion: SVG that matplotlib wrote, every text in it
    # escaped by matplotlib and its comments stripped (charts.inline_svg).
    return Markup(svg)


def _overview_charts(summary: Summary, lang: str) -> list[dict[str, Any]]:
    from analyzer.charts import asymmetry_chart, delay_distribution, inline_svg, monthly_chart

    frames = summary.frames
    if frames is None:
        return []
    labels = {c.case_id: f"{c.case_id}\n{_shorten(c.subject)}" for c in summary.cases}
    figures = [
        ("chart-distribution", delay_distribution(frames.waits, lang=lang),
         "html.caption.distribution"),
        ("chart-asymmetry", asymmetry_chart(frames.cases, frames.counterparts, lang=lang,
                                            labels=labels), "html.caption.asymmetry"),
        ("chart-trend", monthly_chart(frames.monthly, lang=lang), "html.caption.trend"),
    ]
    return [{"id": ident, "svg": _markup(inline_svg(fig, label=translate(key, lang))),
             "caption": translate(key, lang)} for ident, fig, key in figures]


def _shorten(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _delays(summary: Summary, lang: str) -> list[dict[str, Any]]:
    rows = []
    for d in summary.delays:
        rows.append({
            "name": d.name if d.name is not None else translate("report.all_counterparts", lang),
            "overall": d.name is None, "cases": d.cases,
            "their": format_delay(d.their_median_seconds, d.their_median_working_days, lang),
            "their_count": translate("report.answers", lang, count=d.their_waits),
            "mine": format_delay(d.my_median_seconds, d.my_median_working_days, lang),
            "my_count": translate("report.answers", lang, count=d.my_waits),
            "ratio": format_ratio(d.asymmetry, lang), "open": d.their_open_waits,
        })
    return rows


def render_report(summary: Summary, lang: str, *, title: str,
                  case_ids: Sequence[str] | None = None) -> str:
    """The whole report as one HTML page; with ``case_ids``, only those cases'
    pages (the evidence bundle's page of one case), without the overview.

    >>> Path("rapport.html").write_text(render_report(summary, "fr", title="ma boîte"),
    ...                                 "utf-8")                  # doctest: +SKIP
    """
    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    chosen = [c for c in summary.cases if case_ids is None or c.case_id in case_ids]
    as_of = (t("report.as_of", date=format_datetime(summary.as_of, lang))
             if summary.as_of is not None else "")
    context = {
        "lang": lang, "t": t, "title": t("report.title", mailbox=title), "as_of": as_of,
        "overview": case_ids is None and bool(summary.cases),
        "counterparts": [] if case_ids is not None else [
            {"name": c.name, "kind": t(f"report.kind.{c.kind}"), "messages": c.messages,
             "received": c.received, "sent": c.sent, "first": format_date(c.first, lang),
             "last": format_date(c.last, lang)} for c in summary.counterparts],
        "delays": _delays(summary, lang),
        "charts": _overview_charts(summary, lang) if case_ids is None and summary.cases
        else [],
        "cases": [_case_context(summary, c, lang, svg)
                  for c, svg in zip(chosen, _timelines(summary, chosen, lang), strict=True)],
    }
    return _environment().get_template("report.html.j2").render(context)

