"""``analyzer cohort``: generated members, each imported into a store of their
own and exported with a key of their own (CSV, excel-fr and Parquet mixed);
the cohort's figures equal those computed from the members' stores directly;
small groups are hidden; a resubmitted export counts once; a foreign file is
refused in one line naming it and the column."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analyzer import synthetic
from analyzer.analysis import Analysis
from analyzer.cli import cli
from analyzer.cohort import CohortError, render_html, run_cohort
from analyzer.config import load_config
from analyzer.export import write_export
from analyzer.importer import import_paths
from analyzer.pseudonymize import counterpart_ids, load_or_create_key
from analyzer.store import Store

pytest.importorskip("duckdb")

AS_OF = "2023-06-30"
MEMBERS = 6
# The 1st member exports in the excel-fr dialect, the 2nd in Parquet, the rest in CSV.
FORMATS = {0: ("csv", "excel-fr"), 1: ("parquet", "csv")}
# Canonical ids of the generated counterparts (no preset: their sorted domains,
# those of their single addresses included).
CAP_AVENIR = "domains:capavenir-conseil.example,relation-beneficiaires.example,webmail.example"
TRAJECTOIRES = "domains:plateforme-parcours.example,trajectoires-emploi.example,webmail.example"
RETRAITE = "domains:retraite-avenir.example"


@dataclass
class Cohort:
    root: Path
    exports: list[Path]
    waits: pd.DataFrame
    cases: pd.DataFrame


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    pytest.importorskip("pyarrow")
    root = tmp_path_factory.mktemp("cohort")
    scenario = synthetic.generate(7, members=MEMBERS, cases=3, unrelated=2,
                                  styles=["otrs", "contractor"])
    exports, waits, cases = [], [], []
    for number, member in enumerate(synthetic.split_members(scenario)):
        mailbox = synthetic.write_maildir(member, root / f"mail-{number}")
        config = load_config(mailbox / "analyzer.toml")
        store = root / f"member-{number}.sqlite"
        with Store.open(store) as opened:
            import_paths(opened, [mailbox], config)
        fmt, dialect = FORMATS.get(number, ("csv", "csv"))
        with Analysis.open(store, config) as analysis:
            write_export(analysis, root / f"export-{number}", as_of=AS_OF, fmt=fmt,
                         dialect=dialect, key_file=root / f"key-{number}")
            ids = counterpart_ids(config)
            waits.append(analysis.waits(as_of=AS_OF).assign(member=number))
            cases.append(analysis.cases(as_of=AS_OF).assign(member=number))
        exports.append(root / f"export-{number}")
    all_waits = pd.concat(waits, ignore_index=True)
    all_cases = pd.concat(cases, ignore_index=True)
    all_waits["counterpart_id"] = all_waits["counterpart"].map(ids)
    all_cases["counterpart_id"] = all_cases["counterpart"].map(ids)
    return Cohort(root, exports, all_waits, all_cases)


def direct_figures(waits: pd.DataFrame, cases: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The cohort's figures computed with pandas from the members' own frames."""
    out = {}
    for cid, group in cases.groupby("counterpart_id"):
        w = waits[waits["counterpart_id"] == cid]
        answered = w[~w["is_open"]]
        theirs = answered[answered["responder"].isin(["agency", "contractor"])]
        mine = answered[answered["responder"] == "me"]
        their_median = theirs["delay_seconds"].median()
        my_median = mine["delay_seconds"].median()
        out[str(cid)] = {
            "members": group["member"].nunique(), "cases": len(group),
            "their_waits": len(theirs), "my_waits": len(mine),
            "open_waits": int(w["is_open"].sum()),
            "their_median_delay_seconds": their_median,
            "their_p90_delay_seconds": theirs["delay_seconds"].quantile(0.9),
            "their_median_delay_working_days": theirs["delay_working_days"].median(),
            "their_p90_delay_working_days": theirs["delay_working_days"].quantile(0.9),
            "my_median_delay_seconds": my_median,
            "my_p90_delay_seconds": mine["delay_seconds"].quantile(0.9),
            "asymmetry": their_median / my_median,
            "case_asymmetry_median": group["asymmetry"].median(),
            "case_asymmetry_p90": group["asymmetry"].quantile(0.9),
            "reopens": int(group["reopens"].sum()),
            "cases_reopened": int((group["reopens"] > 0).sum()),
        }
    return out


def test_cohort_figures_equal_the_members_own(cohort: Cohort) -> None:
    result = run_cohort(cohort.exports, minimum=1)
    expected = direct_figures(cohort.waits, cohort.cases)
    per = result.counterparts[~result.counterparts["overall"]].set_index("counterpart_id")
    assert sorted(per.index) == sorted(expected)
    for cid, figures in expected.items():
        for column, value in figures.items():
            assert per.loc[cid, column] == pytest.approx(value, abs=1e-6), (cid, column)
    overall = result.counterparts[result.counterparts["overall"]].iloc[0]
    everything = direct_figures(cohort.waits.assign(counterpart_id="*"),
                                cohort.cases.assign(counterpart_id="*"))["*"]
    for column, value in everything.items():
        assert overall[column] == pytest.approx(value, abs=1e-6), column
    assert (result.exports, result.members, result.duplicates, result.suppressed) == (
        MEMBERS, MEMBERS, 0, 0)


def test_small_groups_are_hidden(cohort: Cohort) -> None:
    result = run_cohort(cohort.exports)
    members = cohort.cases.groupby("counterpart_id")["member"].nunique()
    assert sorted(members.items()) == [(CAP_AVENIR, 4), (TRAJECTOIRES, 6), (RETRAITE, 4)]
    assert result.counterparts[["counterpart_id", "counterpart", "members"]].values.tolist() == [
        [TRAJECTOIRES, "Trajectoires Emploi", 6], ["*", None, 6]]
    assert result.suppressed == 2
    assert set(result.distribution["counterpart_id"]) == {TRAJECTOIRES}
    assert result.distribution["waits"].sum() == result.counterparts.loc[0, "their_waits"]
    assert result.distribution["share"].sum() == pytest.approx(1.0)


def test_duplicated_and_resubmitted_exports_count_once(cohort: Cohort, tmp_path: Path) -> None:
    copy = tmp_path / "copy-of-0"
    shutil.copytree(cohort.exports[0], copy)
    # A second export of member 2, made later with the same key: same member.
    config = load_config(cohort.root / "mail-2" / "analyzer.toml")
    with Analysis.open(cohort.root / "member-2.sqlite", config) as analysis:
        write_export(analysis, tmp_path / "again-2", as_of=AS_OF,
                     key=load_or_create_key(cohort.root / "key-2"))
    once = run_cohort(cohort.exports, minimum=1)
    twice = run_cohort([*cohort.exports, copy, tmp_path / "again-2"], minimum=1)
    assert (twice.exports, twice.members, twice.duplicates) == (MEMBERS + 2, MEMBERS, 2)
    pd.testing.assert_frame_equal(once.counterparts, twice.counterparts)


def _foreign(cohort: Cohort, tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "foreign"
    shutil.copytree(cohort.exports[3], folder)
    (folder / "waits.csv").write_text(text, "utf-8")
    return folder


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ANALYZER_CONFIG": None})
    return result.exit_code, result.stdout, result.stderr


def test_foreign_csv_is_one_line_naming_file_and_column(cohort: Cohort, tmp_path: Path) -> None:
    folder = _foreign(cohort, tmp_path, "date,amount,label\n2024-01-05,-12.50,BOULANGERIE\n")
    code, out, err = run("--lang", "en", "cohort", *map(str, cohort.exports), str(folder))
    assert (code, out) == (1, "")
    assert err == (f"{folder / 'waits.csv'}: column case_id is missing; this file is not an "
                   "analyzer export or was modified.\n")
    code, _, err = run("--lang", "fr", "cohort", str(folder))
    assert err == (f"{folder / 'waits.csv'} : colonne case_id absente ; ce fichier n'est pas "
                   "un export d'analyzer ou a été modifié.\n")


def test_malformed_value_names_file_and_column(cohort: Cohort, tmp_path: Path) -> None:
    with (cohort.exports[3] / "waits.csv").open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    table[1][table[0].index("delay_seconds")] = "soon"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    folder = _foreign(cohort, tmp_path, out.getvalue())
    with pytest.raises(CohortError) as caught:
        run_cohort([folder])
    assert str(caught.value) == (f"{folder / 'waits.csv'}: column delay_seconds, the value "
                                 "'soon' is not of type number.")


def test_folder_without_datapackage(tmp_path: Path) -> None:
    (tmp_path / "waits.csv").write_text("a,b\n", "utf-8")
    code, _, err = run("--lang", "en", "cohort", str(tmp_path))
    assert (code, err) == (1, f"{tmp_path}: no datapackage.json, this folder is not an "
                              "analyzer export.\n")


def test_datapackage_declaring_another_type(cohort: Cohort, tmp_path: Path) -> None:
    folder = tmp_path / "retyped"
    shutil.copytree(cohort.exports[3], folder)
    meta = json.loads((folder / "datapackage.json").read_text("utf-8"))
    for field in meta["resources"][2]["schema"]["fields"]:
        if field["name"] == "is_open":
            field["type"] = "string"
    (folder / "datapackage.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(CohortError) as caught:
        run_cohort([folder])
    assert str(caught.value) == (f"{folder / 'waits.csv'}: column is_open is declared string "
                                 "in datapackage.json, boolean expected.")


def test_cli_writes_tables_and_page(cohort: Cohort, tmp_path: Path) -> None:
    page = tmp_path / "cohort.html"
    code, out, err = run("--lang", "en", "cohort", *map(str, cohort.exports), "--out",
                         str(tmp_path / "agg"), "--html", str(page))
    assert code == 0, err
    assert out == (
        "6 export(s) read, 0 duplicate(s) set aside, 6 member(s); 1 counterpart(s) shown, 2 "
        "hidden (fewer than 5 members).\n"
        f"Aggregate tables written to {tmp_path / 'agg'}: counterparts.csv, "
        "delay-distribution.csv.\n"
        f"HTML page written: {page}\n")
    table = pd.read_csv(tmp_path / "agg" / "counterparts.csv")
    result = run_cohort(cohort.exports)
    assert table["their_median_delay_seconds"].tolist() == pytest.approx(
        result.counterparts["their_median_delay_seconds"].tolist(), abs=1e-6)
    html = page.read_text("utf-8")
    assert "Trajectoires Emploi" in html and "<script" not in html
    assert "2 organisation(s) hidden: fewer than 5 members" in html


def test_html_escapes_names(cohort: Cohort) -> None:
    result = run_cohort(cohort.exports)
    result.counterparts.loc[0, "counterpart"] = "<b>Evil</b>"
    html = render_html(result, "fr")
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html and "<b>Evil" not in html
    assert "Délais par organisme" in html


def test_foreign_parquet_names_file_and_column(cohort: Cohort, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "foreign-parquet"
    shutil.copytree(cohort.exports[1], folder)
    pq.write_table(pa.table({"case_id": ["x"], "amount": [1.5]}), folder / "waits.parquet")
    with pytest.raises(CohortError) as caught:
        run_cohort([folder])
    assert str(caught.value) == (f"{folder / 'waits.parquet'}: column counterpart_id is "
                                 "missing; this file is not an analyzer export or was modified.")


def test_missing_duckdb_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "duckdb" else real(name, *a))
    code, out, err = run("--lang", "fr", "cohort", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == ("La commande cohort demande le paquet duckdb, absent : installez-le avec pip "
                   "install 'analyzer[cohort]' (ou pipx inject analyzer duckdb), puis relancez.\n")


@pytest.mark.parametrize("number", [0, 1, 2], ids=["excel-fr", "parquet", "csv"])
def test_load_export_gives_typed_frames(cohort: Cohort, number: int) -> None:
    from analyzer import schema
    from analyzer.cohort import load_export

    tables = load_export(cohort.exports[number])
    assert sorted(tables) == ["cases", "messages", "waits"]
    waits = tables["waits"]
    schema.check(waits, schema.WAITS, "load_export")
    schema.check(tables["cases"], schema.CASES, "load_export")
    mine = cohort.waits[cohort.waits["member"] == number].reset_index(drop=True)
    assert waits["delay_seconds"].tolist() == pytest.approx(mine["delay_seconds"].tolist(),
                                                            nan_ok=True)
    assert waits["asked_at"].tolist() == mine["asked_at"].dt.floor("s").tolist()
    assert waits["is_open"].tolist() == mine["is_open"].tolist()
    assert tables["messages"]["sender"].str.contains("@").sum() == 0


def test_load_export_names_file_and_column(cohort: Cohort, tmp_path: Path) -> None:
    from analyzer.cohort import load_export

    folder = tmp_path / "bad"
    shutil.copytree(cohort.exports[2], folder)
    text = (folder / "cases.csv").read_text("utf-8")
    lines = text.splitlines(True)
    header = next(csv.reader([lines[0]]))
    row = next(csv.reader([lines[1]]))
    row[header.index("messages")] = "many"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    (folder / "cases.csv").write_text(lines[0] + out.getvalue() + "".join(lines[2:]), "utf-8")
    with pytest.raises(CohortError) as caught:
        load_export(folder)
    assert str(caught.value) == (f"{folder / 'cases.csv'}: column messages, the value 'many' "
                                 "is not of type integer.")
