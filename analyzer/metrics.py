"""Who made whom wait: turns, waits, per-case metrics, demanded deadlines, summaries.

Pure functions from DataFrames to DataFrames; every input is checked against
its contract in :mod:`analyzer.schema` and every output built to one.

Definitions (issue 4; these are the contract, made precise here):

* **Sides.** ``me`` on one side; the counterpart (``agency`` or
  ``contractor``) on the other. ``other`` messages take no part in turns.
* **Messages in turns.** Those with a case, a date (``sent_at`` not NaT: an
  undated message cannot be placed, so it is left out and counted in
  ``undated_messages``), not ``automated``, from one of the two sides; journal
  events only when marked ``answer``. Within a case they are ordered by
  ``sent_at``, ties broken by ``message_id`` so that results are repeatable.
* **Turn.** A maximal run of consecutive such messages from one side.
* **Wait.** From the first message of a turn (``asked_at``) to the first
  message of the next turn, which is by construction the other side's
  (``answered_at``). ``requester`` is the party of the asking turn's first
  message, ``responder`` that of the answering turn's first message.
  **Reminders** are the asking turn's further messages: they do not restart
  the wait. Ticket boundaries play no part, so a wait runs across closures
  and reopened tickets.
* **Open wait.** The last turn of a case has no answer: ``answered_at`` is
  NaT, ``delay_*`` NaN, ``open_age_*`` measured from ``asked_at`` to
  ``as_of``. Its responder is the other side: ``me``, or the counterpart's
  party (the party of the case's first counterpart-side message, automated
  ones included, else the optional ``counterpart_kind`` column; missing when
  neither says). ``as_of`` must not precede the last message taking part in
  turns. Open waits never enter a median.
* **crosses_closure.** A message flagged ``is_closure`` (automated or not) of
  the same case was sent strictly after ``asked_at`` and strictly before
  ``answered_at`` (for an open wait: no later than ``as_of``).
* **Delays** in seconds and in working days (:mod:`analyzer.workdays`); each
  statistic is computed on each clock separately (the working-day median is
  the median of working-day delays, not the seconds median converted).
* **Medians and p90** are over answered waits, p90 with linear interpolation
  between closest ranks (pandas' default). "Their" delays are waits whose
  responder is ``agency`` or ``contractor``; "my" delays those whose
  responder is ``me``.
* **Asymmetry** = their median / my median; NaN when either is missing or my
  median is 0, so never infinite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from analyzer import schema
from analyzer.errors import UsageError
from analyzer.workdays import check_timezone, working_days_between

SIDE_PARTIES: tuple[str, ...] = ("agency", "contractor")
TURN_PARTIES: tuple[str, ...] = ("me", *SIDE_PARTIES)
P90 = 0.9
#: Automated kinds whose wording states what *they* will do, not what they
#: demand ("nous vous répondrons sous 48h"): never read for demanded deadlines.
#: Bulk mail is read: a contractor's campaign ("Cet accompagnement est
#: OBLIGATOIRE. Merci de prendre rendez-vous sous 8 jours") demands as much
#: as a letter, however many others received it.
PROMISE_KINDS: frozenset[str] = frozenset(
    {"acknowledgement", "out_of_office", "survey", "bounce"}
)

_TURN_INPUT = ("message_id", "case_id", "party", "counterpart", "automated", "sent_at")
_WAIT_INPUT = (*_TURN_INPUT, "is_closure")
_CASE_INPUT = (*_WAIT_INPUT, "ticket_id", "from_addr", "sender_person")
_DEADLINE_INPUT = (*_WAIT_INPUT, "automation_kind", "body_text")
_WAITS_READ = ("case_id", "requester", "responder", "asked_at", "delay_seconds",
               "delay_working_days", "open_age_seconds", "open_age_working_days",
               "reminders", "is_open")


# --- input checks ------------------------------------------------------------

def _check_messages(messages: object, where: str, columns: Sequence[str]) -> None:
    optional = []
    if isinstance(messages, pd.DataFrame):
        optional = [c.name for c in schema.MESSAGES.columns
                    if not c.required and c.name in messages.columns]
    schema.check(messages, schema.MESSAGES, where, [*columns, *optional])


def _utc(series: pd.Series) -> pd.Series:
    # One resolution everywhere, so merge_asof and subtraction never meet
    # mixed units (pandas 3 infers microseconds from strings).
    return series.astype("datetime64[ns, UTC]")


def _as_of(value: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise UsageError("metrics.naive_as_of", value=str(value))
    return stamp.tz_convert("UTC").as_unit("ns")


# --- turns ---------------------------------------------------------------------

def _in_turns(messages: pd.DataFrame) -> pd.Series:
    keep = (messages["case_id"].notna() & messages["sent_at"].notna()
            & ~messages["automated"].astype(bool) & messages["party"].isin(TURN_PARTIES))
    if "source" in messages.columns:
        journal = messages["source"].eq("journal")
        answer = (messages["answer"].astype(bool) if "answer" in messages.columns
                  else pd.Series(False, index=messages.index))
        keep &= ~journal | answer
    return keep


def _turn_rows(messages: pd.DataFrame) -> pd.DataFrame:
    """The messages taking part in turns, ordered, with object-typed keys."""
    rows = messages.loc[_in_turns(messages), ["case_id", "sent_at", "message_id", "party"]]
    rows = rows.astype({"case_id": object, "message_id": object, "party": object})
    rows["sent_at"] = _utc(rows["sent_at"])
    return rows.sort_values(["case_id", "sent_at", "message_id"], kind="mergesort",
                            ignore_index=True)


def _first_flags(keys: np.ndarray) -> np.ndarray:
    flags = np.ones(len(keys), dtype=bool)
    if len(keys):
        flags[1:] = keys[1:] != keys[:-1]
    return flags


def _turn_table(rows: pd.DataFrame) -> pd.DataFrame:
    case = rows["case_id"].to_numpy(dtype=object)
    mine = rows["party"].to_numpy(dtype=object) == "me"
    new = _first_flags(case)
    if len(case):
        new[1:] |= mine[1:] != mine[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(case))[: len(starts)] - 1
    position = np.arange(len(starts))
    case_start = np.maximum.accumulate(np.where(_first_flags(case[starts]), position, 0))
    sent = rows["sent_at"]
    ids = rows["message_id"].to_numpy(dtype=object)
    return pd.DataFrame({
        "case_id": case[starts],
        "turn": position - case_start,
        "party": rows["party"].to_numpy(dtype=object)[starts],
        "started_at": sent.iloc[starts].to_numpy(),
        "ended_at": sent.iloc[ends].to_numpy(),
        "first_message_id": ids[starts],
        "last_message_id": ids[ends],
        "messages": ends - starts + 1,
    }).astype({"started_at": "datetime64[ns, UTC]", "ended_at": "datetime64[ns, UTC]"})


def _case_first(messages: pd.DataFrame, column: str, mask: pd.Series | None = None
                ) -> pd.Series:
    """Per case, the first non-missing ``column`` value in time order (undated last)."""
    keep = messages["case_id"].notna() & messages[column].notna()
    if mask is not None:
        keep &= mask
    part = messages.loc[keep, ["case_id", "sent_at", "message_id", column]]
    part = part.astype({"case_id": object, "message_id": object})
    part = part.sort_values(["case_id", "sent_at", "message_id"], na_position="last",
                            kind="mergesort")
    first = part.drop_duplicates("case_id").set_index("case_id")[column]
    return first.astype(object)


def _case_counterparts(messages: pd.DataFrame) -> pd.Series:
    return _case_first(messages, "counterpart")


def _case_counterpart_parties(messages: pd.DataFrame) -> pd.Series:
    parties = _case_first(messages, "party", messages["party"].isin(SIDE_PARTIES))
    if "counterpart_kind" in messages.columns:
        kinds = _case_first(messages, "counterpart_kind")
        parties = parties.combine_first(kinds)
    return parties


def turns(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per turn (:data:`analyzer.schema.TURNS`).

    >>> from analyzer.schema import message_frame
    >>> m = message_frame([
    ...     {"message_id": "a", "case_id": "c", "party": "me", "sent_at": "2024-03-04T09:00Z"},
    ...     {"message_id": "b", "case_id": "c", "party": "me", "sent_at": "2024-03-05T09:00Z"},
    ...     {"message_id": "c", "case_id": "c", "party": "agency",
    ...      "sent_at": "2024-03-06T09:00Z"}])
    >>> turns(m)[["turn", "party", "first_message_id", "messages"]].values.tolist()
    [[0, 'me', 'a', 2], [1, 'agency', 'c', 1]]
    """
    _check_messages(messages, "turns()", _TURN_INPUT)
    table = _turn_table(_turn_rows(messages))
    table["counterpart"] = table["case_id"].map(_case_counterparts(messages))
    return schema.conform(table, schema.TURNS)


# --- waits ---------------------------------------------------------------------

def _wait_core(messages: pd.DataFrame, turn_table: pd.DataFrame, *, country: str,
               timezone: str) -> pd.DataFrame:
    """Waits without open ages and closure crossing (those need ``as_of``)."""
    t = turn_table
    n = len(t)
    case = t["case_id"].to_numpy(dtype=object)
    answered = np.zeros(n, dtype=bool)
    if n:
        answered[:-1] = case[1:] == case[:-1]
    nxt = np.append(np.arange(1, n), 0) if n else np.arange(0)
    party = t["party"].to_numpy(dtype=object)
    sides = _case_counterpart_parties(messages)
    fallback = np.where(
        party == "me", pd.Series(case, dtype=object).map(sides).to_numpy(dtype=object), "me")
    responder = np.where(answered, party[nxt] if n else party, fallback)
    asked = t["started_at"]
    answered_at = t["started_at"].iloc[nxt].reset_index(drop=True).where(answered)
    ids = t["first_message_id"].to_numpy(dtype=object)
    answer_ids = np.array(ids[nxt] if n else ids, dtype=object)
    answer_ids[~answered] = None
    frame = pd.DataFrame({
        "case_id": case,
        "requester": party,
        "responder": pd.Series(responder, dtype=object).where(pd.notna(responder), None),
        "asked_at": asked,
        "answered_at": answered_at,
        "asked_message_id": ids,
        "answer_message_id": answer_ids,
        "reminders": t["messages"].to_numpy() - 1,
        "is_open": ~answered,
    })
    frame["delay_seconds"] = (frame["answered_at"] - frame["asked_at"]).dt.total_seconds()
    frame["delay_working_days"] = working_days_between(
        frame["asked_at"], frame["answered_at"], country=country, timezone=timezone)
    frame["counterpart"] = frame["case_id"].map(_case_counterparts(messages))
    return frame


def _next_closures(messages: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    """Per wait, the first closure of its case strictly after ``asked_at`` (or NaT)."""
    closed = messages.loc[
        messages["is_closure"].astype(bool) & messages["case_id"].notna()
        & messages["sent_at"].notna(), ["case_id", "sent_at"]]
    closed = closed.rename(columns={"sent_at": "closed_at"}).astype({"case_id": object})
    closed["closed_at"] = _utc(closed["closed_at"])
    left = frame[["case_id", "asked_at"]].assign(_row=np.arange(len(frame)))
    left = left.astype({"case_id": object})
    merged = pd.merge_asof(
        left.sort_values("asked_at", kind="mergesort"),
        closed.sort_values("closed_at", kind="mergesort"),
        left_on="asked_at", right_on="closed_at", by="case_id",
        direction="forward", allow_exact_matches=False,
    )
    return merged.sort_values("_row")["closed_at"].reset_index(drop=True)


def waits(messages: pd.DataFrame, *, as_of: datetime | pd.Timestamp, country: str = "FR",
          timezone: str = "Europe/Paris") -> pd.DataFrame:
    """One row per wait (:data:`analyzer.schema.WAITS`), answered and open.

    ``as_of`` (aware) dates the open waits; it must not precede the last
    message taking part in turns. ``country``/``timezone`` set the
    working-day calendar.

    >>> from datetime import UTC
    >>> from analyzer.schema import message_frame
    >>> m = message_frame([
    ...     {"message_id": "a", "case_id": "c", "party": "me", "sent_at": "2024-03-04T09:00Z"},
    ...     {"message_id": "b", "case_id": "c", "party": "me", "sent_at": "2024-03-05T09:00Z"},
    ...     {"message_id": "c", "case_id": "c", "party": "agency",
    ...      "sent_at": "2024-03-06T09:00Z"}])
    >>> w = waits(m, as_of=datetime(2024, 3, 8, 9, 0, tzinfo=UTC))
    >>> w[["requester", "responder", "delay_seconds", "reminders", "open_age_seconds"]
    ...   ].values.tolist()
    [['me', 'agency', 172800.0, 1, nan], ['agency', 'me', nan, 0, 172800.0]]
    """
    _check_messages(messages, "waits()", _WAIT_INPUT)
    check_timezone(timezone)
    stamp = _as_of(as_of)
    table = _turn_table(_turn_rows(messages))
    if len(table) and table["ended_at"].max() > stamp:
        raise UsageError("metrics.as_of_before_data", as_of=stamp.isoformat(),
                         last=table["ended_at"].max().isoformat())
    frame = _wait_core(messages, table, country=country, timezone=timezone)
    is_open = frame["is_open"]
    frame["open_age_seconds"] = ((stamp - frame["asked_at"]).dt.total_seconds()
                                 .where(is_open))
    ends = pd.Series(stamp, index=frame.index).where(is_open)
    frame["open_age_working_days"] = working_days_between(
        frame["asked_at"], ends, country=country, timezone=timezone)
    closure = _next_closures(messages, frame)
    end = frame["answered_at"].where(~is_open, stamp + pd.Timedelta(1, "ns"))
    frame["crosses_closure"] = (closure.notna() & (closure < end)).to_numpy()
    return schema.conform(frame, schema.WAITS)


# --- per case ------------------------------------------------------------------

def _median_p90(w: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    grouped = w.groupby("case_id")[column]
    return grouped.median(), grouped.quantile(P90)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    # A zero or missing denominator gives NaN, never inf: "I answered at once"
    # is not an infinitely favourable comparison.
    return numerator / denominator.where(denominator > 0)


def _interlocutor_keys(rows: pd.DataFrame) -> pd.Series:
    from analyzer.people import fold

    person = rows["sender_person"].astype(object)
    named = person.notna() & person.astype(str).str.strip().ne("")
    unique = {p: "person:" + " ".join(fold(p).split()) for p in person[named].unique()}
    address = rows["from_addr"].astype(object)
    has_address = address.notna() & address.astype(str).str.strip().ne("")
    by_address = "address:" + address.astype(str).str.strip().str.lower()
    keys = person.map(unique).where(named, by_address.where(has_address))
    return keys.astype(object)


def case_metrics(messages: pd.DataFrame, waits: pd.DataFrame, *, country: str = "FR",
                 timezone: str = "Europe/Paris") -> pd.DataFrame:
    """One row per case (:data:`analyzer.schema.CASES`) from the messages and their
    :func:`waits` (which carry the ``as_of`` of open waits).

    Case-level definitions:

    * ``messages``: mail messages of the case (automated and undated ones
      included; journal events are counted in ``journal_events``);
    * ``tickets``: distinct ``ticket_id``; ``closures``: messages flagged
      ``is_closure``; ``reopens``: tickets whose first dated message comes
      strictly after the case's first closure;
    * ``interlocutors``: distinct counterpart humans among non-automated
      agency/contractor mail: the ``sender_person`` when known (compared
      case- and accent-insensitively), else the sender address; so a shared
      no-reply address signed by three advisors counts three;
    * ``reminders`` = ``my_reminders`` + ``their_reminders``, summed over
      the case's waits by requester;
    * ``longest_silence_*``: the longest gap between two consecutive messages
      taking part in turns (either side), on each clock separately; the time
      since the last message is not a silence here (it is the open wait's
      age); NaN with fewer than two such messages;
    * ``open_wait_*``: the case's open wait, if any (its age and who owes it);
    * ``first_message_at``/``last_message_at``: over dated mail messages.

    >>> from datetime import UTC
    >>> from analyzer.schema import message_frame
    >>> m = message_frame([
    ...     {"message_id": "a", "case_id": "c", "party": "me", "sent_at": "2024-03-04T09:00Z"},
    ...     {"message_id": "b", "case_id": "c", "party": "agency",
    ...      "sent_at": "2024-03-06T09:00Z", "from_addr": "x@ft.fr"},
    ...     {"message_id": "c", "case_id": "c", "party": "me", "sent_at": "2024-03-06T10:00Z"},
    ...     {"message_id": "d", "case_id": "c", "party": "agency",
    ...      "sent_at": "2024-03-07T10:00Z", "from_addr": "x@ft.fr"}])
    >>> w = waits(m, as_of=datetime(2024, 3, 8, 10, 0, tzinfo=UTC))
    >>> c = case_metrics(m, w)
    >>> c[["their_median_delay_seconds", "my_median_delay_seconds", "asymmetry"]
    ...   ].values.tolist()
    [[129600.0, 3600.0, 36.0]]
    """
    _check_messages(messages, "case_metrics()", _CASE_INPUT)
    schema.check(waits, schema.WAITS, "case_metrics()", _WAITS_READ)
    check_timezone(timezone)

    m = messages.loc[messages["case_id"].notna()].copy()
    m["case_id"] = m["case_id"].astype(object)
    m["sent_at"] = _utc(m["sent_at"])
    index = pd.Index(sorted(m["case_id"].unique()), name="case_id", dtype=object)
    is_mail = (m["source"].ne("journal") if "source" in m.columns
               else pd.Series(True, index=m.index))
    mail = m[is_mail]
    dated = m[m["sent_at"].notna()]

    def count(series: pd.Series) -> pd.Series:
        return series.reindex(index, fill_value=0).astype("int64")

    out = pd.DataFrame(index=index)
    out["counterpart"] = _case_counterparts(m).reindex(index)
    out["messages"] = count(mail.groupby("case_id").size())
    out["journal_events"] = count(m[~is_mail].groupby("case_id").size())
    out["undated_messages"] = count(m[m["sent_at"].isna()].groupby("case_id").size())
    out["tickets"] = count(m.groupby("case_id")["ticket_id"].nunique())
    out["closures"] = count(m.groupby("case_id")["is_closure"].sum())

    first_closure = dated[dated["is_closure"].astype(bool)].groupby("case_id")["sent_at"].min()
    ticketed = dated[dated["ticket_id"].notna()].astype({"ticket_id": object})
    ticket_start = ticketed.groupby(["case_id", "ticket_id"])["sent_at"].min().reset_index()
    ticket_start = ticket_start.join(first_closure.rename("closed_at"), on="case_id")
    after = ticket_start["sent_at"] > ticket_start["closed_at"]
    out["reopens"] = count(after.groupby(ticket_start["case_id"]).sum())

    human = mail[~mail["automated"].astype(bool) & mail["party"].isin(SIDE_PARTIES)]
    keys = _interlocutor_keys(human)
    out["interlocutors"] = count(keys.groupby(human["case_id"]).nunique())

    w = waits[waits["case_id"].isin(index)].astype({"case_id": object})
    answered = w[~w["is_open"]]
    theirs = answered[answered["responder"].isin(SIDE_PARTIES)]
    mine = answered[answered["responder"].eq("me")]
    out["waits"] = count(answered.groupby("case_id").size())
    out["open_waits"] = count(w[w["is_open"]].groupby("case_id").size())
    by_requester = w.assign(mine=w["requester"].eq("me"))
    out["my_reminders"] = count(by_requester[by_requester["mine"]]
                                .groupby("case_id")["reminders"].sum())
    out["their_reminders"] = count(by_requester[~by_requester["mine"]]
                                   .groupby("case_id")["reminders"].sum())
    out["reminders"] = out["my_reminders"] + out["their_reminders"]

    for unit in ("seconds", "working_days"):
        column = f"delay_{unit}"
        their_median, their_p90 = _median_p90(theirs, column)
        my_median = mine.groupby("case_id")[column].median()
        out[f"their_median_delay_{unit}"] = their_median.reindex(index)
        out[f"their_p90_delay_{unit}"] = their_p90.reindex(index)
        out[f"my_median_delay_{unit}"] = my_median.reindex(index)
    out["asymmetry"] = _ratio(out["their_median_delay_seconds"],
                              out["my_median_delay_seconds"])
    out["asymmetry_working_days"] = _ratio(out["their_median_delay_working_days"],
                                           out["my_median_delay_working_days"])

    rows = _turn_rows(m)
    previous = rows["sent_at"].shift()
    follows = rows["case_id"].eq(rows["case_id"].shift())
    gaps = pd.DataFrame({
        "case_id": rows["case_id"],
        "seconds": (rows["sent_at"] - previous).dt.total_seconds().where(follows),
        "working_days": working_days_between(previous.where(follows), rows["sent_at"],
                                             country=country, timezone=timezone),
    })
    out["longest_silence_seconds"] = gaps.groupby("case_id")["seconds"].max().reindex(index)
    out["longest_silence_working_days"] = (gaps.groupby("case_id")["working_days"].max()
                                           .reindex(index))

    open_rows = (w[w["is_open"]].sort_values("asked_at", kind="mergesort")
                 .drop_duplicates("case_id").set_index("case_id"))
    out["open_wait_age_seconds"] = open_rows["open_age_seconds"].reindex(index)
    out["open_wait_age_working_days"] = open_rows["open_age_working_days"].reindex(index)
    out["open_wait_responder"] = open_rows["responder"].reindex(index)

    mail_dated = mail[mail["sent_at"].notna()].groupby("case_id")["sent_at"]
    out["first_message_at"] = mail_dated.min().reindex(index)
    out["last_message_at"] = mail_dated.max().reindex(index)
    return schema.conform(out.reset_index(), schema.CASES)


# --- demanded deadlines ---------------------------------------------------------

def _their_medians(w: pd.DataFrame) -> pd.DataFrame:
    theirs = w[~w["is_open"] & w["responder"].isin(SIDE_PARTIES)]
    return theirs.groupby("case_id")[["delay_seconds", "delay_working_days"]].median()


def demanded_deadlines(messages: pd.DataFrame, waits: pd.DataFrame | None = None, *,
                       country: str = "FR", timezone: str = "Europe/Paris") -> pd.DataFrame:
    """Deadlines the counterpart demanded, beside its own median delay in the case
    (:data:`analyzer.schema.DEADLINES`): "demanded 2 days; answered in 23".

    Read: dated agency/contractor mail, automated notices included (a letter
    sent by a machine still demands) except kinds in :data:`PROMISE_KINDS`;
    only the message's own text (:func:`analyzer.tickets.own_text`, quotes
    cut), through :func:`analyzer.deadlines.extract_deadlines` with the send
    time in ``timezone`` (a bare date falls due at 23:59:59 local time).
    ``demanded_seconds`` = ``due_at - sent_at``; vague demands ("dans les
    plus brefs délais") have no ``due_at`` and NaN spans. The medians come
    from ``waits`` when given, else from the messages.

    >>> from analyzer.schema import message_frame
    >>> m = message_frame([
    ...     {"message_id": "a", "case_id": "c", "party": "agency",
    ...      "sent_at": "2024-03-04T09:00Z", "body_text": "Répondez sous 48h."},
    ...     {"message_id": "b", "case_id": "c", "party": "me", "sent_at": "2024-03-04T10:00Z"},
    ...     {"message_id": "c", "case_id": "c", "party": "agency",
    ...      "sent_at": "2024-03-27T10:00Z"}])
    >>> d = demanded_deadlines(m)
    >>> d[["phrase", "demanded_seconds", "their_median_delay_seconds"]].values.tolist()
    [['sous 48h', 172800.0, 1987200.0]]
    """
    from analyzer.deadlines import extract_deadlines
    from analyzer.tickets import own_text

    _check_messages(messages, "demanded_deadlines()", _DEADLINE_INPUT)
    check_timezone(timezone)
    if waits is None:
        w = _wait_core(messages, _turn_table(_turn_rows(messages)), country=country,
                       timezone=timezone)
    else:
        schema.check(waits, schema.WAITS, "demanded_deadlines()", _WAITS_READ)
        w = waits
    keep = (messages["party"].isin(SIDE_PARTIES) & messages["sent_at"].notna()
            & ~messages["automation_kind"].isin(PROMISE_KINDS))
    if "source" in messages.columns:
        keep &= messages["source"].ne("journal")
    part = messages.loc[keep, ["case_id", "counterpart", "message_id", "sent_at", "body_text"]]
    counterparts = _case_counterparts(messages)
    records = []
    for case_id, counterpart, message_id, sent_at, body in part.itertuples(index=False):
        text = own_text(body if isinstance(body, str) else "")
        local = pd.Timestamp(sent_at).tz_convert(timezone).to_pydatetime()
        for found in extract_deadlines(text, local):
            records.append({
                "case_id": None if pd.isna(case_id) else case_id,
                "counterpart": (counterparts.get(case_id, counterpart)
                                if not pd.isna(case_id) else counterpart),
                "message_id": message_id, "sent_at": sent_at, "phrase": found.phrase,
                "kind": found.kind,
                "due_at": pd.NaT if found.due_at is None else pd.Timestamp(found.due_at),
            })
    if not records:
        return schema.empty(schema.DEADLINES)
    frame = pd.DataFrame.from_records(records)
    frame["sent_at"] = _utc(frame["sent_at"])
    frame = frame.sort_values(["sent_at", "message_id"], kind="mergesort", ignore_index=True)
    frame["due_at"] = _utc(pd.to_datetime(frame["due_at"], utc=True))
    frame["demanded_seconds"] = (frame["due_at"] - frame["sent_at"]).dt.total_seconds()
    frame["demanded_working_days"] = working_days_between(
        frame["sent_at"], frame["due_at"], country=country, timezone=timezone)
    medians = _their_medians(w)
    frame["their_median_delay_seconds"] = frame["case_id"].map(medians["delay_seconds"])
    frame["their_median_delay_working_days"] = frame["case_id"].map(
        medians["delay_working_days"])
    return schema.conform(frame, schema.DEADLINES)


# --- across cases ------------------------------------------------------------------

def _summary_row(w: pd.DataFrame, cases: int) -> dict[str, object]:
    answered = w[~w["is_open"]]
    theirs = answered[answered["responder"].isin(SIDE_PARTIES)]
    mine = answered[answered["responder"].eq("me")]
    row: dict[str, object] = {
        "cases": cases, "waits": len(answered), "open_waits": int(w["is_open"].sum()),
        "their_waits": len(theirs), "my_waits": len(mine),
    }
    for unit in ("seconds", "working_days"):
        for who, part in (("their", theirs), ("my", mine)):
            values = part[f"delay_{unit}"]
            row[f"{who}_median_delay_{unit}"] = values.median()
            row[f"{who}_p90_delay_{unit}"] = values.quantile(P90)
    for unit, name in (("seconds", "asymmetry"), ("working_days", "asymmetry_working_days")):
        their, my = row[f"their_median_delay_{unit}"], row[f"my_median_delay_{unit}"]
        ratio = _ratio(pd.Series([their], dtype="float64"), pd.Series([my], dtype="float64"))
        row[name] = float(ratio.iloc[0])
    return row


def counterpart_summary(cases: pd.DataFrame, waits: pd.DataFrame) -> pd.DataFrame:
    """Per counterpart, then overall (:data:`analyzer.schema.COUNTERPARTS`): cases,
    waits, median and p90 delay by responder, asymmetry of the pooled medians.

    Statistics pool the waits (not the per-case medians): a case with fifty
    waits weighs fifty times one with one. Cases and waits without a
    counterpart count only in the overall row.

    >>> w = pd.DataFrame({"counterpart": ["FT", "FT"], "responder": ["agency", "me"],
    ...     "delay_seconds": [86400.0, 3600.0], "delay_working_days": [1.0, 0.04],
    ...     "is_open": [False, False]})
    >>> c = pd.DataFrame({"case_id": ["c"], "counterpart": ["FT"]})
    >>> counterpart_summary(c, w)[["counterpart", "overall", "asymmetry"]].values.tolist()
    [['FT', False, 24.0], [None, True, 24.0]]
    """
    schema.check(cases, schema.CASES, "counterpart_summary()", ["case_id", "counterpart"])
    schema.check(waits, schema.WAITS, "counterpart_summary()",
                 ["counterpart", "responder", "delay_seconds", "delay_working_days",
                  "is_open"])
    names = sorted(set(cases["counterpart"].dropna()) | set(waits["counterpart"].dropna()))
    rows = []
    for name in names:
        row = _summary_row(waits[waits["counterpart"].eq(name)],
                           int(cases["counterpart"].eq(name).sum()))
        rows.append({"counterpart": name, "overall": False, **row})
    rows.append({"counterpart": None, "overall": True, **_summary_row(waits, len(cases))})
    return schema.conform(pd.DataFrame.from_records(rows), schema.COUNTERPARTS)


def monthly_trend(waits: pd.DataFrame, timezone: str = "Europe/Paris") -> pd.DataFrame:
    """Per month of ``asked_at`` (local time) and responder: answered waits, their
    median and p90 delay, and waits still open (:data:`analyzer.schema.MONTHLY`).

    Waits whose responder is unknown are left out. Recent months look faster
    than they are while their long waits are still open: read ``open_waits``.

    >>> w = pd.DataFrame({"asked_at": pd.to_datetime(["2024-02-29T23:30Z"] * 2, utc=True),
    ...     "responder": ["agency", "agency"], "delay_seconds": [60.0, float("nan")],
    ...     "delay_working_days": [0.0, float("nan")], "is_open": [False, True]})
    >>> monthly_trend(w)[["month", "waits", "open_waits"]].values.tolist()
    [['2024-03', 1, 1]]
    """
    schema.check(waits, schema.WAITS, "monthly_trend()",
                 ["asked_at", "responder", "delay_seconds", "delay_working_days", "is_open"])
    check_timezone(timezone)
    w = waits[waits["responder"].notna()]
    months = w["asked_at"].dt.tz_convert(timezone).dt.strftime("%Y-%m").astype(object)
    frame = pd.DataFrame({
        "month": months, "responder": w["responder"].astype(object),
        "is_open": w["is_open"].astype(bool), "delay_seconds": w["delay_seconds"],
        "delay_working_days": w["delay_working_days"],
    })
    keys = ["month", "responder"]
    grouped = frame.groupby(keys, sort=True)
    answered = frame[~frame["is_open"]].groupby(keys)
    out = pd.DataFrame({
        "open_waits": grouped["is_open"].sum(),
        "waits": grouped["is_open"].size() - grouped["is_open"].sum(),
    })
    out["median_delay_seconds"] = answered["delay_seconds"].median()
    out["p90_delay_seconds"] = answered["delay_seconds"].quantile(P90)
    out["median_delay_working_days"] = answered["delay_working_days"].median()
    return schema.conform(out.reset_index(), schema.MONTHLY)
