"""Events outside the mailbox: phone calls, letters, appointments, portal messages.

A call to the 39 49 line, an advisor's call back, a registered letter or a
message read in the personal space leaves no email, yet it may be the answer
the citizen waited for. The user records such events in a journal file, CSV
or TOML, one entry per event:

==============  ==============================================================
field           value
==============  ==============================================================
``date``        ``2024-03-05``, ``2024-03-05 10:30``, ``2024-03-05T10:30:00+01:00``
                or ``05/03/2024 10:30`` (day first); without an offset it is
                local time in the configured time zone (the first of the two
                readings when the clock goes back); a date without a time
                stands at 12:00 local, so it stays on its day
``counterpart`` a configured counterpart (its name, or its ``id``; case and
                accents ignored)
``direction``   ``in`` (from the counterpart) or ``out`` (from me)
``kind``        ``phone``, ``letter``, ``appointment`` or ``portal``
``note``        free text (optional)
``case``        the Message-ID of any message of the case (optional; with or
                without angle brackets): case ids are not stable, Message-IDs are
``answer``      ``true`` when the event answers the other side (optional,
                default false: ``true``/``false``, ``yes``/``no``, ``oui``/
                ``non``, ``1``/``0``)
==============  ==============================================================

CSV: a header line with those names (French ones also read: ``correspondant``,
``sens``, ``type``, ``remarque``, ``dossier``, ``réponse``), separated by
commas or semicolons (spreadsheets in French locales write semicolons).
TOML: an array of tables ``[[event]]`` with the same keys; TOML dates and
datetimes are accepted as such::

    [[event]]
    date = 2024-03-05T10:30:00
    counterpart = "France Travail"
    direction = "in"
    kind = "phone"
    note = "Appel de la conseillère : dossier complet"
    case = "<20240301.abc@francetravail.fr>"
    answer = true

:func:`read_journal` turns the file into a :data:`analyzer.schema.JOURNAL`
frame (the messages columns plus ``source = "journal"``, ``answer``,
``event_kind``, ``direction``, ``note``, ``case_ref``, ``origin``);
:func:`attach_journal` puts it beside the messages, each event in the case of
the message it names. Every event then appears on timelines; in turns and
waits only events marked ``answer`` count (:mod:`analyzer.metrics`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from analyzer import schema
from analyzer.config import Config, Counterpart
from analyzer.errors import UsageError

FIELDS: tuple[str, ...] = ("date", "counterpart", "direction", "kind", "note", "case",
                           "answer")
_ALIASES: dict[str, str] = {
    "correspondant": "counterpart", "organisme": "counterpart", "sens": "direction",
    "type": "kind", "nature": "kind", "remarque": "note", "commentaire": "note",
    "dossier": "case", "reponse": "answer", "réponse": "answer",
}
_TRUE = frozenset({"true", "yes", "oui", "1", "vrai", "y", "o"})
_FALSE = frozenset({"false", "no", "non", "0", "faux", "n", ""})
#: A date without a time of day is placed at noon so that no time zone
#: conversion moves it to the day before or after.
DATE_ONLY_TIME = time(12, 0)
_FRENCH_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:h](\d{2})(?::(\d{2}))?)?$")


def _invalid(path: Path, entry: int, field: str, expected: str) -> UsageError:
    return UsageError("journal.invalid", path=str(path), entry=entry, field=field,
                      expected=expected)


def _parse_date(value: object, zone: ZoneInfo, path: Path, entry: int) -> pd.Timestamp:
    expected = "a date such as 2024-03-05, 2024-03-05 10:30 or 05/03/2024 10:30"
    when: datetime
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value, DATE_ONLY_TIME)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        french = _FRENCH_DATE.match(text)
        try:
            if french:
                d, m, y, hh, mm, ss = french.groups()
                when = datetime(int(y), int(m), int(d), int(hh or 12), int(mm or 0),
                                int(ss or 0))
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                when = datetime.combine(date.fromisoformat(text), DATE_ONLY_TIME)
            else:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(path, entry, "date", expected) from None
    else:
        raise _invalid(path, entry, "date", expected)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)  # fold=0: the first reading of a repeated hour
    return pd.Timestamp(when).tz_convert("UTC")


def _parse_bool(value: object, path: Path, entry: int) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _invalid(path, entry, "answer", "true or false")


def _find_counterpart(name: str, config: Config, path: Path, entry: int) -> Counterpart:
    from analyzer.people import fold

    wanted = " ".join(fold(name).split())
    for cp in config.counterparts:
        if wanted in (" ".join(fold(cp.name).split()), cp.canonical_id):
            return cp
    known = ", ".join(cp.name for cp in config.counterparts) or "-"
    raise UsageError("journal.unknown_counterpart", path=str(path), entry=entry, name=name,
                     known=known)


def bare_message_id(value: str) -> str:
    """A Message-ID without whitespace and angle brackets, as the store keeps it.

    >>> bare_message_id(" <abc@ft.fr> ")
    'abc@ft.fr'
    """
    return value.strip().removeprefix("<").removesuffix(">").strip()


def _entries(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError("journal.not_found", path=str(path)) from None
    except OSError as exc:
        raise UsageError("journal.unreadable", path=str(path), detail=exc.strerror) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError("journal.syntax", path=str(path), detail=str(exc)) from None
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError("journal.syntax", path=str(path), detail=str(exc)) from None
        events = data.get("event", [])
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise UsageError("journal.syntax", path=str(path),
                             detail="expected an array of tables [[event]]")
        return [{_ALIASES.get(k.lower(), k.lower()): v for k, v in e.items()} for e in events]
    if suffix == ".csv":
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        if not rows:
            return []
        names = [_ALIASES.get(n.strip().lower(), n.strip().lower()) for n in rows[0]]
        return [dict(zip(names, (v.strip() for v in r), strict=False))
                for r in rows[1:] if any(v.strip() for v in r)]
    raise UsageError("journal.format", path=str(path))


def read_journal(path: str | Path, config: Config) -> pd.DataFrame:
    """The events of the journal at ``path``, one row each (:data:`analyzer.schema.JOURNAL`).

    ``party`` is ``me`` for ``out`` events and the counterpart's kind for
    ``in`` ones; ``message_id`` is ``journal-`` and a hash of the entry, so
    it stays the same when entries are added or reordered. ``case_id`` is
    empty until :func:`attach_journal`.

    >>> import tempfile
    >>> from analyzer.config import parse_config
    >>> cfg = parse_config({"counterpart": [{"name": "France Travail",
    ...                                       "domains": ["francetravail.fr"]}]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "journal.csv"
    ...     _ = p.write_text("date,counterpart,direction,kind,note,case,answer\\n"
    ...                      "2024-03-05 10:30,France Travail,in,phone,Appel,<m1@x>,oui\\n")
    ...     j = read_journal(p, cfg)
    >>> j[["party", "sent_at", "answer", "case_ref"]].values.tolist()
    [['agency', Timestamp('2024-03-05 09:30:00+0000', tz='UTC'), True, 'm1@x']]
    """
    path = Path(path)
    zone = ZoneInfo(config.timezone)
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for entry, raw in enumerate(_entries(path), start=1):
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise _invalid(path, entry, unknown[0], "one of " + ", ".join(FIELDS))
        sent_at = _parse_date(raw.get("date"), zone, path, entry)
        name = raw.get("counterpart")
        if not isinstance(name, str) or not name.strip():
            raise _invalid(path, entry, "counterpart", "a configured counterpart name")
        cp = _find_counterpart(name, config, path, entry)
        direction = str(raw.get("direction", "")).strip().lower()
        if direction not in schema.DIRECTIONS:
            raise _invalid(path, entry, "direction", "in or out")
        kind = str(raw.get("kind", "")).strip().lower()
        if kind not in schema.EVENT_KINDS:
            raise _invalid(path, entry, "kind", ", ".join(schema.EVENT_KINDS))
        note = raw.get("note")
        note_text = str(note).strip() if note is not None else ""
        case = raw.get("case")
        case_ref = bare_message_id(str(case)) if case not in (None, "") else None
        answer = _parse_bool(raw.get("answer"), path, entry)
        digest = hashlib.sha1(
            "|".join([sent_at.isoformat(), cp.name, direction, kind, note_text,
                      case_ref or ""]).encode()).hexdigest()[:16]
        seen[digest] = seen.get(digest, 0) + 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        rows.append({
            "message_id": f"journal-{digest}{suffix}", "case_id": None, "ticket_id": None,
            "party": "me" if direction == "out" else cp.kind, "counterpart": cp.name,
            "counterpart_kind": cp.kind,
            "automated": False, "automation_kind": None, "sent_at": sent_at,
            "from_addr": None, "from_name": None, "sender_person": None,
            "is_closure": False, "subject": "", "body_text": note_text,
            "source": "journal", "answer": answer, "event_kind": kind,
            "direction": direction, "note": note_text or None, "case_ref": case_ref,
            "origin": f"{path.name}:{entry}",
        })
    if not rows:
        return schema.empty(schema.JOURNAL)
    frame = pd.DataFrame.from_records(rows, columns=schema.JOURNAL.names)
    frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
    return schema.conform(frame, schema.JOURNAL)


def attach_journal(messages: pd.DataFrame, journal: pd.DataFrame) -> pd.DataFrame:
    """``messages`` and the journal events in one frame, each event in the case of
    the message its ``case_ref`` names (no case when it names none).

    Mail rows get ``source = "mail"``, ``answer = False`` and empty journal
    columns; the result honours both :data:`~analyzer.schema.MESSAGES` and the
    journal's extra columns, ordered by ``sent_at`` (undated last). A
    ``case_ref`` that names no message raises :class:`UsageError`.

    >>> from analyzer.schema import message_frame
    >>> m = message_frame([{"message_id": "m1@x", "case_id": "c1", "party": "me",
    ...                     "sent_at": "2024-03-01T09:00Z"}])
    >>> j = message_frame([{"message_id": "journal-1", "party": "agency",
    ...                     "sent_at": "2024-03-05T09:30Z", "source": "journal",
    ...                     "answer": True}]).assign(event_kind="phone", direction="in",
    ...                     note=None, case_ref="m1@x", origin="journal.csv:1")
    >>> attach_journal(m, j)[["message_id", "case_id", "source"]].values.tolist()
    [['m1@x', 'c1', 'mail'], ['journal-1', 'c1', 'journal']]
    """
    schema.check(messages, schema.MESSAGES, "attach_journal()")
    schema.check(journal, schema.JOURNAL, "attach_journal()")
    cases: Mapping[str, object] = dict(zip(
        messages["message_id"].astype(object).map(bare_message_id),
        messages["case_id"].astype(object), strict=True))
    events = journal.copy()
    refs = events["case_ref"].astype(object)
    for origin, ref in zip(events["origin"], refs, strict=True):
        if ref is not None and not pd.isna(ref) and ref not in cases:
            raise UsageError("journal.unknown_case", origin=origin, message_id=ref)
    events["case_id"] = pd.Series([None if ref is None or pd.isna(ref) else cases[ref]
                                   for ref in refs], index=events.index, dtype=object)
    mail = messages.copy()
    if "source" not in mail.columns:
        mail["source"] = "mail"
    if "answer" not in mail.columns:
        mail["answer"] = False
    both = pd.concat([mail, events], ignore_index=True)
    both["sent_at"] = pd.to_datetime(both["sent_at"], utc=True)
    both = both.sort_values("sent_at", kind="mergesort", na_position="last",
                            ignore_index=True)
    for name in schema.JOURNAL.names:
        if name not in both.columns:
            both[name] = None
    out = schema.conform(both, schema.JOURNAL)
    rest = [c for c in both.columns if c not in out.columns]
    return pd.concat([out, both[rest]], axis=1)
