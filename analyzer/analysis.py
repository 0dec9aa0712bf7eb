"""The entry point of the Python API: a store read with a config.

>>> from analyzer import Analysis                       # doctest: +SKIP
>>> analysis = Analysis.open("store.sqlite", "analyzer.toml")   # doctest: +SKIP
>>> analysis.messages().groupby("party").size()         # doctest: +SKIP

Each stage's table is computed from the store on demand. The case build (the
slow part) is saved in the store, column by column, under a key naming
everything it was made from (the store's generation, the config's parties,
the code), with the time until which its message times hold (mail dated in
the future counts at its delivery time until that date comes near), so the
next command reads it back instead of rebuilding, and any change to one of
those rebuilds it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analyzer.cases import CaseBuild, Corrections, build_cases, case_links_frame
from analyzer.config import Config, load_config
from analyzer.errors import UsageError
from analyzer.parse import STORED_TIME
from analyzer.parties import Classification, PartyClassifier
from analyzer.store import Store

if TYPE_CHECKING:
    import sqlite3

# The Date header is trusted unless it is absurd: before this year, in the
# future, or this far from the delivery time (a wrong clock on the sender's
# machine); then the delivery time stands in for it.
MIN_PLAUSIBLE_YEAR = 1990
MAX_CLOCK_SKEW = timedelta(days=2)

MESSAGE_COLUMNS = (
    "message_id", "party", "counterpart", "counterpart_kind", "sent_at", "date_utc",
    "delivered_utc", "from_addr", "from_name", "to_addrs", "cc_addrs", "subject",
    "in_reply_to", "references", "folders", "has_body", "synthetic_id",
)


def message_time(date_utc: str | None, delivered_utc: str | None,
                 now: datetime | None = None) -> datetime | None:
    """The time a message counts at: its Date, corrected by delivery when
    Date is missing or absurd.

    >>> message_time("2020-02-19T09:14:00Z", "2020-02-19T09:14:05Z").isoformat()
    '2020-02-19T09:14:00+00:00'
    >>> message_time("1970-01-01T00:00:00Z", "2020-02-19T09:14:05Z").isoformat()
    '2020-02-19T09:14:05+00:00'
    >>> message_time(None, None) is None
    True
    """
    now = now or datetime.now(UTC)
    date = _parse_iso(date_utc)
    delivered = _parse_iso(delivered_utc)
    if date is not None:
        plausible = date.year >= MIN_PLAUSIBLE_YEAR and date <= now + MAX_CLOCK_SKEW
        if plausible and (delivered is None or abs(delivered - date) <= MAX_CLOCK_SKEW):
            return date
    return delivered or date


#: What the time filters and ``as_of`` accept: a date, a datetime (naive ones
#: are local time in the configured time zone), or their text form.
When = date | datetime | str

_FRENCH_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_when(value: When, timezone: str, *, end_of_day: bool = False) -> pd.Timestamp:
    """``value`` as an aware UTC timestamp, for ``--since``/``--until``/``--as-of``.

    Accepted: ``2020-02-19``, ``19/02/2020`` (day first), ``2020-02-19T09:14``
    or ``2020-02-19 09:14:00`` (local time in ``timezone``), any of those with
    an offset or ``Z``, and :class:`~datetime.date`/:class:`~datetime.datetime`.
    A bare date stands for the start of that local day, or for its last
    second with ``end_of_day`` (so ``--until 2020-02-19`` includes the 19th).
    Anything else raises :class:`~analyzer.errors.UsageError`.

    >>> parse_when("2020-02-19", "Europe/Paris").isoformat()
    '2020-02-18T23:00:00+00:00'
    >>> parse_when("19/02/2020", "Europe/Paris", end_of_day=True).isoformat()
    '2020-02-19T22:59:59+00:00'
    >>> parse_when("2020-02-19T09:14:00Z", "Europe/Paris").isoformat()
    '2020-02-19T09:14:00+00:00'
    """
    zone = ZoneInfo(timezone)
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.max.replace(microsecond=0) if end_of_day
                                  else time.min)
    else:
        text = str(value).strip()
        french = _FRENCH_DAY.match(text)
        try:
            if french:
                day = date(int(french[3]), int(french[2]), int(french[1]))
                return parse_when(day, timezone, end_of_day=end_of_day)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return parse_when(date.fromisoformat(text), timezone, end_of_day=end_of_day)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError("filters.bad_date", value=text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return pd.Timestamp(moment).tz_convert("UTC")


def _config_journal(config: Config) -> Path | None:
    # The [analysis] journal key is not in Config yet; read it when it lands
    # so that notebooks and the CLI pick the journal up without a change here.
    value = getattr(config, "journal", None)
    return Path(value) if value else None


def message_times(date_utc: pd.Series, delivered_utc: pd.Series,
                  now: datetime | None = None) -> pd.Series:
    """:func:`message_time` over whole columns (the import's ISO UTC text).

    >>> message_times(pd.Series(["2020-02-19T09:14:00Z", "1970-01-01T00:00:00Z", None]),
    ...               pd.Series(["2020-02-19T09:14:05Z", "2020-02-19T09:14:05Z", None])
    ...               ).dt.strftime("%H:%M:%S").tolist()
    ['09:14:00', '09:14:05', nan]
    """
    moment = pd.Timestamp(now or datetime.now(UTC))
    date = _utc_times(date_utc)
    delivered = _utc_times(delivered_utc)
    plausible = (date.dt.year >= MIN_PLAUSIBLE_YEAR) & (date <= moment + MAX_CLOCK_SKEW)
    close = delivered.isna() | ((delivered - date).abs() <= MAX_CLOCK_SKEW)
    trusted = date.notna() & plausible & close
    return date.where(trusted, delivered.fillna(date))


_STORED_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


def _utc_times(text: pd.Series) -> pd.Series:
    """Times stored as ISO 8601 UTC text (:data:`~analyzer.parse.STORED_TIME`) as timestamps,
    NaT where the text is not one.

    >>> _utc_times(pd.Series(["2020-02-19T09:14:00Z", "2020-02-19", None])).tolist()
    [Timestamp('2020-02-19 09:14:00+0000', tz='UTC'), NaT, NaT]
    """
    # pandas reads text of exactly the stored shape ten times faster as
    # "ISO8601" than through the strftime format, which still reads any other
    # text (from other software) as before.
    if not pd.api.types.is_string_dtype(text.dtype) or not len(text):
        return pd.to_datetime(text, utc=True, format=STORED_TIME, errors="coerce")
    exact = text.str.fullmatch(_STORED_SHAPE, na=False)
    times = pd.to_datetime(text.where(exact), utc=True, format="ISO8601", errors="coerce")
    others = ~exact & text.notna()
    if others.any():
        times[others] = pd.to_datetime(text[others], utc=True, format=STORED_TIME,
                                       errors="coerce")
    return times


@cache
def _code_digest() -> str:
    """A digest of this package's code and texts: a build saved by another
    version (or an edited checkout) is never read back as if current."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *package.glob("*.toml")]):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _build_key(generation: int, config: Config) -> str:
    """What a case build depends on besides the stored rows and the date:
    the parties (the config's me and counterparts), the code, and the pandas
    that wrote the saved column types."""
    digest = hashlib.sha256()
    digest.update(f"{generation}|{config.me!r}|{config.counterparts!r}|".encode())
    digest.update(f"{pd.__version__}|{_code_digest()}".encode())
    return digest.hexdigest()


def _valid_until(date_utc: pd.Series, now: datetime) -> datetime | None:
    """Until when message times computed at ``now`` stay the same: a Date
    beyond ``now`` + :data:`MAX_CLOCK_SKEW` is not trusted (see
    :func:`message_time`) until the clock comes within that skew of it.
    None when no message is dated that far ahead.

    >>> now = datetime(2024, 1, 1, tzinfo=UTC)
    >>> _valid_until(pd.Series(["2024-02-01T00:00:00Z", "2023-01-01T00:00:00Z"]), now)
    datetime.datetime(2024, 1, 30, 0, 0, tzinfo=datetime.timezone.utc)
    >>> _valid_until(pd.Series(["2023-01-01T00:00:00Z", None]), now) is None
    True
    """
    dates = _utc_times(date_utc)
    ahead = dates[dates > pd.Timestamp(now + MAX_CLOCK_SKEW)]
    if ahead.empty:
        return None
    earliest: datetime = (ahead.min() - MAX_CLOCK_SKEW).to_pydatetime()
    return earliest


# Columns of the built messages that the saved build leaves out: body_text is
# the stored body of the messages exchanged with a counterpart.
_NOT_SAVED = ("body_text",)
_NAT = -(2**63)  # numpy's int64 for NaT


def _saved_columns(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(name, dtype, values as a JSON array)`` for each column of a built
    frame, in order: what :func:`_frame_from_saved` reads back as an equal
    frame. Times are integers in their unit; missing values are null."""
    out = []
    for name in frame.columns:
        if name in _NOT_SAVED:
            continue
        column = frame[name]
        values: list[Any]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            values = [None if v == _NAT else v for v in column.array.asi8.tolist()]
        elif column.dtype == object:
            values = [None if isinstance(v, float) and v != v else v for v in column.tolist()]
        else:
            values = column.astype(object).where(column.notna(), None).tolist()
        out.append((name, str(column.dtype), json.dumps(values)))
    return out


def _frame_from_saved(columns: list[tuple[str, str, str]], body_texts: dict[str, str]
                      ) -> pd.DataFrame:
    """The built messages frame saved by :func:`_saved_columns`, with the
    body texts of the messages exchanged with a counterpart put back."""
    data: dict[str, pd.Series] = {}
    for name, dtype_name, values_json in columns:
        values = _DECODE(values_json)
        dtype = pd.api.types.pandas_dtype(dtype_name)
        if isinstance(dtype, pd.DatetimeTZDtype):
            stamps = np.array([_NAT if v is None else v for v in values], dtype="int64")
            data[name] = pd.Series(stamps.view(f"M8[{dtype.unit}]")).dt.tz_localize(dtype.tz)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    frame = pd.DataFrame(data)
    involved = frame["counterpart"].notna().tolist()
    # Inferred as the case builder's list of texts is.
    frame["body_text"] = [body_texts.get(mid, "") if inv else ""
                          for mid, inv in zip(frame["message_id"].tolist(), involved,
                                              strict=True)]
    return frame


def _built_link_rows(links: pd.DataFrame) -> list[tuple[object, ...]]:
    return [(case_id, a, b, signal, json.dumps(params), detail)
            for case_id, a, b, signal, params, detail in links.itertuples(index=False)]


def _links_from_saved(links: list[sqlite3.Row]) -> pd.DataFrame:
    return case_links_frame(
        [(r["case_id"], r["from_message_id"], r["to_message_id"], r["signal"],
          json.loads(r["params_json"]), r["detail"]) for r in links])


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, as it was before on leaving.

    Reading or building the messages table makes millions of small lists,
    tuples and dicts that stay alive until it is done, or that reference
    counting frees: the collector finds nothing to reclaim, yet walks every
    live one again each time enough have been made (a sixth of a cold
    build). Cycles made meanwhile are reclaimed by its next run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_DECODE = json.JSONDecoder().decode


def _loads(text: str) -> list[Any]:
    # Most stored lists are empty (no Cc, no References): skip the decoder.
    return [] if text == "[]" else list(_DECODE(text))


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, STORED_TIME).replace(tzinfo=UTC)


@dataclass
class Analysis:
    """A store read with one config: the public API notebooks and the CLI share."""

    store: Store
    config: Config
    _build: CaseBuild | None = field(default=None, init=False, repr=False)

    @classmethod
    def open(cls, store: str | Path, config: str | Path | Config | None = None) -> Analysis:
        """Open the store at ``store`` with a config (a path, a :class:`Config`, or none)."""
        if isinstance(config, Config):
            cfg = config
        elif config is None:
            cfg = Config()
        else:
            cfg = load_config(Path(config))
        return cls(Store.open(store), cfg)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Analysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def base_messages(self) -> pd.DataFrame:
        """One row per stored message, with its party and counterpart.

        Columns: see :data:`MESSAGE_COLUMNS`. ``sent_at`` is a UTC timestamp
        (:func:`message_time`); ``counterpart`` is empty for messages that
        involve no counterpart.
        """
        return self._base_messages(datetime.now(UTC))

    def _base_messages(self, now: datetime) -> pd.DataFrame:
        classifier = PartyClassifier(self.config)

        # Most mail goes to the same few addresses (mine) from the same
        # senders: each distinct recipient list is decoded, and each distinct
        # exchange classified, once.
        @cache
        def addresses(text: str) -> tuple[str, ...]:
            return tuple(address for _, address in _loads(text))

        @cache
        def classify(sender: str, to_json: str, cc_json: str) -> Classification:
            return classifier.classify(sender, addresses(to_json) + addresses(cc_json))

        @cache
        def folder_list(folders: str | None) -> tuple[str, ...]:
            return tuple(sorted(set(folders.split(",")))) if folders else ()

        rows = []
        for (message_id, from_addr, from_name, to_json, cc_json, date_utc, delivered_utc,
             subject, in_reply_to, refs, synthetic_id, has_body, folders
             ) in self.store.analysis_rows():
            found = classify(from_addr, to_json, cc_json)
            cp = found.counterpart
            rows.append((
                message_id, found.party, cp.name if cp else None, cp.kind if cp else None,
                None, date_utc, delivered_utc, from_addr, from_name,
                list(addresses(to_json)), list(addresses(cc_json)), subject,
                _loads(in_reply_to), _loads(refs), list(folder_list(folders)),
                bool(has_body), bool(synthetic_id),
            ))
        frame = pd.DataFrame.from_records(rows, columns=list(MESSAGE_COLUMNS))
        frame["sent_at"] = message_times(frame["date_utc"], frame["delivered_utc"], now)
        return frame

    def bodies(self) -> dict[str, tuple[dict[str, str], str]]:
        """``{message_id: (headers, body text)}`` for messages whose body is stored."""
        out: dict[str, tuple[dict[str, str], str]] = {}
        for row in self.store.body_rows():
            out[row["message_id"]] = (json.loads(row["headers_json"]), row["body_text"])
        return out

    def unread_headers(self) -> dict[str, tuple[dict[str, str], str]]:
        """``{message_id: (automation headers, "")}`` for messages whose body is
        not stored: what the case build reads of them (whether a machine sent
        them), in the shape of :meth:`bodies`."""
        return {message_id: (json.loads(headers), "")
                for message_id, headers in self.store.unread_header_rows()}

    def corrections(self) -> Corrections:
        found = Corrections()
        for kind, a, b in self.store.corrections():
            (found.joins if kind == "join" else found.splits).append((a, b))
        return found

    def build(self) -> CaseBuild:
        """Thread the messages and rebuild cases (see :mod:`analyzer.cases`),
        or read the build saved in the store when nothing it depends on changed."""
        if self._build is None:
            with _collector_paused():
                self._build = self._saved_or_new_build()
        return self._build

    def _saved_or_new_build(self) -> CaseBuild:
        # The generation and the rows it counts are read as of one moment; a
        # change committed while building moves the generation, and the save
        # below then refuses the stale result.
        now = datetime.now(UTC).replace(microsecond=0)
        with self.store.snapshot():
            generation = self.store.generation()
            key = _build_key(generation, self.config)
            saved = self.store.saved_build(key, now.strftime(STORED_TIME))
            if saved is not None:
                columns, links = saved
                return CaseBuild(_frame_from_saved(columns, self.store.body_texts()),
                                 _links_from_saved(links))
            base, bodies, corrections = (self._base_messages(now), self.bodies(),
                                         self.corrections())
            # Only a new build reads the mail whose body is not stored.
            unread = self.unread_headers()
        build = build_cases(base, unread | bodies, corrections)
        until = _valid_until(base["date_utc"], now)
        self.store.save_build(key, generation, _saved_columns(build.messages),
                              _built_link_rows(build.links),
                              valid_from=now.strftime(STORED_TIME),
                              valid_until=until.strftime(STORED_TIME) if until else None)
        return build

    def messages(self) -> pd.DataFrame:
        """One row per message with thread, case, ticket and automation.

        The columns of :meth:`base_messages` plus ``thread_id``,
        ``conversation_id``, ``case_id`` (empty for messages in no case),
        ``ticket_id``, ``automated``, ``automation_kind``, ``is_closure``,
        ``sender_person`` and ``body_text``.
        """
        return self.build().messages.copy()

    def links(self) -> pd.DataFrame:
        """Why messages share a case: one row per link the case builder made."""
        return self.build().links.copy()

    def refresh(self) -> None:
        """Forget computed tables (after an import or a correction)."""
        self._build = None

    # --- filters and metrics (issue 4) -------------------------------------------
    #
    # Every metric method takes the same filters as ``filtered`` and computes
    # from the filtered messages, as if the mailbox had been exported with
    # only those: a wait asked inside the window and answered after it is
    # open at the window's end.

    def filtered(self, *, since: When | None = None, until: When | None = None,
                 counterpart: str | None = None, case: str | None = None,
                 as_of: When | None = None, journal: str | Path | None = None
                 ) -> pd.DataFrame:
        """:meth:`messages` restricted by the filters the report and the export share.

        ``since``/``until``: sent in that span (bare dates in the configured
        time zone, ``until`` inclusive of its day); ``counterpart``: messages
        of the cases whose counterpart it is (a configured name or id, case
        and accents ignored), and its messages in no case; ``case``: one
        ``case_id``; ``as_of``: nothing sent after it. Undated messages pass
        the time filters (they cannot be placed, and the metrics leave them
        out of waits anyway). With a ``journal`` file (or one named by the
        config), its events are rows too (:func:`analyzer.journal.attach_journal`).
        An unknown counterpart or case raises :class:`~analyzer.errors.UsageError`.

        >>> analysis.filtered(since="2023-11-01", counterpart="France Travail"
        ...                   )["case_id"].nunique()          # doctest: +SKIP
        2
        """
        frame = self._with_journal(self.messages(), journal)
        tz = self.config.timezone
        dated = frame["sent_at"]
        keep = pd.Series(True, index=frame.index)
        if since is not None:
            keep &= dated.isna() | (dated >= parse_when(since, tz))
        if until is not None:
            keep &= dated.isna() | (dated <= parse_when(until, tz, end_of_day=True))
        if as_of is not None:
            keep &= dated.isna() | (dated <= parse_when(as_of, tz, end_of_day=True))
        if counterpart is not None:
            keep &= self._of_counterpart(frame, counterpart)
        if case is not None:
            if not frame["case_id"].eq(case).any():
                raise UsageError("cases.unknown", case=case)
            keep &= frame["case_id"].eq(case)
        return frame.loc[keep].reset_index(drop=True)

    def _with_journal(self, frame: pd.DataFrame, journal: str | Path | None) -> pd.DataFrame:
        path = Path(journal) if journal is not None else _config_journal(self.config)
        if path is None:
            return frame
        from analyzer.journal import attach_journal, read_journal

        return attach_journal(frame, read_journal(path, self.config))

    def _of_counterpart(self, frame: pd.DataFrame, name: str) -> pd.Series:
        from analyzer.people import fold

        def key(text: str) -> str:
            return " ".join(fold(text).split())

        wanted = key(name)
        names = {key(cp.name): cp.name for cp in self.config.counterparts}
        names.update({cp.canonical_id: cp.name for cp in self.config.counterparts})
        names.update({key(n): n for n in frame["counterpart"].dropna().unique()})
        if wanted not in names:
            known = ", ".join(cp.name for cp in self.config.counterparts) or "-"
            raise UsageError("filters.unknown_counterpart", name=name, known=known)
        # A case belongs to the counterpart it is with (its first counterpart
        # message), so a contractor's case keeps the agency mail filed in it.
        involved = frame[frame["case_id"].notna() & frame["counterpart"].notna()]
        first = (involved.sort_values(["sent_at", "message_id"], na_position="last",
                                      kind="mergesort")
                 .drop_duplicates("case_id").set_index("case_id")["counterpart"])
        own = frame["counterpart"].where(frame["case_id"].isna(),
                                         frame["case_id"].map(first))
        return own.eq(names[wanted])

    def metric_input(self, as_of: When | None = None, since: When | None = None,
                     until: When | None = None, counterpart: str | None = None,
                     case: str | None = None, journal: str | Path | None = None
                     ) -> tuple[pd.DataFrame, pd.Timestamp]:
        """The filtered messages the metrics read, and the ``as_of`` they are read at.

        ``as_of`` defaults to now (whole seconds), or to the end of ``until``
        when that is earlier; messages after ``as_of`` are left out.

        >>> frame, as_of = analysis.metric_input(until="2020-12-31")   # doctest: +SKIP
        >>> as_of.isoformat()                                           # doctest: +SKIP
        '2020-12-31T22:59:59+00:00'
        """
        tz = self.config.timezone
        if as_of is not None:
            stamp = parse_when(as_of, tz, end_of_day=True)
        else:
            stamp = pd.Timestamp.now(tz="UTC").floor("s")
            if until is not None:
                # Data cut at ``until`` is read as of then, so a wait answered
                # later does not age to today.
                stamp = min(stamp, parse_when(until, tz, end_of_day=True))
        frame = self.filtered(since=since, until=until, counterpart=counterpart, case=case,
                              as_of=stamp, journal=journal)
        return frame, stamp

    def waits(self, as_of: When | None = None, *, since: When | None = None,
              until: When | None = None, counterpart: str | None = None,
              case: str | None = None, journal: str | Path | None = None) -> pd.DataFrame:
        """One row per wait (:func:`analyzer.metrics.waits`, :data:`analyzer.schema.WAITS`).

        ``as_of`` (default: now, or the end of ``until``) dates open waits;
        messages sent after it are left out, so an earlier ``as_of`` shows the
        case as it stood then. Working days use the config's country and time
        zone. Filters as in :meth:`filtered`.

        >>> w = analysis.waits(as_of="2024-03-01")            # doctest: +SKIP
        >>> w.loc[~w["is_open"]].groupby("responder")["delay_seconds"].median()  # doctest: +SKIP
        """
        from analyzer import metrics

        frame, stamp = self.metric_input(as_of, since, until, counterpart, case, journal)
        return metrics.waits(frame, as_of=stamp, country=self.config.country,
                             timezone=self.config.timezone)

    def cases(self, as_of: When | None = None, *, since: When | None = None,
              until: When | None = None, counterpart: str | None = None,
              case: str | None = None, journal: str | Path | None = None) -> pd.DataFrame:
        """One row per case (:func:`analyzer.metrics.case_metrics`, :data:`analyzer.schema.CASES`).

        >>> analysis.cases(as_of="2024-03-01")[["case_id", "asymmetry"]]  # doctest: +SKIP
        """
        from analyzer import metrics

        frame, stamp = self.metric_input(as_of, since, until, counterpart, case, journal)
        cfg = self.config
        found = metrics.waits(frame, as_of=stamp, country=cfg.country, timezone=cfg.timezone)
        return metrics.case_metrics(frame, found, country=cfg.country, timezone=cfg.timezone)

    def deadlines(self, as_of: When | None = None, *, since: When | None = None,
                  until: When | None = None, counterpart: str | None = None,
                  case: str | None = None, journal: str | Path | None = None
                  ) -> pd.DataFrame:
        """Deadlines the counterparts demanded, beside their own median delay
        (:func:`analyzer.metrics.demanded_deadlines`, :data:`analyzer.schema.DEADLINES`).

        >>> analysis.deadlines()[["phrase", "demanded_seconds",
        ...                       "their_median_delay_seconds"]]  # doctest: +SKIP
        """
        from analyzer import metrics

        frame, stamp = self.metric_input(as_of, since, until, counterpart, case, journal)
        cfg = self.config
        found = metrics.waits(frame, as_of=stamp, country=cfg.country, timezone=cfg.timezone)
        return metrics.demanded_deadlines(frame, found, country=cfg.country,
                                          timezone=cfg.timezone)

    def counterparts(self, as_of: When | None = None, *, since: When | None = None,
                     until: When | None = None, counterpart: str | None = None,
                     case: str | None = None, journal: str | Path | None = None
                     ) -> pd.DataFrame:
        """Per counterpart, then overall (:func:`analyzer.metrics.counterpart_summary`).

        >>> analysis.counterparts()[["counterpart", "their_median_delay_seconds"]]  # doctest: +SKIP
        """
        from analyzer import metrics

        frame, stamp = self.metric_input(as_of, since, until, counterpart, case, journal)
        cfg = self.config
        found = metrics.waits(frame, as_of=stamp, country=cfg.country, timezone=cfg.timezone)
        table = metrics.case_metrics(frame, found, country=cfg.country, timezone=cfg.timezone)
        return metrics.counterpart_summary(table, found)

    def monthly(self, as_of: When | None = None, *, since: When | None = None,
                until: When | None = None, counterpart: str | None = None,
                case: str | None = None, journal: str | Path | None = None) -> pd.DataFrame:
        """Per month and responder (:func:`analyzer.metrics.monthly_trend`), in the
        config's time zone.

        >>> analysis.monthly()[["month", "responder", "median_delay_seconds"]]  # doctest: +SKIP
        """
        from analyzer import metrics

        return metrics.monthly_trend(
            self.waits(as_of, since=since, until=until, counterpart=counterpart, case=case,
                       journal=journal), self.config.timezone)
