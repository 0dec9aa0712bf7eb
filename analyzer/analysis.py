"""The entry point of the Python API: a store read with a config.

>>> from analyzer import Analysis                       # doctest: +SKIP
>>> analysis = Analysis.open("store.sqlite", "analyzer.toml")   # doctest: +SKIP
>>> analysis.messages().groupby("party").size()         # doctest: +SKIP

Each stage's table is computed from the store on demand; nothing is cached
across configs, so a changed config is always reflected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from analyzer.cases import CaseBuild, Corrections, build_cases
from analyzer.config import Config, load_config
from analyzer.parties import PartyClassifier
from analyzer.store import Store

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


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


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
        classifier = PartyClassifier(self.config)
        rows = []
        for row in self.store.message_rows():
            to = [a for _, a in json.loads(row["to_json"])]
            cc = [a for _, a in json.loads(row["cc_json"])]
            found = classifier.classify(row["from_addr"], to + cc)
            cp = found.counterpart
            rows.append((
                row["message_id"], found.party, cp.name if cp else None,
                cp.kind if cp else None,
                message_time(row["date_utc"], row["delivered_utc"]),
                row["date_utc"], row["delivered_utc"], row["from_addr"], row["from_name"],
                to, cc, row["subject"], json.loads(row["in_reply_to"]),
                json.loads(row["refs"]),
                sorted(set((row["folders"] or "").split(","))) if row["folders"] else [],
                bool(row["has_body"]), bool(row["synthetic_id"]),
            ))
        frame = pd.DataFrame.from_records(rows, columns=list(MESSAGE_COLUMNS))
        frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
        return frame

    def bodies(self) -> dict[str, tuple[dict[str, str], str]]:
        """``{message_id: (headers, body text)}`` for messages whose body is stored."""
        out: dict[str, tuple[dict[str, str], str]] = {}
        for row in self.store.body_rows():
            out[row["message_id"]] = (json.loads(row["headers_json"]), row["body_text"])
        return out

    def corrections(self) -> Corrections:
        found = Corrections()
        for kind, a, b in self.store.corrections():
            (found.joins if kind == "join" else found.splits).append((a, b))
        return found

    def build(self) -> CaseBuild:
        """Thread the messages and rebuild cases (see :mod:`analyzer.cases`)."""
        if self._build is None:
            self._build = build_cases(self.base_messages(), self.bodies(), self.corrections())
        return self._build

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
