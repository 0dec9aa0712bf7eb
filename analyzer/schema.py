"""Column contracts of the DataFrames that flow between stages, written once.

Every public function of :mod:`analyzer.metrics` and :mod:`analyzer.journal`
checks its input frames against a contract here (:func:`check`) and builds its
output with :func:`conform`, so a notebook user who hands over a frame with a
missing or ill-typed column gets one sentence naming the function, the column
and what was expected (:class:`analyzer.errors.SchemaError`) instead of a
``KeyError`` deep inside pandas.

Dtypes are named by kind, not by pandas spelling, because pandas 2 and 3 differ
(``object`` vs ``str`` for text, ``ns`` vs ``us`` for dates):

============  ===========================================  ====================
kind          accepted on input                            produced on output
============  ===========================================  ====================
``str``       ``object`` or string dtype holding ``str``    ``object``, ``None``
              (and missing values when nullable)            for missing
``bool``      ``bool`` (no missing values)                  ``bool``
``int``       any integer dtype                             ``int64``
``float``     any float dtype (``NaN`` = missing)           ``float64``
``datetime``  tz-aware, time zone UTC, any resolution       ``datetime64[ns,
              (``NaT`` = missing)                           UTC]``
============  ===========================================  ====================

:func:`markdown` renders a contract as a table for the README and METHODS.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import pandas as pd

from analyzer.errors import SchemaError

Kind = Literal["str", "bool", "int", "float", "datetime"]

PARTIES: tuple[str, ...] = ("me", "agency", "contractor", "other")
RESPONDERS: tuple[str, ...] = ("me", "agency", "contractor")
COUNTERPART_KINDS: tuple[str, ...] = ("agency", "contractor")
AUTOMATION_KINDS: tuple[str, ...] = (
    "acknowledgement", "closure", "rejection", "survey", "out_of_office", "bounce", "bulk",
    "notification", "portal_notification",
)
SOURCES: tuple[str, ...] = ("mail", "journal")
DIRECTIONS: tuple[str, ...] = ("in", "out")
EVENT_KINDS: tuple[str, ...] = ("phone", "letter", "appointment", "portal")
DEADLINE_KINDS: tuple[str, ...] = ("duration", "date")

_EXPECTED = {
    "str": "str (object or string dtype)",
    "bool": "bool",
    "int": "an integer dtype",
    "float": "a float dtype",
    "datetime": "datetime64[ns, UTC]",
}


@dataclass(frozen=True)
class Column:
    """One column of a contract.

    ``nullable``: missing values (``None``/``NaN``/``NaT``) are allowed.
    ``values``: the closed set of allowed values of a ``str`` column (empty: any).
    ``required``: when false the column is optional; it is checked only when present.
    """

    name: str
    kind: Kind
    meaning: str
    nullable: bool = False
    values: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Contract:
    """The columns of one kind of frame, in output order."""

    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        """Every column name, in order (optional columns included)."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name`` (``KeyError`` when the contract has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"contract {self.name!r} has no column {name!r}")


def _c(name: str, kind: Kind, meaning: str, *, nullable: bool = False,
       values: tuple[str, ...] = (), required: bool = True) -> Column:
    return Column(name, kind, meaning, nullable, values, required)


_MESSAGE_COLUMNS: tuple[Column, ...] = (
    _c("message_id", "str", "Message-ID without angle brackets (journal events: journal-…)"),
    _c("case_id", "str", "case the message belongs to; missing = no case", nullable=True),
    _c("ticket_id", "str", "helpdesk ticket the message belongs to", nullable=True),
    _c("party", "str", "who sent it", values=PARTIES),
    _c("counterpart", "str", "configured counterpart name involved", nullable=True),
    _c("automated", "bool", "machine-sent (acknowledgement, closure notice, survey…)"),
    _c("automation_kind", "str", "what kind of machine mail", nullable=True,
       values=AUTOMATION_KINDS),
    _c("sent_at", "datetime", "message time (Date, corrected by delivery); NaT = unknown",
       nullable=True),
    _c("from_addr", "str", "sender address, lower case", nullable=True),
    _c("from_name", "str", "sender display name", nullable=True),
    _c("sender_person", "str",
       "the human behind the message (display name or signature); missing = unknown",
       nullable=True),
    _c("is_closure", "bool", "the message announces a ticket closure"),
    _c("subject", "str", "Subject header", nullable=True),
    _c("body_text", "str", "plain-text body, quotes included; missing = empty", nullable=True),
    _c("counterpart_kind", "str", "kind of the counterpart, used for the responder of an "
       "open wait when no counterpart message says it", nullable=True, values=COUNTERPART_KINDS,
       required=False),
    _c("source", "str", "where the row comes from; absent = every row is mail",
       values=SOURCES, required=False),
    _c("answer", "bool", "a journal event that counts as a turn; ignored for mail",
       required=False),
)

MESSAGES = Contract(
    "messages",
    "One row per message (and per journal event once attached): the input of "
    "every metric.",
    _MESSAGE_COLUMNS,
)

JOURNAL = Contract(
    "journal",
    "Events outside the mailbox (phone calls, letters, appointments, portal "
    "messages), one row per event, with the messages columns so they join timelines.",
    (
        *(c for c in _MESSAGE_COLUMNS if c.name not in ("source", "answer")),
        _c("source", "str", "always 'journal'", values=SOURCES),
        _c("answer", "bool", "the event answers the other side: it takes part in turns"),
        _c("event_kind", "str", "phone, letter, appointment or portal", values=EVENT_KINDS),
        _c("direction", "str", "in = from the counterpart, out = from me", values=DIRECTIONS),
        _c("note", "str", "the user's note", nullable=True),
        _c("case_ref", "str", "Message-ID of a message of the case the event belongs to",
           nullable=True),
        _c("origin", "str", "journal file and entry number, for messages to the user"),
    ),
)

TURNS = Contract(
    "turns",
    "One row per turn: a run of consecutive messages from one side of a case.",
    (
        _c("case_id", "str", "case"),
        _c("counterpart", "str", "the case's counterpart", nullable=True),
        _c("turn", "int", "position of the turn in its case, from 0"),
        _c("party", "str", "party of the turn's first message", values=RESPONDERS),
        _c("started_at", "datetime", "time of the turn's first message"),
        _c("ended_at", "datetime", "time of the turn's last message"),
        _c("first_message_id", "str", "the turn's first message"),
        _c("last_message_id", "str", "the turn's last message"),
        _c("messages", "int", "messages in the turn"),
    ),
)

WAITS = Contract(
    "waits",
    "One row per wait: from the first message of a turn to the first message of "
    "the other side's next turn (open when there is none).",
    (
        _c("case_id", "str", "case"),
        _c("counterpart", "str", "the case's counterpart", nullable=True),
        _c("requester", "str", "the party that asked", values=RESPONDERS),
        _c("responder", "str", "the party that answered or is expected to; missing when "
           "the case tells no counterpart kind", nullable=True, values=RESPONDERS),
        _c("asked_at", "datetime", "first message of the asking turn"),
        _c("answered_at", "datetime", "first message of the answering turn; NaT when open",
           nullable=True),
        _c("delay_seconds", "float", "answered_at - asked_at; NaN when open", nullable=True),
        _c("delay_working_days", "float", "the same delay in working days", nullable=True),
        _c("open_age_seconds", "float", "as_of - asked_at for an open wait; NaN when answered",
           nullable=True),
        _c("open_age_working_days", "float", "the same age in working days", nullable=True),
        _c("asked_message_id", "str", "first message of the asking turn"),
        _c("answer_message_id", "str", "first message of the answering turn", nullable=True),
        _c("reminders", "int", "further messages of the asking side while waiting"),
        _c("crosses_closure", "bool", "a closure notice fell strictly inside the wait"),
        _c("is_open", "bool", "unanswered at the end of the data"),
    ),
)

CASES = Contract(
    "cases",
    "One row per case.",
    (
        _c("case_id", "str", "case"),
        _c("counterpart", "str", "the case's counterpart", nullable=True),
        _c("messages", "int", "mail messages, automated and undated included"),
        _c("journal_events", "int", "journal events attached to the case"),
        _c("undated_messages", "int", "messages without a date, left out of waits"),
        _c("tickets", "int", "distinct ticket ids"),
        _c("reopens", "int", "tickets whose first message follows a closure in the case"),
        _c("closures", "int", "closure notices"),
        _c("interlocutors", "int", "distinct counterpart humans (person, else address)"),
        _c("waits", "int", "answered waits"),
        _c("open_waits", "int", "open waits (0 or 1)"),
        _c("reminders", "int", "reminders, both sides"),
        _c("my_reminders", "int", "reminders I sent while waiting"),
        _c("their_reminders", "int", "reminders the counterpart sent while waiting"),
        _c("their_median_delay_seconds", "float", "median delay of the counterpart's answers",
           nullable=True),
        _c("their_p90_delay_seconds", "float", "90th percentile of the same", nullable=True),
        _c("my_median_delay_seconds", "float", "median delay of my answers", nullable=True),
        _c("asymmetry", "float", "their median / my median; NaN when mine is missing or 0",
           nullable=True),
        _c("longest_silence_seconds", "float",
           "longest gap between consecutive messages taking part in turns", nullable=True),
        _c("open_wait_age_seconds", "float", "age of the open wait at as_of", nullable=True),
        _c("open_wait_responder", "str", "who owes the answer of the open wait", nullable=True,
           values=RESPONDERS),
        _c("first_message_at", "datetime", "first dated mail message", nullable=True),
        _c("last_message_at", "datetime", "last dated mail message", nullable=True),
        _c("their_median_delay_working_days", "float", "median of their delays in working "
           "days", nullable=True),
        _c("their_p90_delay_working_days", "float", "90th percentile of the same",
           nullable=True),
        _c("my_median_delay_working_days", "float", "median of my delays in working days",
           nullable=True),
        _c("asymmetry_working_days", "float", "ratio of the working-day medians",
           nullable=True),
        _c("longest_silence_working_days", "float", "longest gap in working days (its own "
           "maximum)", nullable=True),
        _c("open_wait_age_working_days", "float", "open wait age in working days",
           nullable=True),
    ),
)

_SUMMARY_STATS: tuple[Column, ...] = tuple(
    _c(f"{who}_{stat}_delay_{unit}", "float",
       f"{stat} delay of {'the counterpart' if who == 'their' else 'my'} answers, "
       f"{unit.replace('_', ' ')}", nullable=True)
    for unit in ("seconds", "working_days")
    for who in ("their", "my")
    for stat in ("median", "p90")
)

COUNTERPARTS = Contract(
    "counterparts",
    "One row per counterpart, then one overall row (counterpart missing, overall true).",
    (
        _c("counterpart", "str", "counterpart; missing on the overall row", nullable=True),
        _c("overall", "bool", "the row pools every counterpart"),
        _c("cases", "int", "cases"),
        _c("waits", "int", "answered waits, both sides"),
        _c("open_waits", "int", "open waits"),
        _c("their_waits", "int", "answered waits where the counterpart answered"),
        _c("my_waits", "int", "answered waits where I answered"),
        *_SUMMARY_STATS,
        _c("asymmetry", "float", "their median / my median (seconds)", nullable=True),
        _c("asymmetry_working_days", "float", "the same in working days", nullable=True),
    ),
)

MONTHLY = Contract(
    "monthly",
    "One row per month (of asked_at, local time) and responder.",
    (
        _c("month", "str", "YYYY-MM in the configured time zone"),
        _c("responder", "str", "who answered", values=RESPONDERS),
        _c("waits", "int", "answered waits asked that month"),
        _c("open_waits", "int", "waits asked that month still open"),
        _c("median_delay_seconds", "float", "median delay of the answered ones",
           nullable=True),
        _c("p90_delay_seconds", "float", "90th percentile of the same", nullable=True),
        _c("median_delay_working_days", "float", "median delay in working days",
           nullable=True),
    ),
)

DEADLINES = Contract(
    "deadlines",
    "One row per deadline a counterpart demanded of me, beside its own delays.",
    (
        _c("case_id", "str", "case", nullable=True),
        _c("counterpart", "str", "the case's counterpart (else the message's)", nullable=True),
        _c("message_id", "str", "message holding the demand"),
        _c("sent_at", "datetime", "when it was sent"),
        _c("phrase", "str", "the demand as written (\"sous 48h\")"),
        _c("kind", "str", "duration or date", values=DEADLINE_KINDS),
        _c("due_at", "datetime", "when the demand falls due; NaT when vague", nullable=True),
        _c("demanded_seconds", "float", "due_at - sent_at", nullable=True),
        _c("demanded_working_days", "float", "the same in working days", nullable=True),
        _c("their_median_delay_seconds", "float", "the counterpart's median delay in the case",
           nullable=True),
        _c("their_median_delay_working_days", "float", "the same in working days",
           nullable=True),
    ),
)

CONTRACTS: tuple[Contract, ...] = (
    MESSAGES, JOURNAL, TURNS, WAITS, CASES, COUNTERPARTS, MONTHLY, DEADLINES,
)


def _fail(key: str, **params: object) -> SchemaError:
    return SchemaError(f"schema.{key}", **params)


def _kind_ok(series: pd.Series, kind: Kind) -> bool:
    dtype = series.dtype
    if kind == "datetime":
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"
    if kind == "bool":
        return bool(pd.api.types.is_bool_dtype(dtype))
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "float":
        return bool(pd.api.types.is_float_dtype(dtype))
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return False
    # One pass in C: an object column of numbers or dates is not text.
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def check(frame: object, contract: Contract, where: str,
          columns: Iterable[str] | None = None) -> None:
    """Raise :class:`~analyzer.errors.SchemaError` unless ``frame`` honours ``contract``.

    ``where`` names the public function for the message. ``columns``
    restricts the check to the columns the function reads (default: every
    required column, and optional ones that are present). Extra columns are
    always allowed.

    >>> import pandas as pd
    >>> check(pd.DataFrame({"turn": [0]}), TURNS, "turns()", columns=["turn"])
    >>> check(pd.DataFrame({"turn": ["0"]}), TURNS, "turns()", columns=["turn"])
    Traceback (most recent call last):
    ...
    analyzer.errors.SchemaError: turns(): column 'turn' has dtype str; expected an integer dtype.
    """
    if not isinstance(frame, pd.DataFrame):
        raise _fail("not_a_frame", where=where, contract=contract.name,
                    got=type(frame).__name__)
    wanted = (
        [contract.column(name) for name in columns] if columns is not None
        else [c for c in contract.columns if c.required or c.name in frame.columns]
    )
    for col in wanted:
        if col.name not in frame.columns:
            if not col.required and columns is None:
                continue
            raise _fail("missing_column", where=where, contract=contract.name,
                        column=col.name, expected=_EXPECTED[col.kind], meaning=col.meaning)
        series = frame[col.name]
        if isinstance(series, pd.DataFrame):
            raise _fail("bad_dtype", where=where, column=col.name, got="a duplicated column",
                        expected=_EXPECTED[col.kind], hint="")
        if not _kind_ok(series, col.kind):
            got = str(series.dtype)
            if col.kind == "str" and pd.api.types.is_object_dtype(series.dtype):
                got = f"object holding {pd.api.types.infer_dtype(series, skipna=True)}"
            hint = ""
            if col.kind == "datetime" and pd.api.types.is_datetime64_any_dtype(series.dtype):
                hint = (" (localise naive times with .dt.tz_localize('UTC'), convert others "
                        "with .dt.tz_convert('UTC'))")
            raise _fail("bad_dtype", where=where, column=col.name, got=got,
                        expected=_EXPECTED[col.kind], hint=hint)
        missing = series.isna()
        if not col.nullable and bool(missing.any()):
            raise _fail("missing_values", where=where, column=col.name,
                        count=int(missing.sum()), first=missing.idxmax())
        if col.values:
            present = series[~missing]
            bad = present[~present.isin(col.values)]
            if len(bad):
                raise _fail("bad_value", where=where, column=col.name, value=bad.iloc[0],
                            allowed=", ".join(col.values))


def conform(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """``frame`` with exactly the contract's columns, in order, in the output dtypes.

    Optional columns are kept only when present. Used by every function that
    returns a frame, so outputs compare equal across pandas versions.

    >>> conform(pd.DataFrame({"month": ["2024-03"], "responder": ["me"], "waits": [1],
    ...     "open_waits": [0], "median_delay_seconds": [60], "p90_delay_seconds": [60],
    ...     "median_delay_working_days": [0.0]}), MONTHLY).dtypes.tolist()[:3]
    [dtype('O'), dtype('O'), dtype('int64')]
    """
    out: dict[str, pd.Series] = {}
    for col in contract.columns:
        if col.name not in frame.columns:
            if col.required:
                raise KeyError(f"conform: {contract.name} needs column {col.name!r}")
            continue
        out[col.name] = _cast(frame[col.name], col.kind)
    return pd.DataFrame(out, index=frame.index)


def tuples(frame: pd.DataFrame, *, index: bool = True) -> Iterator[Any]:
    """``frame``'s rows as named tuples, for loops that read a few fields.

    Typed ``Any`` on purpose: pandas-stubs types every field as any scalar,
    while the contracts above say what each column holds.

    >>> [row.case_id for row in tuples(pd.DataFrame({"case_id": ["C-1", "C-2"]}))]
    ['C-1', 'C-2']
    """
    return iter(frame.itertuples(index=index))


def _cast(series: pd.Series, kind: Kind) -> pd.Series:
    if kind == "str":
        values = series.astype(object)
        values[values.isna()] = None
        return values
    if kind == "bool":
        return series.astype(bool)
    if kind == "int":
        return series.astype("int64")
    if kind == "float":
        return series.astype("float64")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return cast("pd.Series", series.dt.tz_convert("UTC").astype("datetime64[ns, UTC]"))
    return pd.to_datetime(series, utc=True).astype("datetime64[ns, UTC]")


def empty(contract: Contract) -> pd.DataFrame:
    """A frame with no rows and the contract's required columns, in output dtypes.

    >>> empty(WAITS).shape
    (0, 15)
    """
    frame = pd.DataFrame({c.name: pd.Series([], dtype=object) for c in contract.columns
                          if c.required})
    return conform(frame, contract)


def markdown(contract: Contract) -> str:
    """The contract as a Markdown table (for the README and METHODS.md).

    >>> print(markdown(TURNS).splitlines()[2])
    | `case_id` | str |  | case |
    """
    lines = [
        "| column | dtype | missing | meaning |",
        "|---|---|---|---|",
    ]
    for col in contract.columns:
        flags = []
        if col.nullable:
            flags.append("allowed")
        if not col.required:
            flags.append("optional column")
        meaning = col.meaning + (f" ({', '.join(col.values)})" if col.values else "")
        lines.append(f"| `{col.name}` | {col.kind} | {', '.join(flags)} | {meaning} |")
    return "\n".join(lines)



_MESSAGE_DEFAULTS: dict[str, object] = {
    "case_id": None, "ticket_id": None, "counterpart": None, "automated": False,
    "automation_kind": None, "sent_at": None, "from_addr": None, "from_name": None,
    "sender_person": None, "is_closure": False, "subject": "", "body_text": "",
}


def message_frame(records: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """A :data:`MESSAGES` frame from a few dicts, defaults filled in: for
    notebooks, doctests and tests. ``sent_at`` may be an ISO string (UTC when
    it has no offset) or ``None``.

    >>> frame = message_frame([{"message_id": "a", "party": "me", "case_id": "c1",
    ...                         "sent_at": "2024-03-04T09:00:00Z"}])
    >>> frame.loc[0, "sent_at"], frame["automated"].dtype
    (Timestamp('2024-03-04 09:00:00+0000', tz='UTC'), dtype('bool'))
    """
    rows = [{**_MESSAGE_DEFAULTS, **dict(r)} for r in records]
    optional = [c.name for c in MESSAGES.columns if not c.required
                and any(c.name in r for r in rows)]
    frame = pd.DataFrame(rows, columns=[*MESSAGES.names[:14], *optional])
    frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True, format="ISO8601")
    return conform(frame, MESSAGES)
