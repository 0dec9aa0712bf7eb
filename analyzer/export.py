"""Union exports: the messages, cases and waits tables, pseudonymised by default.

:func:`write_export` writes, into one folder:

* ``messages`` — one row per message exchanged with a counterpart or filed in
  a case (personal mail is left out: it is nobody's business);
* ``cases`` — every column of :data:`analyzer.schema.CASES`, one row per case;
* ``waits`` — every column of :data:`analyzer.schema.WAITS`, one row per wait;
* ``datapackage.json`` — a Frictionless Data Package describing the three
  tables (types, meanings, units), the metric definitions, the analyzer
  version, the date range, what was pseudonymised, a random ``export_id``
  and the fingerprint of the member's key (never the key);
* ``README.txt`` — the same, short, for a person.

Each table also carries ``counterpart_id``, the canonical id figures from
many members aggregate on (:func:`analyzer.pseudonymize.canonical_counterpart_id`).

Pseudonymised (the default): identifiers are keyed hashes, the sender is a
pseudonym (``me``, ``agency-person-…``), no address, no subject unless
``with_subjects`` (then scrubbed of addresses, names, phone numbers and
dossier numbers); see :mod:`analyzer.pseudonymize`. ``pseudonymize=False``
writes the data in clear, for one's own analysis.

Formats: ``csv`` (UTF-8, ``,``, decimal point; or the ``excel-fr`` dialect:
UTF-8 with a byte-order mark, ``;``, decimal comma), ``xlsx`` (openpyxl, one
workbook per table) and ``parquet`` (pyarrow, typed columns). CSV and xlsx
cells go through :func:`analyzer.csvsafe.safe_cell`, so no spreadsheet runs a
formula from a subject. CSV cells: times in ISO 8601 UTC
(``2020-02-19T09:14:00Z``), booleans ``true``/``false``, figures with at most
six decimals, missing values empty.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from analyzer import schema
from analyzer.analysis import Analysis, When
from analyzer.errors import AnalyzerError, UsageError
from analyzer.parse import STORED_TIME

if TYPE_CHECKING:
    from analyzer.pseudonymize import Pseudonymizer

Format = Literal["csv", "xlsx", "parquet"]
Dialect = Literal["csv", "excel-fr"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
DIALECTS: tuple[str, ...] = ("csv", "excel-fr")
TABLES: tuple[str, ...] = ("messages", "cases", "waits")
DATAPACKAGE = "datapackage.json"
README = "README.txt"
#: The data package profile and the version of this export's layout: the
#: cohort command refuses layouts it does not know.
LAYOUT_VERSION = 1

MESSAGE_EXPORT_COLUMNS: tuple[str, ...] = (
    "message_id", "case_id", "ticket_id", "party", "counterpart", "counterpart_id",
    "automated", "automation_kind", "is_closure", "sent_at", "from_addr", "subject",
)
PSEUDONYMOUS_MESSAGE_COLUMNS: tuple[str, ...] = (
    "message_id", "case_id", "ticket_id", "party", "counterpart", "counterpart_id",
    "automated", "automation_kind", "is_closure", "sent_at", "sender",
)
FILES: tuple[str, ...] = ("messages.csv", "cases.csv", "waits.csv")

# Columns of the two metric tables, with counterpart_id after counterpart.
CASE_COLUMNS: tuple[str, ...] = tuple(
    n for c in schema.CASES.names for n in ((c, "counterpart_id") if c == "counterpart" else (c,)))
WAIT_COLUMNS: tuple[str, ...] = tuple(
    n for c in schema.WAITS.names for n in ((c, "counterpart_id") if c == "counterpart" else (c,)))

_FRICTIONLESS_TYPES = {"str": "string", "bool": "boolean", "int": "integer",
                       "float": "number", "datetime": "datetime"}
_EXTRA_FIELDS: dict[str, tuple[schema.Kind, str]] = {
    "counterpart_id": ("str", "canonical id of the counterpart, the same for every member: "
                       "a preset id (france-travail) or 'domains:' and its sorted domains"),
    "sender": ("str", "pseudonym of the sender: me, agency-person-…, contractor-person-…, "
               "other-person-… (keyed hash of the person's name, else address)"),
    "subject": ("str", "Subject header; in a pseudonymised export, scrubbed of addresses "
                "([email]), names ([name]), phone numbers ([phone]) and dossier or ticket "
                "numbers ([number])"),
}
#: Metric definitions written into datapackage.json (the README's contract, short).
METRIC_DEFINITIONS: dict[str, str] = {
    "wait": "from the first message of a turn (asked_at) to the first message of the other "
            "side's next turn (answered_at); a turn is a run of consecutive messages from one "
            "side (me, or the agency and contractor together); automated messages take no part",
    "open_wait": "the last turn of a case, unanswered; its age is measured to as_of and it "
                 "never enters a median",
    "working_day": "Monday to Friday, not a public holiday of the configured country, counted "
                   "midnight to midnight in the configured time zone",
    "median_and_p90": "over answered waits; p90 interpolated linearly between closest ranks",
    "their_delay": "a wait answered by the agency or a contractor; 'my' delay: answered by me",
    "asymmetry": "their median delay / my median delay; empty when either is missing or mine "
                 "is 0",
    "reopens": "tickets whose first message follows the case's first closure",
    "case": "messages exchanged with one counterpart about one matter, across tickets",
}


class ExportError(AnalyzerError):
    """Raised when an export cannot be written (the CLI exits with code 1)."""

    default_key = "export.error"


class ExportRefused(ExportError):
    """Raised for an export that cannot be made as asked (a format whose
    extra is not installed): nothing is read or written."""

    default_key = "export.missing_extra"


_EXTRAS = {"xlsx": ("openpyxl", "xlsx"), "parquet": ("pyarrow", "parquet")}


def check_allowed(*, pseudonymize: bool = True, fmt: str = "csv",
                  dialect: str = "csv") -> None:
    """Raise before anything is read or written when the export cannot be made:
    an unknown format or dialect (:class:`~analyzer.errors.UsageError`), or a
    format whose optional package is missing (:class:`ExportRefused`, one line
    saying how to install it).

    >>> check_allowed(pseudonymize=True)
    >>> check_allowed(fmt="ods")
    Traceback (most recent call last):
    ...
    analyzer.errors.UsageError: Unknown export format 'ods': choose csv, xlsx or parquet.
    """
    if fmt not in FORMATS:
        raise UsageError("export.bad_format", format=fmt)
    if dialect not in DIALECTS:
        raise UsageError("export.bad_dialect", dialect=dialect)
    if fmt in _EXTRAS:
        module, extra = _EXTRAS[fmt]
        import importlib.util

        if importlib.util.find_spec(module) is None:
            raise ExportRefused("export.missing_extra", format=fmt, package=module,
                                extra=extra)


def csv_value(value: Any, column: str = "") -> Any:
    """One cell as the export writes it (before :func:`~analyzer.csvsafe.safe_cell`).

    >>> csv_value(pd.Timestamp("2020-02-19T09:14:00Z"))
    '2020-02-19T09:14:00Z'
    >>> csv_value(17291.0), csv_value(0.2001273148), csv_value(1216956.5)
    ('17291', '0.200127', '1216956.5')
    >>> csv_value(True), csv_value(float("nan")), csv_value(None), csv_value(3)
    ('true', '', '', '3')
    """
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime(STORED_TIME)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return csv_value(value.item(), column)
    return value


def field_kind(column: str) -> schema.Kind:
    """The kind of an exported column (its contract's, or the export's own).

    >>> field_kind("delay_seconds"), field_kind("sender"), field_kind("sent_at")
    ('float', 'str', 'datetime')
    """
    if column in _EXTRA_FIELDS:
        return _EXTRA_FIELDS[column][0]
    for contract in (schema.MESSAGES, schema.CASES, schema.WAITS):
        if column in contract.names:
            return contract.column(column).kind
    raise KeyError(column)


def field_meaning(column: str, table: str) -> str:
    """What an exported column holds, for the data dictionary."""
    if column in _EXTRA_FIELDS:
        return _EXTRA_FIELDS[column][1]
    contract = {"messages": schema.MESSAGES, "cases": schema.CASES, "waits": schema.WAITS}[table]
    if column in contract.names:
        return contract.column(column).meaning
    return schema.MESSAGES.column(column).meaning


def field_unit(column: str) -> str | None:
    """The unit of a figure column, ``None`` for others.

    >>> field_unit("delay_seconds"), field_unit("open_age_working_days"), field_unit("case_id")
    ('s', 'working days', None)
    """
    if column.endswith("_seconds"):
        return "s"
    if column.endswith("_working_days"):
        return "working days"
    if column.startswith("asymmetry"):
        return "ratio"
    if field_kind(column) == "int":
        return "count"
    return None


def _rows(frame: pd.DataFrame, columns: Sequence[str],
          decimal: str = ".") -> Iterator[list[Any]]:
    floats = {c for c in columns if field_kind(c) == "float"}
    for record in frame[list(columns)].itertuples(index=False, name=None):
        row = []
        for value, column in zip(record, columns, strict=True):
            cell = csv_value(value, column)
            if decimal != "." and column in floats and isinstance(cell, str):
                cell = cell.replace(".", decimal)
            row.append(cell)
        yield row


def message_table(messages: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``messages.csv``: messages in a case or with a counterpart, by time.

    >>> from analyzer.schema import message_frame
    >>> m = message_frame([{"message_id": "b", "party": "other", "sent_at": None},
    ...     {"message_id": "a", "party": "me", "counterpart": "FT", "case_id": "c",
    ...      "sent_at": "2024-03-04T09:00Z"}])
    >>> message_table(m)["message_id"].tolist()
    ['a']
    """
    keep = messages["case_id"].notna() | messages["counterpart"].notna()
    part = messages.loc[keep]
    return part.sort_values(["sent_at", "message_id"], na_position="last",
                            kind="mergesort", ignore_index=True)


@dataclass(frozen=True)
class Table:
    """One table of an export: its name, columns and rows."""

    name: str
    columns: tuple[str, ...]
    frame: pd.DataFrame


@dataclass
class ExportResult:
    """What :func:`write_export` wrote: the files (data first), rows per
    table, the export id and the key fingerprint (``None`` in clear)."""

    files: list[Path]
    rows: dict[str, int]
    export_id: str
    key_fingerprint: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def _map_column(frame: pd.DataFrame, column: str, func: Callable[[Any], Any]) -> None:
    frame[column] = [None if v is None or v != v else func(v) for v in frame[column]]


def _hasher(pseudo: Pseudonymizer, kind: str) -> Callable[[Any], str | None]:
    def apply(value: Any) -> str | None:
        return pseudo.identifier(kind, str(value))

    return apply


def _tables(analysis: Analysis, frame: pd.DataFrame, waits: pd.DataFrame,
            cases: pd.DataFrame, *, pseudonymize: bool, with_subjects: bool,
            key: bytes | None) -> list[Table]:
    from analyzer.pseudonymize import Pseudonymizer, counterpart_ids, scrubber_for

    ids = counterpart_ids(analysis.config)
    messages = message_table(frame).copy()
    waits = waits.copy()
    cases = cases.copy()
    for table in (messages, waits, cases):
        table["counterpart_id"] = [ids.get(v) if isinstance(v, str) else None
                                   for v in table["counterpart"]]
    if not pseudonymize:
        return [Table("messages", MESSAGE_EXPORT_COLUMNS, messages),
                Table("cases", CASE_COLUMNS, cases), Table("waits", WAIT_COLUMNS, waits)]
    assert key is not None
    pseudo = Pseudonymizer(key)
    for column, kind in (("message_id", "message"), ("case_id", "case"),
                         ("ticket_id", "ticket")):
        _map_column(messages, column, _hasher(pseudo, kind))
    _map_column(cases, "case_id", _hasher(pseudo, "case"))
    _map_column(waits, "case_id", _hasher(pseudo, "case"))
    for column in ("asked_message_id", "answer_message_id"):
        _map_column(waits, column, _hasher(pseudo, "message"))
    people = (list(messages["sender_person"]) if "sender_person" in messages.columns
              else [None] * len(messages))
    messages["sender"] = [
        pseudo.person(party, person if isinstance(person, str) and person else address)
        for party, person, address in zip(messages["party"], people, messages["from_addr"],
                                          strict=True)]
    columns = PSEUDONYMOUS_MESSAGE_COLUMNS
    if with_subjects:
        scrubber = scrubber_for(analysis)
        messages["subject"] = [scrubber.scrub(s) if isinstance(s, str) else None
                               for s in messages["subject"]]
        columns = (*columns, "subject")
    return [Table("messages", columns, messages), Table("cases", CASE_COLUMNS, cases),
            Table("waits", WAIT_COLUMNS, waits)]


def _atomic(out: Path, name: str, write: Callable[[Path], None]) -> Path:
    """Write ``out/name`` through a temporary file renamed at the end, so a
    failure leaves no half-written file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=out)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, out / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out / name


def _write_csv(path: Path, table: Table, dialect: str) -> None:
    from analyzer.csvsafe import write_rows

    excel_fr = dialect == "excel-fr"
    # The byte-order mark is what makes Excel read UTF-8; ";" and the decimal
    # comma are what a French Excel expects.
    with path.open("w", encoding="utf-8-sig" if excel_fr else "utf-8", newline="") as stream:
        write_rows(stream, list(table.columns),
                   _rows(table.frame, table.columns, "," if excel_fr else "."),
                   delimiter=";" if excel_fr else ",")


def _typed_value(value: Any, kind: schema.Kind) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "datetime":
        # Spreadsheets know no time zones: the cell holds the UTC time, which
        # the data dictionary says.
        return pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_pydatetime()
    if hasattr(value, "item"):
        value = value.item()
    return value


def _write_xlsx(path: Path, table: Table) -> None:
    from openpyxl import Workbook

    from analyzer.csvsafe import safe_cell

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.name
    sheet.append(list(table.columns))
    kinds = [field_kind(c) for c in table.columns]
    for record in table.frame[list(table.columns)].itertuples(index=False, name=None):
        sheet.append([safe_cell(_typed_value(v, k)) for v, k in zip(record, kinds, strict=True)])
    for index, kind in enumerate(kinds, 1):
        if kind == "datetime":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    book.save(path)


def _arrow_schema(columns: Sequence[str]) -> Any:
    import pyarrow as pa

    types = {"str": pa.string(), "bool": pa.bool_(), "int": pa.int64(),
             "float": pa.float64(), "datetime": pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(c, types[field_kind(c)]) for c in columns])


def _write_parquet(path: Path, table: Table) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_schema = _arrow_schema(table.columns)
    arrays = []
    for column in table.columns:
        kind = field_kind(column)
        values = [_typed_value(v, kind) for v in table.frame[column]]
        if kind == "datetime":
            values = [None if v is None else v.replace(tzinfo=UTC) for v in values]
        arrays.append(pa.array(values, type=arrow_schema.field(column).type))
    pq.write_table(pa.Table.from_arrays(arrays, schema=arrow_schema), path)


def _writer(table: Table, fmt: str, dialect: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        if fmt == "csv":
            _write_csv(path, table, dialect)
        elif fmt == "xlsx":
            _write_xlsx(path, table)
        else:
            _write_parquet(path, table)

    return write


def _text_writer(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def resource_schema(table: Table, dialect: str) -> dict[str, Any]:
    """The Frictionless Table Schema of one exported table."""
    fields = []
    for column in table.columns:
        kind = field_kind(column)
        entry: dict[str, Any] = {"name": column, "type": _FRICTIONLESS_TYPES[kind],
                                 "description": field_meaning(column, table.name)}
        unit = field_unit(column)
        if unit:
            entry["unit"] = unit
        if kind == "bool":
            entry["trueValues"] = ["true"]
            entry["falseValues"] = ["false"]
        if kind == "float" and dialect == "excel-fr":
            entry["decimalChar"] = ","
        if kind == "datetime":
            entry["format"] = "default"
        fields.append(entry)
    keys = {"messages": "message_id", "cases": "case_id"}
    out: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if table.name in keys:
        out["primaryKey"] = [keys[table.name]]
    return out


def _resource(table: Table, fmt: str, dialect: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "name": table.name, "path": f"{table.name}.{fmt}", "profile": "tabular-data-resource",
        "format": fmt, "schema": resource_schema(table, dialect),
    }
    if fmt == "csv":
        resource["mediatype"] = "text/csv"
        resource["encoding"] = "utf-8-sig" if dialect == "excel-fr" else "utf-8"
        resource["dialect"] = {"delimiter": ";" if dialect == "excel-fr" else ",",
                               "header": True, "quoteChar": '"', "doubleQuote": True}
    elif fmt == "xlsx":
        resource["mediatype"] = ("application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    else:
        resource["mediatype"] = "application/vnd.apache.parquet"
    return resource


def _iso(stamp: Any) -> str | None:
    if stamp is None or pd.isna(stamp):
        return None
    return str(pd.Timestamp(stamp).tz_convert("UTC").strftime(STORED_TIME))


def datapackage(tables: Sequence[Table], *, fmt: str, dialect: str, pseudonymize: bool,
                with_subjects: bool, export_id: str, fingerprint: str | None,
                created: datetime, as_of: pd.Timestamp, filters: dict[str, Any],
                config_timezone: str, country: str) -> dict[str, Any]:
    """The ``datapackage.json`` document of an export (Frictionless Data Package)."""
    from analyzer import __version__

    messages = next(t.frame for t in tables if t.name == "messages")
    dated = messages["sent_at"].dropna() if len(messages) else pd.Series([], dtype=object)
    if pseudonymize:
        pseudonymised = {
            "identifiers": "message_id, case_id, ticket_id, asked_message_id, "
                           "answer_message_id: HMAC-SHA256 under the member's key, truncated "
                           "and prefixed (m-, case-, ticket-)",
            "people": "no address and no name; the sender is a pseudonym (me, "
                      "agency-person-…) from the same keyed hash",
            "free_text": ("subjects scrubbed of addresses, names, phone numbers and "
                          "dossier or ticket numbers" if with_subjects
                          else "no subject and no body"),
            "kept": "counterpart names and ids, dates, delays, counts",
        }
    else:
        pseudonymised = {"identifiers": "none: the data is in clear"}
    return {
        "profile": "tabular-data-package",
        "name": "analyzer-export",
        "id": export_id,
        "title": "analyzer export: messages, cases and waits",
        "created": created.strftime(STORED_TIME),
        "licenses": [{"name": "other-closed", "title": "Personal data of the member; share "
                      "only as agreed with them"}],
        "resources": [_resource(t, fmt, dialect) for t in tables],
        "analyzer": {
            "layout": LAYOUT_VERSION,
            "version": __version__,
            "export_id": export_id,
            "key_fingerprint": fingerprint,
            "pseudonymised": pseudonymize,
            "with_subjects": with_subjects,
            "what_was_pseudonymised": pseudonymised,
            "format": fmt,
            "dialect": dialect if fmt == "csv" else None,
            "date_range": {"first_message_at": _iso(dated.min()) if len(dated) else None,
                           "last_message_at": _iso(dated.max()) if len(dated) else None},
            "as_of": _iso(as_of),
            "filters": {k: v for k, v in filters.items() if v is not None},
            "timezone": config_timezone,
            "country": country,
            "metrics": METRIC_DEFINITIONS,
        },
    }


def _readme(meta: dict[str, Any], rows: dict[str, int], lang: str) -> str:
    from analyzer.i18n import translate

    info = meta["analyzer"]
    dates = info["date_range"]
    lines = [
        translate("export.readme.title", lang),
        "",
        translate("export.readme.version", lang, version=info["version"],
                  created=meta["created"], export_id=info["export_id"]),
        translate("export.readme.range", lang, first=dates["first_message_at"] or "-",
                  last=dates["last_message_at"] or "-", as_of=info["as_of"]),
        translate("export.readme.tables", lang, messages=rows["messages"],
                  cases=rows["cases"], waits=rows["waits"],
                  files=", ".join(r["path"] for r in meta["resources"])),
        translate("export.readme.pseudonymised" if info["pseudonymised"]
                  else "export.readme.clear", lang),
    ]
    if info["pseudonymised"]:
        lines.append(translate("export.readme.fingerprint", lang,
                               fingerprint=info["key_fingerprint"]))
        lines.append(translate("export.readme.subjects" if info["with_subjects"]
                               else "export.readme.no_subjects", lang))
    lines += [translate("export.readme.cells", lang),
              translate("export.readme.dictionary", lang), ""]
    return "\n".join(lines)


def write_export(analysis: Analysis, out_dir: str | Path, *, pseudonymize: bool = True,
                 with_subjects: bool = False, key: bytes | None = None,
                 key_file: str | Path | None = None, fmt: str = "csv",
                 dialect: str = "csv", lang: str = "en", since: When | None = None,
                 until: When | None = None, counterpart: str | None = None,
                 case: str | None = None, as_of: When | None = None) -> ExportResult:
    """Write the three tables, ``datapackage.json`` and ``README.txt`` into
    ``out_dir`` (created when missing).

    Pseudonymised unless ``pseudonymize`` is false; the key is ``key``, else
    the one in ``key_file``, else the member's own
    (:func:`analyzer.pseudonymize.load_or_create_key`, created on first use).
    Filters and ``as_of`` as in :meth:`analyzer.analysis.Analysis.filtered`.
    Every table is computed before the first file is written, and each file
    goes through a temporary name, so a failure leaves no half-written table.
    Raises :class:`ExportRefused` for a format whose package is missing,
    :class:`ExportError` when the folder cannot be written,
    :class:`~analyzer.errors.UsageError` for a bad filter.

    >>> result = write_export(analysis, "export", as_of="2024-03-01")   # doctest: +SKIP
    >>> [p.name for p in result.files]                                  # doctest: +SKIP
    ['messages.csv', 'cases.csv', 'waits.csv', 'datapackage.json', 'README.txt']
    """
    from analyzer import metrics

    check_allowed(pseudonymize=pseudonymize, fmt=fmt, dialect=dialect)
    frame, stamp = analysis.metric_input(as_of, since, until, counterpart, case)
    cfg = analysis.config
    waits = metrics.waits(frame, as_of=stamp, country=cfg.country, timezone=cfg.timezone)
    cases = metrics.case_metrics(frame, waits, country=cfg.country, timezone=cfg.timezone)
    fingerprint: str | None = None
    if pseudonymize:
        from analyzer.pseudonymize import key_fingerprint, load_or_create_key

        if key is None:
            key = load_or_create_key(key_file)
        fingerprint = key_fingerprint(key)
    tables = _tables(analysis, frame, waits, cases, pseudonymize=pseudonymize,
                     with_subjects=with_subjects, key=key)
    rows = {t.name: len(t.frame) for t in tables}
    export_id = uuid.uuid4().hex
    created = datetime.now(UTC)
    meta = datapackage(tables, fmt=fmt, dialect=dialect, pseudonymize=pseudonymize,
                       with_subjects=with_subjects, export_id=export_id,
                       fingerprint=fingerprint, created=created, as_of=stamp,
                       filters={"since": since, "until": until, "counterpart": counterpart,
                                "case": case},
                       config_timezone=cfg.timezone, country=cfg.country)
    out = Path(out_dir)
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for table in tables:
            written.append(_atomic(out, f"{table.name}.{fmt}", _writer(table, fmt, dialect)))
        written.append(_atomic(out, DATAPACKAGE, _text_writer(
            json.dumps(meta, ensure_ascii=False, indent=1) + "\n")))
        written.append(_atomic(out, README, _text_writer(_readme(meta, rows, lang))))
    except OSError as exc:
        raise ExportError("export.unwritable", path=str(out),
                          detail=exc.strerror or str(exc)) from None
    return ExportResult(written, rows, export_id, fingerprint, meta)


def export_tables(analysis: Analysis, out_dir: str | Path, *, pseudonymize: bool = True,
                  **options: Any) -> list[Path]:
    """:func:`write_export`, returning only the files written (data first).

    >>> export_tables(analysis, "export", pseudonymize=False,
    ...               counterpart="France Travail")       # doctest: +SKIP
    [PosixPath('export/messages.csv'), PosixPath('export/cases.csv'),
     PosixPath('export/waits.csv'), PosixPath('export/datapackage.json'),
     PosixPath('export/README.txt')]
    """
    return write_export(analysis, out_dir, pseudonymize=pseudonymize, **options).files
