"""Cohort reports: many members' exports aggregated per counterpart, with DuckDB.

A union collects export folders (``analyzer export``), each with its
``datapackage.json``. :func:`run_cohort` reads them **only through that data
dictionary**: a folder without one, a layout it does not know, a table or a
column missing, or a value that does not parse as its declared type gives a
one-line :class:`CohortError` naming the file and the column.

Then, per counterpart canonical id (``counterpart_id``):

* how many members, cases and answered waits;
* distributions of delays — median and p90, never means, in seconds and in
  working days — of their answers and of the members' answers;
* the asymmetry (their median / the members' median) pooled, and the median
  and p90 of the per-case asymmetry;
* reopens: in total, and the share of cases reopened at least once;
* a histogram of their delays in calendar days.

Groups of fewer than :data:`MIN_MEMBERS` members are left out (only their
number is given), so no member can be picked out. An export sent twice
(same ``export_id``) or two exports of one member (same key fingerprint)
count once: the newest is kept.

DuckDB reads the CSV or Parquet files in place, so thousands of exports
aggregate on one machine; the same SQL runs on a cluster engine reading the
same files (see the README).

>>> result = run_cohort([Path("member-01"), Path("member-02")])   # doctest: +SKIP
>>> result.counterparts[["counterpart_id", "members",
...                       "their_median_delay_seconds"]]       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analyzer.errors import AnalyzerError
from analyzer.schema import tuples

#: The smallest group shown: under it, a figure could point at one person.
MIN_MEMBERS = 5
#: Columns the cohort reads, per table, with the Frictionless type the data
#: dictionary must declare for them.
REQUIRED: dict[str, dict[str, str]] = {
    "cases": {"case_id": "string", "counterpart": "string", "counterpart_id": "string",
              "reopens": "integer", "asymmetry": "number"},
    "waits": {"case_id": "string", "counterpart_id": "string", "responder": "string",
              "delay_seconds": "number", "delay_working_days": "number",
              "is_open": "boolean"},
}
#: Histogram of their delays, in calendar days: [low, high) per bucket.
BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("<1", 0, 1), ("1-2", 1, 2), ("2-7", 2, 7), ("7-14", 7, 14), ("14-30", 14, 30),
    ("30-90", 30, 90), (">=90", 90, None),
)
_SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE"}
COUNTERPART_COLUMNS: tuple[str, ...] = (
    "counterpart_id", "counterpart", "overall", "members", "cases", "their_waits", "my_waits",
    "open_waits", "their_median_delay_seconds", "their_p90_delay_seconds",
    "their_median_delay_working_days", "their_p90_delay_working_days",
    "my_median_delay_seconds", "my_p90_delay_seconds", "my_median_delay_working_days",
    "asymmetry", "asymmetry_working_days", "case_asymmetry_median", "case_asymmetry_p90",
    "reopens", "cases_reopened", "reopened_share",
)
DISTRIBUTION_COLUMNS: tuple[str, ...] = ("counterpart_id", "counterpart", "bucket_days",
                                         "waits", "share")
OVERALL_ID = "*"
DAY = 86400.0


class CohortError(AnalyzerError):
    """Raised when an export cannot be read as one (the CLI exits with code 1)."""

    default_key = "cohort.error"


@dataclass(frozen=True)
class ExportInfo:
    """One export folder as its data dictionary describes it."""

    folder: Path
    export_id: str
    fingerprint: str | None
    created: str
    fmt: str
    decimal: str
    delimiter: str
    encoding: str
    files: dict[str, Path]

    @property
    def member(self) -> str:
        """Who the export is from: the key fingerprint, else the export itself."""
        return self.fingerprint or f"export:{self.export_id}"


@dataclass
class CohortResult:
    """The aggregate tables and what was read."""

    counterparts: pd.DataFrame
    distribution: pd.DataFrame
    exports: int
    duplicates: int
    members: int
    suppressed: int
    minimum: int


def read_datapackage(folder: Path) -> ExportInfo:
    """The :class:`ExportInfo` of an export folder, checked against what the
    cohort reads (tables, columns, declared types, layout)."""
    path = folder / "datapackage.json"
    try:
        meta = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CohortError("cohort.no_datapackage", path=str(folder)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CohortError("cohort.bad_datapackage", path=str(path), detail=str(exc)) from None
    info = meta.get("analyzer") if isinstance(meta, dict) else None
    if not isinstance(info, dict) or not isinstance(meta.get("resources"), list):
        raise CohortError("cohort.not_an_export", path=str(path))
    if info.get("layout") != 1:
        raise CohortError("cohort.unknown_layout", path=str(path), layout=info.get("layout"))
    resources = {r.get("name"): r for r in meta["resources"] if isinstance(r, dict)}
    files: dict[str, Path] = {}
    fmt = str(info.get("format") or "csv")
    if fmt not in ("csv", "parquet"):
        raise CohortError("cohort.bad_format", path=str(path), format=fmt)
    decimal, delimiter, encoding = ".", ",", "utf-8"
    for table, wanted in REQUIRED.items():
        resource = resources.get(table)
        if resource is None:
            raise CohortError("cohort.missing_table", path=str(path), table=table)
        declared = {f.get("name"): f for f in resource.get("schema", {}).get("fields", [])
                    if isinstance(f, dict)}
        target = folder / str(resource.get("path", ""))
        for column, kind in wanted.items():
            field = declared.get(column)
            if field is None:
                raise CohortError("cohort.missing_column", file=str(target), column=column)
            if field.get("type") != kind:
                raise CohortError("cohort.bad_type", file=str(target), column=column,
                                  declared=field.get("type"), expected=kind)
            if kind == "number" and field.get("decimalChar"):
                decimal = str(field["decimalChar"])
        if fmt == "csv":
            delimiter = str(resource.get("dialect", {}).get("delimiter", ","))
            encoding = str(resource.get("encoding", "utf-8"))
        files[table] = target
    return ExportInfo(folder, str(info.get("export_id") or meta.get("id") or ""),
                      info.get("key_fingerprint"), str(meta.get("created", "")), fmt,
                      decimal, delimiter, encoding, files)


def select_exports(infos: Sequence[ExportInfo]) -> tuple[list[ExportInfo], int]:
    """The exports to count, one per member, and how many were set aside.

    Resubmissions share an ``export_id``; two exports of one member share a
    key fingerprint. Either way the newest (``created``) stays.
    """
    newest_first = sorted(infos, key=lambda i: (i.created, str(i.folder)), reverse=True)
    kept: list[ExportInfo] = []
    seen_ids: set[str] = set()
    seen_members: set[str] = set()
    for info in newest_first:
        if info.export_id in seen_ids or info.member in seen_members:
            continue
        seen_ids.add(info.export_id)
        seen_members.add(info.member)
        kept.append(info)
    kept.sort(key=lambda i: str(i.folder))
    return kept, len(infos) - len(kept)


def _check_header(info: ExportInfo, table: str) -> None:
    path = info.files[table]
    if not path.is_file():
        raise CohortError("cohort.missing_file", file=str(path))
    if info.fmt == "parquet":
        import duckdb

        try:
            con = duckdb.connect()
            try:
                found = con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                    [str(path)]).fetchall()
            finally:
                con.close()
        except duckdb.Error as exc:
            raise CohortError("cohort.unreadable", file=str(path),
                              detail=str(exc).splitlines()[0]) from None
        names = {row[0] for row in found}
    else:
        try:
            with path.open(encoding=info.encoding, newline="") as stream:
                names = set(next(csv.reader(stream, delimiter=info.delimiter), []))
        except (OSError, UnicodeDecodeError) as exc:
            raise CohortError("cohort.unreadable", file=str(path), detail=str(exc)) from None
    for column in REQUIRED[table]:
        if column not in names:
            raise CohortError("cohort.missing_column", file=str(path), column=column)


def _load(con: Any, exports: Sequence[ExportInfo]) -> None:
    """Typed tables ``cases`` and ``waits`` in DuckDB, a ``member`` column each."""
    con.execute("CREATE TABLE files (filename VARCHAR, member VARCHAR, decimal VARCHAR)")
    for table, wanted in REQUIRED.items():
        rows = [(str(i.files[table]), i.member, i.decimal) for i in exports]
        con.execute("DELETE FROM files")
        if rows:
            con.executemany("INSERT INTO files VALUES (?, ?, ?)", rows)
        columns = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in wanted)
        parts = []
        groups: dict[tuple[str, str], list[str]] = {}
        for info in exports:
            groups.setdefault((info.fmt, info.delimiter), []).append(str(info.files[table]))
        for (fmt, delimiter), paths in groups.items():
            listed = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
            if fmt == "parquet":
                source = f"read_parquet({listed}, filename=true, union_by_name=true)"
            else:
                quoted = delimiter.replace("'", "''")
                source = (f"read_csv({listed}, header=true, delim='{quoted}', quote='\"', "
                          "escape='\"', all_varchar=true, filename=true, union_by_name=true)")
            parts.append(f"SELECT {columns}, filename FROM {source}")
        union = " UNION ALL BY NAME ".join(parts) if parts else (
            "SELECT " + ", ".join(f'NULL::VARCHAR AS "{c}"' for c in wanted)
            + ", NULL::VARCHAR AS filename WHERE false")
        con.execute(f"CREATE TABLE raw_{table} AS {union}")
        _check_values(con, table, wanted)
        typed = []
        for column, kind in wanted.items():
            value = f'NULLIF(r."{column}", \'\')'
            if kind == "number":
                typed.append(f"CAST(replace({value}, f.decimal, '.') AS DOUBLE) AS \"{column}\"")
            elif kind == "integer":
                typed.append(f'CAST({value} AS BIGINT) AS "{column}"')
            elif kind == "boolean":
                typed.append(f'({value} = \'true\') AS "{column}"')
            else:
                typed.append(f'{value} AS "{column}"')
        con.execute(f"CREATE TABLE {table} AS SELECT f.member, {', '.join(typed)} "
                    f"FROM raw_{table} r JOIN files f ON f.filename = r.filename")


def _check_values(con: Any, table: str, wanted: dict[str, str]) -> None:
    """One line naming the file, column and value of the first cell that
    does not parse as its declared type."""
    for column, kind in wanted.items():
        value = f'NULLIF(r."{column}", \'\')'
        if kind == "number":
            bad = f"TRY_CAST(replace({value}, f.decimal, '.') AS DOUBLE) IS NULL"
        elif kind == "integer":
            bad = f"TRY_CAST({value} AS BIGINT) IS NULL"
        elif kind == "boolean":
            bad = f"{value} NOT IN ('true', 'false')"
        elif column == "responder":
            bad = f"{value} NOT IN ('me', 'agency', 'contractor')"
        else:
            continue
        found = con.execute(
            f"SELECT r.filename, r.\"{column}\" FROM raw_{table} r "
            f"JOIN files f ON f.filename = r.filename WHERE {value} IS NOT NULL AND {bad} "
            "LIMIT 1").fetchone()
        if found is not None:
            raise CohortError("cohort.bad_value", file=found[0], column=column,
                              value=str(found[1])[:40], expected=kind)


def load_export(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of one export as a typed DataFrame, read through its
    ``datapackage.json`` (for notebooks): strings as ``object``, booleans,
    ``int64``, ``float64`` and UTC datetimes. A missing column or a value
    that does not parse as its declared type raises :class:`CohortError`
    naming the file and the column.

    >>> tables = load_export("export-julie")          # doctest: +SKIP
    >>> tables["waits"].groupby("responder")["delay_seconds"].median()  # doctest: +SKIP
    """
    base = Path(folder)
    read_datapackage(base)  # the same checks as the cohort
    meta = json.loads((base / "datapackage.json").read_text("utf-8"))
    out: dict[str, pd.DataFrame] = {}
    for resource in meta["resources"]:
        path = base / str(resource["path"])
        fields = resource["schema"]["fields"]
        if resource.get("format") == "parquet":
            raw = pd.read_parquet(path)
        elif resource.get("format") == "csv":
            if not path.is_file():
                raise CohortError("cohort.missing_file", file=str(path))
            raw = pd.read_csv(path, dtype=str, keep_default_na=False,
                              sep=resource.get("dialect", {}).get("delimiter", ","),
                              encoding=resource.get("encoding", "utf-8"))
        else:
            continue
        columns = {}
        for spec in fields:
            name = str(spec["name"])
            if name not in raw.columns:
                raise CohortError("cohort.missing_column", file=str(path), column=name)
            columns[name] = _typed_column(raw[name], spec, path)
        out[str(resource["name"])] = pd.DataFrame(columns, index=raw.index)
    return out


def _typed_column(series: pd.Series, spec: dict[str, Any], path: Path) -> pd.Series:
    kind = spec.get("type")
    if kind not in ("number", "integer", "boolean", "datetime"):
        values = series.astype(object)
        # The export's spreadsheet guard ("'=…") is not part of the value.
        values = values.map(lambda v: v[1:] if isinstance(v, str) and v[:2] in (
            "'=", "'+", "'-", "'@") else v)
        return values.where(values.notna() & values.ne(""), None)
    textual = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
    text = series.astype(object).where(series.ne(""), None) if textual else series
    if kind == "number" and textual:
        decimal = str(spec.get("decimalChar", "."))
        text = text.map(lambda v: v.replace(decimal, ".") if isinstance(v, str) else v)
    if kind in ("number", "integer"):
        parsed = pd.to_numeric(text, errors="coerce")
        if kind == "integer":
            parsed = parsed.where(parsed.isna() | (parsed == parsed.round()))
    elif kind == "boolean":
        parsed = text.map({"true": True, "false": False}) if textual else text
    else:
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    bad = text.notna() & parsed.isna()
    if bool(bad.any()):
        raise CohortError("cohort.bad_value", file=str(path), column=str(spec["name"]),
                          value=str(series[bad].iloc[0])[:40], expected=kind)
    if kind == "number":
        return parsed.astype("float64")
    if kind == "integer":
        return parsed.astype("int64")
    if kind == "boolean":
        return parsed.astype(bool)
    return parsed.astype("datetime64[ns, UTC]")


_AGGREGATE = """
WITH w AS (
    SELECT {key} AS counterpart_id, member, responder, delay_seconds, delay_working_days,
           is_open, responder IN ('agency', 'contractor') AS theirs
    FROM waits WHERE counterpart_id IS NOT NULL
), c AS (
    SELECT {key} AS counterpart_id, member, counterpart, reopens, asymmetry
    FROM cases WHERE counterpart_id IS NOT NULL
), cs AS (
    SELECT counterpart_id, count(DISTINCT member) AS members, count(*) AS cases,
           min(counterpart) AS counterpart,
           quantile_cont(asymmetry, 0.5) AS case_asymmetry_median,
           quantile_cont(asymmetry, 0.9) AS case_asymmetry_p90,
           sum(reopens) AS reopens, count(*) FILTER (WHERE reopens > 0) AS cases_reopened
    FROM c GROUP BY counterpart_id
), ws AS (
    SELECT counterpart_id,
        count(*) FILTER (WHERE theirs AND NOT is_open) AS their_waits,
        count(*) FILTER (WHERE NOT theirs AND NOT is_open) AS my_waits,
        count(*) FILTER (WHERE is_open) AS open_waits,
        quantile_cont(delay_seconds, 0.5) FILTER (WHERE theirs AND NOT is_open) AS tm,
        quantile_cont(delay_seconds, 0.9) FILTER (WHERE theirs AND NOT is_open) AS tp,
        quantile_cont(delay_working_days, 0.5) FILTER (WHERE theirs AND NOT is_open) AS tmw,
        quantile_cont(delay_working_days, 0.9) FILTER (WHERE theirs AND NOT is_open) AS tpw,
        quantile_cont(delay_seconds, 0.5) FILTER (WHERE NOT theirs AND NOT is_open) AS mm,
        quantile_cont(delay_seconds, 0.9) FILTER (WHERE NOT theirs AND NOT is_open) AS mp,
        quantile_cont(delay_working_days, 0.5) FILTER (WHERE NOT theirs AND NOT is_open)
            AS mmw
    FROM w GROUP BY counterpart_id
)
SELECT cs.counterpart_id, cs.counterpart, cs.members, cs.cases,
    coalesce(ws.their_waits, 0) AS their_waits, coalesce(ws.my_waits, 0) AS my_waits,
    coalesce(ws.open_waits, 0) AS open_waits,
    ws.tm AS their_median_delay_seconds, ws.tp AS their_p90_delay_seconds,
    ws.tmw AS their_median_delay_working_days, ws.tpw AS their_p90_delay_working_days,
    ws.mm AS my_median_delay_seconds, ws.mp AS my_p90_delay_seconds,
    ws.mmw AS my_median_delay_working_days,
    CASE WHEN ws.mm > 0 THEN ws.tm / ws.mm END AS asymmetry,
    CASE WHEN ws.mmw > 0 THEN ws.tmw / ws.mmw END AS asymmetry_working_days,
    cs.case_asymmetry_median, cs.case_asymmetry_p90, cs.reopens, cs.cases_reopened,
    cs.cases_reopened / cs.cases AS reopened_share
FROM cs LEFT JOIN ws USING (counterpart_id)
ORDER BY cs.counterpart_id
"""


def aggregate(con: Any, minimum: int = MIN_MEMBERS) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Per counterpart then overall (``counterpart_id`` ``*``), groups under
    ``minimum`` members left out; the histogram of their delays; and how
    many groups were left out."""
    per = con.execute(_AGGREGATE.format(key="counterpart_id")).fetchdf()
    overall = con.execute(_AGGREGATE.format(key=f"'{OVERALL_ID}'")).fetchdf()
    per.insert(2, "overall", False)
    overall.insert(2, "overall", True)
    if len(overall):
        overall["counterpart"] = None
    table = pd.concat([per, overall], ignore_index=True) if len(overall) else per
    shown = table[table["members"] >= minimum].reset_index(drop=True)
    suppressed = int((per["members"] < minimum).sum())
    cases = [f"WHEN delay_seconds / 86400 >= {low}" + (
        f" AND delay_seconds / 86400 < {high}" if high is not None else "")
        + f" THEN '{label}'" for label, low, high in BUCKETS]
    histogram = con.execute(f"""
        SELECT counterpart_id, CASE {' '.join(cases)} END AS bucket_days, count(*) AS waits
        FROM waits WHERE counterpart_id IS NOT NULL AND NOT is_open
          AND responder IN ('agency', 'contractor')
        GROUP BY ALL""").fetchdf()
    kept = shown.loc[~shown["overall"], ["counterpart_id", "counterpart"]]
    histogram = histogram.merge(kept, on="counterpart_id")
    order = {label: i for i, (label, _, _) in enumerate(BUCKETS)}
    histogram["order"] = histogram["bucket_days"].map(order)
    histogram = histogram.sort_values(["counterpart_id", "order"], ignore_index=True)
    totals = histogram.groupby("counterpart_id")["waits"].transform("sum")
    histogram["share"] = histogram["waits"] / totals
    return (shown[list(COUNTERPART_COLUMNS)],
            histogram[list(DISTRIBUTION_COLUMNS)].reset_index(drop=True), suppressed)


def _name_counterparts(table: pd.DataFrame) -> pd.DataFrame:
    """Preset ids show the preset's name, whatever each member called it."""
    from analyzer.presets import presets

    names = {p.id: p.name for p in presets() if not p.blank}
    table = table.copy()
    values = [None if i == OVERALL_ID else names.get(i, n)
              for i, n in zip(table["counterpart_id"], table["counterpart"], strict=True)]
    # object dtype: the overall row has no name, and pandas 3 would make it NaN.
    table["counterpart"] = pd.Series(values, index=table.index, dtype=object)
    return table


def run_cohort(folders: Sequence[str | Path], *, minimum: int = MIN_MEMBERS) -> CohortResult:
    """Read export folders and aggregate them (see the module's description).

    Raises :class:`CohortError` for a folder or file that is not an export.
    """
    import importlib.util

    if importlib.util.find_spec("duckdb") is None:
        raise CohortError("cohort.missing_duckdb")
    import duckdb

    infos = [read_datapackage(Path(f)) for f in folders]
    kept, duplicates = select_exports(infos)
    for info in kept:
        for table in REQUIRED:
            _check_header(info, table)
    con = duckdb.connect()
    try:
        _load(con, kept)
        counterparts, distribution, suppressed = aggregate(con, minimum)
    finally:
        con.close()
    counterparts = _name_counterparts(counterparts)
    distribution = distribution.drop(columns="counterpart").merge(
        counterparts[["counterpart_id", "counterpart"]], on="counterpart_id")
    distribution = distribution[list(DISTRIBUTION_COLUMNS)]
    return CohortResult(counterparts, distribution, len(infos), duplicates,
                        len({i.member for i in kept}), suppressed, minimum)


def write_tables(result: CohortResult, out_dir: str | Path) -> list[Path]:
    """``counterparts.csv`` and ``delay-distribution.csv`` (spreadsheet-safe)."""
    from analyzer.csvsafe import write_rows
    from analyzer.export import csv_value

    out = Path(out_dir)
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("counterparts.csv", result.counterparts),
                            ("delay-distribution.csv", result.distribution)):
            with (out / name).open("w", encoding="utf-8", newline="") as stream:
                write_rows(stream, list(frame.columns),
                           ([csv_value(v) for v in row]
                            for row in frame.itertuples(index=False, name=None)))
            written.append(out / name)
    except OSError as exc:
        raise CohortError("cohort.unwritable", path=str(out),
                          detail=exc.strerror or str(exc)) from None
    return written


_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ t('cohort.html.title') }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:75em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.3em .6em}
td.n{text-align:right}th{background:#eee}caption{text-align:left;font-weight:bold}
</style></head><body>
<h1>{{ t('cohort.html.title') }}</h1>
<p>{{ t('cohort.html.intro', exports=result.exports, members=result.members,
        duplicates=result.duplicates) }}</p>
<p>{{ t('cohort.html.suppressed', suppressed=result.suppressed, minimum=result.minimum) }}</p>
<table><caption>{{ t('cohort.html.counterparts') }}</caption>
<tr>{% for label in headers %}<th>{{ label }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for cell in row %}
<td{% if loop.index > 1 %} class="n"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
<table><caption>{{ t('cohort.html.distribution') }}</caption>
<tr><th>{{ t('cohort.col.counterpart') }}</th><th>{{ t('cohort.col.bucket') }}</th>
<th>{{ t('cohort.col.waits') }}</th><th>{{ t('cohort.col.share') }}</th></tr>
{% for row in buckets %}<tr><td>{{ row[0] }}</td><td>{{ row[1] }}</td>
<td class="n">{{ row[2] }}</td><td class="n">{{ row[3] }}</td></tr>
{% endfor %}</table>
<p>{{ t('cohort.html.definitions') }}</p>
</body></html>
"""


def _number(value: Any, lang: str) -> str:
    if value is None or pd.isna(value):
        return ""
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


def _ratio(value: Any, lang: str) -> str:
    text = _number(value, lang)
    return f"×{text}" if text else ""


def render_html(result: CohortResult, lang: str = "en") -> str:
    """One self-contained page (no script, nothing loaded) with the tables;
    every name from an export is escaped."""
    import jinja2

    from analyzer.i18n import translate

    def t(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    headers = [t(f"cohort.col.{k}") for k in (
        "counterpart", "members", "cases", "their_waits", "their_median", "their_p90",
        "my_median", "asymmetry", "case_asymmetry", "reopened", "open_waits")]
    rows = []
    for r in tuples(result.counterparts, index=False):
        rows.append([
            t("cohort.html.overall") if r.overall else f"{r.counterpart} ({r.counterpart_id})",
            r.members, r.cases, r.their_waits,
            _number(r.their_median_delay_seconds / DAY, lang),
            _number(r.their_p90_delay_seconds / DAY, lang),
            _number(r.my_median_delay_seconds / DAY, lang),
            _ratio(r.asymmetry, lang), _ratio(r.case_asymmetry_median, lang),
            f"{r.cases_reopened} ({r.reopened_share:.0%})", r.open_waits,
        ])
    buckets = [(r.counterpart, r.bucket_days, r.waits, f"{r.share:.0%}")
               for r in result.distribution.itertuples(index=False)]
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_PAGE).render(lang=lang, t=t, result=result, headers=headers,
                                         rows=rows, buckets=buckets)
