"""``analyzer export``: exact CSV files in clear (``--no-pseudonymize``), the
excel-fr dialect byte for byte, the data dictionary, a missing extra, filters
shared with the report, cells no spreadsheet will run. Pseudonymisation
itself is tested in tests/test_pseudonymize.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analyzer.analysis import Analysis
from analyzer.cli import cli
from analyzer.config import load_config
from analyzer.errors import UsageError
from analyzer.export import FILES, ExportRefused, export_tables, write_export
from analyzer.importer import import_paths
from analyzer.store import Store
from tests.builders import message, write_maildir

CONFIG = ('[me]\naddresses = ["julie.moreau@exemple-perso.fr"]\n'
          '[[counterpart]]\nname = "France Travail"\nkind = "agency"\n'
          'domains = ["francetravail.fr"]\n')
AS_OF = "2020-03-05T12:00:00Z"
#: case_id_for() of each case's first message.
CASE = "C-2ddbaa09"
HOSTILE_CASE = "C-4598305c"

MESSAGES_CSV = (
    "message_id,case_id,ticket_id,party,counterpart,counterpart_id,automated,automation_kind,"
    "is_closure,sent_at,from_addr,subject\n"
    "q1@exemple-perso.fr,C-2ddbaa09,,me,France Travail,france-travail,false,,false,"
    "2020-02-19T09:14:00Z,julie.moreau@exemple-perso.fr,Ma situation\n"
    "r1@francetravail.fr,C-2ddbaa09,,agency,France Travail,france-travail,false,,false,"
    "2020-02-21T09:14:00Z,s.lefebvre@francetravail.fr,RE: Ma situation\n"
    "q2@exemple-perso.fr,C-2ddbaa09,,me,France Travail,france-travail,false,,false,"
    "2020-02-21T10:14:00Z,julie.moreau@exemple-perso.fr,Re: Ma situation\n"
    "'=1+1@exemple-perso.fr,C-4598305c,,me,France Travail,france-travail,false,,false,"
    "2020-03-02T08:00:00Z,julie.moreau@exemple-perso.fr,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"clic\"\")\"\n"
)
CASES_HEADER = (
    "case_id,counterpart,counterpart_id,messages,journal_events,undated_messages,tickets,reopens,closures,"
    "interlocutors,waits,open_waits,reminders,my_reminders,their_reminders,"
    "their_median_delay_seconds,their_p90_delay_seconds,my_median_delay_seconds,asymmetry,"
    "longest_silence_seconds,open_wait_age_seconds,open_wait_responder,first_message_at,"
    "last_message_at,their_median_delay_working_days,their_p90_delay_working_days,"
    "my_median_delay_working_days,asymmetry_working_days,longest_silence_working_days,"
    "open_wait_age_working_days\n"
)
CASES_CSV = CASES_HEADER + (
    # Asked Wed 19 Feb 10:14, answered Fri 21 Feb 10:14 (Paris): 2 days, 2 working
    # days; I answered in one hour; my open wait is aged from Fri 21 Feb 10:14 to
    # Thu 5 Mar 13:00: 13 days 2 h 46 min, 9 working days and 2 h 46 min.
    "C-2ddbaa09,France Travail,france-travail,3,0,0,0,0,0,1,2,1,0,0,0,172800,172800,3600,48,"
    "172800,1129560,agency,2020-02-19T09:14:00Z,2020-02-21T10:14:00Z,2,2,0.041667,48,2,9.073611\n"
    "C-4598305c,France Travail,france-travail,1,0,0,0,0,0,0,0,1,0,0,0,,,,,,273600,"
    "agency,"
    "2020-03-02T08:00:00Z,2020-03-02T08:00:00Z,,,,,,3.166667\n"
)
WAITS_HEADER = (
    "case_id,counterpart,counterpart_id,requester,responder,asked_at,answered_at,delay_seconds,"
    "delay_working_days,open_age_seconds,open_age_working_days,asked_message_id,"
    "answer_message_id,reminders,crosses_closure,is_open\n"
)
WAITS_CSV = WAITS_HEADER + (
    "C-2ddbaa09,France Travail,france-travail,me,agency,2020-02-19T09:14:00Z,"
    "2020-02-21T09:14:00Z,172800,2,,,"
    "q1@exemple-perso.fr,r1@francetravail.fr,0,false,false\n"
    "C-2ddbaa09,France Travail,france-travail,agency,me,2020-02-21T09:14:00Z,"
    "2020-02-21T10:14:00Z,3600,"
    "0.041667,,,r1@francetravail.fr,q2@exemple-perso.fr,0,false,false\n"
    "C-2ddbaa09,France Travail,france-travail,me,agency,2020-02-21T10:14:00Z,,,,1129560,"
    "9.073611,"
    "q2@exemple-perso.fr,,0,false,true\n"
    "C-4598305c,France Travail,france-travail,me,agency,2020-03-02T08:00:00Z,,,,273600,"
    "3.166667,"
    "'=1+1@exemple-perso.fr,,0,false,true\n"
)
IMPORT_LINES = ("Import finished: 5 message(s) read, 5 new, 0 already in the store, 4 exchanged "
                "with a counterpart.\nSources: 1 (0 unchanged).\n")
WARNING = {
    "fr": "Attention : ces fichiers contiennent des données personnelles en clair (adresses, "
          "objets, identifiants de messages) ; ne les partagez pas tels quels.\n",
    "en": "Warning: these files hold personal data in clear (addresses, subjects, message "
          "ids); do not share them as they are.\n",
}


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    """A question answered in two days, my answer in an hour still unanswered, a
    hostile second case still open, and one personal message (not exported)."""
    mail = tmp_path / "mail"
    write_maildir(mail, {
        "1.a:2,S": message(message_id="<q1@exemple-perso.fr>", subject="Ma situation",
                           date="Wed, 19 Feb 2020 10:14:00 +0100"),
        "2.a:2,S": message(message_id="<r1@francetravail.fr>",
                           sender="Sandrine Lefebvre <s.lefebvre@francetravail.fr>",
                           to="julie.moreau@exemple-perso.fr", subject="RE: Ma situation",
                           date="Fri, 21 Feb 2020 10:14:00 +0100",
                           in_reply_to="<q1@exemple-perso.fr>",
                           references="<q1@exemple-perso.fr>",
                           body="Bonjour,\n\nMerci d'envoyer votre attestation.\n\n"
                                "Sandrine Lefebvre\n"),
        "3.a:2,S": message(message_id="<q2@exemple-perso.fr>", subject="Re: Ma situation",
                           date="Fri, 21 Feb 2020 11:14:00 +0100",
                           in_reply_to="<r1@francetravail.fr>",
                           references="<q1@exemple-perso.fr> <r1@francetravail.fr>"),
        "4.a:2,S": message(message_id="<=1+1@exemple-perso.fr>",
                           subject='=HYPERLINK("http://evil.example","clic")',
                           date="Mon, 02 Mar 2020 09:00:00 +0100",
                           body="Bonjour,\n\nAutre question sur mon dossier de formation.\n"),
        "5.a:2,S": message(message_id="<p1@courriel-libre.fr>",
                           sender="Camille Roux <camille@courriel-libre.fr>",
                           to="julie.moreau@exemple-perso.fr", subject="Dîner",
                           date="Sat, 22 Feb 2020 10:00:00 +0100"),
    })
    (mail / "analyzer.toml").write_text(CONFIG)
    return mail


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ANALYZER_CONFIG": None})
    return result.exit_code, result.stdout, result.stderr


def export(tmp_path: Path, mailbox: Path, *args: str, lang: str = "en"
           ) -> tuple[int, str, str]:
    return run("--lang", lang, "--store", str(tmp_path / "s.sqlite"), "export", str(mailbox),
               "--out", str(tmp_path / "out"), *args)


def read(tmp_path: Path, name: str) -> str:
    return (tmp_path / "out" / name).read_text("utf-8")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_plain_export_pseudonymises(tmp_path: Path, mailbox: Path, lang: str) -> None:
    code, out, err = export(tmp_path, mailbox, "--key-file", str(tmp_path / "key"),
                            "--as-of", AS_OF, lang=lang)
    files = "messages.csv, cases.csv, waits.csv, datapackage.json, README.txt"
    written = {
        "fr": f"4 message(s), 2 dossier(s) et 4 attente(s) exportés dans {tmp_path / 'out'} : "
              f"{files}.\n",
        "en": f"4 message(s), 2 case(s) and 4 wait(s) exported to {tmp_path / 'out'}: "
              f"{files}.\n",
    }
    assert (code, out) == (0, written[lang])
    assert WARNING[lang] not in err
    text = "".join(read(tmp_path, n) for n in FILES)
    for secret in ("exemple-perso.fr", "francetravail.fr", "Lefebvre", "Ma situation",
                   "C-2ddbaa09", "HYPERLINK"):
        assert secret not in text


def test_missing_extra_is_one_line_and_writes_nothing(tmp_path: Path, mailbox: Path,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "openpyxl" else real(name, *a))
    code, out, err = export(tmp_path, mailbox, "--format", "xlsx", "--no-pseudonymize")
    assert (code, out) == (1, "")
    assert err == ("The xlsx format needs the openpyxl package, which is missing: install it "
                   "with pip install 'analyzer[xlsx]' (or pipx inject analyzer openpyxl), then "
                   "run again.\n")
    assert not (tmp_path / "out").exists() and not (tmp_path / "s.sqlite").exists()
    config = load_config(mailbox / "analyzer.toml")
    with Analysis.open(tmp_path / "s.sqlite", config) as a, \
            pytest.raises(ExportRefused) as caught:
        export_tables(a, tmp_path / "out", fmt="xlsx")
    assert caught.value.key == "export.missing_extra"
    assert not (tmp_path / "out").exists()


def test_excel_fr_dialect_bytes(tmp_path: Path, mailbox: Path) -> None:
    code, _, _ = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF,
                        "--dialect", "excel-fr", "--case", CASE)
    assert code == 0
    data = (tmp_path / "out" / "waits.csv").read_bytes()
    assert data == b"\xef\xbb\xbf" + (WAITS_HEADER.replace(",", ";") + (
        "C-2ddbaa09;France Travail;france-travail;me;agency;2020-02-19T09:14:00Z;"
        "2020-02-21T09:14:00Z;172800;2;;;q1@exemple-perso.fr;r1@francetravail.fr;0;false;"
        "false\n"
        "C-2ddbaa09;France Travail;france-travail;agency;me;2020-02-21T09:14:00Z;"
        "2020-02-21T10:14:00Z;3600;0,041667;;;r1@francetravail.fr;q2@exemple-perso.fr;0;"
        "false;false\n"
        "C-2ddbaa09;France Travail;france-travail;me;agency;2020-02-21T10:14:00Z;;;;1129560;"
        "9,073611;q2@exemple-perso.fr;;0;false;true\n")).encode("utf-8")
    meta = json.loads(read(tmp_path, "datapackage.json"))
    waits = next(r for r in meta["resources"] if r["name"] == "waits")
    assert (waits["encoding"], waits["dialect"]["delimiter"]) == ("utf-8-sig", ";")
    assert {f["name"]: f.get("decimalChar") for f in waits["schema"]["fields"]}[
        "delay_working_days"] == ","


REQUIRED_PACKAGE_KEYS = ("profile", "name", "id", "created", "resources")


@pytest.mark.parametrize("dialect", ["csv", "excel-fr"])
def test_datapackage_describes_the_export(tmp_path: Path, mailbox: Path, dialect: str) -> None:
    code, _, _ = export(tmp_path, mailbox, "--key-file", str(tmp_path / "key"), "--as-of",
                        AS_OF, "--dialect", dialect)
    assert code == 0
    meta = json.loads(read(tmp_path, "datapackage.json"))
    assert all(k in meta for k in REQUIRED_PACKAGE_KEYS)
    assert [r["name"] for r in meta["resources"]] == ["messages", "cases", "waits"]
    for resource in meta["resources"]:
        assert resource["path"] == f"{resource['name']}.csv"
        assert resource["profile"] == "tabular-data-resource"
        fields = resource["schema"]["fields"]
        header = (tmp_path / "out" / resource["path"]).read_text("utf-8-sig").splitlines()[0]
        assert [f["name"] for f in fields] == header.split(";" if dialect == "excel-fr" else ",")
        assert all(f["type"] in ("string", "boolean", "integer", "number", "datetime")
                   and f["description"] for f in fields)
    waits = {f["name"]: f for f in meta["resources"][2]["schema"]["fields"]}
    assert (waits["delay_seconds"]["unit"], waits["delay_working_days"]["unit"]) == (
        "s", "working days")
    info = meta["analyzer"]
    assert info["export_id"] == meta["id"] and len(info["export_id"]) == 32
    assert (info["pseudonymised"], info["with_subjects"], info["layout"]) == (True, False, 1)
    assert info["date_range"] == {"first_message_at": "2020-02-19T09:14:00Z",
                                  "last_message_at": "2020-03-02T08:00:00Z"}
    assert info["as_of"] == "2020-03-05T12:00:00Z"
    assert "asymmetry" in info["metrics"] and info["version"]
    assert "no subject and no body" in info["what_was_pseudonymised"]["free_text"]
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(tmp_path / "out" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_readme_in_the_users_language(tmp_path: Path, mailbox: Path) -> None:
    export(tmp_path, mailbox, "--key-file", str(tmp_path / "key"), "--as-of", AS_OF,
           lang="fr")
    readme = read(tmp_path, "README.txt").splitlines()
    meta = json.loads(read(tmp_path, "datapackage.json"))
    assert readme[0] == "Export d'analyzer : messages, dossiers et attentes"
    assert readme[3] == ("Messages du 2020-02-19T09:14:00Z au 2020-03-02T08:00:00Z ; attentes "
                         "ouvertes mesurées au 2020-03-05T12:00:00Z (UTC).")
    assert readme[6] == (f"Empreinte de la clé du membre (pas la clé) : "
                         f"{meta['analyzer']['key_fingerprint']}. Deux exports d'un même "
                         "membre ont la même.")


def test_library_result_counts_rows(tmp_path: Path, mailbox: Path) -> None:
    config = load_config(mailbox / "analyzer.toml")
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [mailbox], config)
    with Analysis.open(tmp_path / "s.sqlite", config) as analysis:
        result = write_export(analysis, tmp_path / "out", key=b"k" * 32, as_of=AS_OF)
    assert result.rows == {"messages": 4, "cases": 2, "waits": 4}
    assert [p.name for p in result.files] == [*FILES, "datapackage.json", "README.txt"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_pseudonymize_writes_the_three_tables(tmp_path: Path, mailbox: Path,
                                                 lang: str) -> None:
    code, out, err = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF,
                            lang=lang)
    written = {
        "fr": f"4 message(s), 2 dossier(s) et 4 attente(s) exportés dans {tmp_path / 'out'} : "
              "messages.csv, cases.csv, waits.csv, datapackage.json, README.txt.\n",
        "en": f"4 message(s), 2 case(s) and 4 wait(s) exported to {tmp_path / 'out'}: "
              "messages.csv, cases.csv, waits.csv, datapackage.json, README.txt.\n",
    }
    assert code == 0
    assert out == written[lang]
    assert err.endswith(WARNING[lang])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "README.txt", "cases.csv", "datapackage.json", "messages.csv", "waits.csv"]
    assert read(tmp_path, "messages.csv") == MESSAGES_CSV
    assert read(tmp_path, "cases.csv") == CASES_CSV
    assert read(tmp_path, "waits.csv") == WAITS_CSV


def test_warning_is_the_only_other_line_on_stderr(tmp_path: Path, mailbox: Path) -> None:
    code, _, err = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF)
    assert (code, err) == (0, IMPORT_LINES + WARNING["en"])


def test_hostile_subject_and_message_id_come_out_inert(tmp_path: Path, mailbox: Path) -> None:
    export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF)
    with (tmp_path / "out" / "messages.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    hostile = rows[-1]
    assert hostile["message_id"] == "'=1+1@exemple-perso.fr"
    assert hostile["subject"] == "'=HYPERLINK(\"http://evil.example\",\"clic\")"
    for name in ("messages.csv", "cases.csv", "waits.csv"):
        with (tmp_path / "out" / name).open(encoding="utf-8", newline="") as stream:
            cells = [c for row in csv.reader(stream) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], name
        assert not [c for c in cells if c[:1] == "-" and not c[1:2].isdigit()], name


def test_open_wait_has_no_answer_and_an_age(tmp_path: Path, mailbox: Path) -> None:
    export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF)
    with (tmp_path / "out" / "waits.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    opened = [r for r in rows if r["is_open"] == "true"]
    assert [(r["asked_message_id"], r["answered_at"], r["delay_seconds"],
             r["delay_working_days"], r["answer_message_id"], r["open_age_seconds"])
            for r in opened] == [
        ("q2@exemple-perso.fr", "", "", "", "", "1129560"),
        ("'=1+1@exemple-perso.fr", "", "", "", "", "273600"),
    ]


def test_filter_case(tmp_path: Path, mailbox: Path) -> None:
    code, _, _ = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF,
                        "--case", HOSTILE_CASE)
    assert code == 0
    assert read(tmp_path, "waits.csv") == WAITS_HEADER + WAITS_CSV.splitlines(True)[-1]
    assert read(tmp_path, "cases.csv") == CASES_HEADER + CASES_CSV.splitlines(True)[-1]


def test_filter_since(tmp_path: Path, mailbox: Path) -> None:
    code, _, _ = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF,
                        "--since", "01/03/2020")
    assert code == 0
    assert read(tmp_path, "messages.csv") == "".join(
        MESSAGES_CSV.splitlines(True)[i] for i in (0, 4))


def test_filter_until_reads_the_data_as_of_that_day(tmp_path: Path, mailbox: Path) -> None:
    # Cut at the end of Thu 20 Feb (Paris): the answer of Fri 21 Feb is not
    # there yet, and the wait is aged to 2020-02-20T22:59:59Z, not to today.
    code, _, _ = export(tmp_path, mailbox, "--no-pseudonymize", "--until", "2020-02-20")
    assert code == 0
    assert read(tmp_path, "waits.csv") == WAITS_HEADER + (
        "C-2ddbaa09,France Travail,france-travail,me,agency,2020-02-19T09:14:00Z,,,,135959,"
        "1.5736,"
        "q1@exemple-perso.fr,,0,false,true\n")


def test_filter_counterpart_ignores_case_and_accents(tmp_path: Path, mailbox: Path) -> None:
    code, _, _ = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF,
                        "--counterpart", "FRANCE TRAVAÏL")
    assert code == 0
    assert read(tmp_path, "waits.csv") == WAITS_CSV


@pytest.mark.parametrize(("args", "message"), [
    (("--counterpart", "CAF"),
     "Unknown counterpart: 'CAF'. Configured counterparts: France Travail.\n"),
    (("--case", "C-00000000"),
     "Unknown case: C-00000000. The command 'analyzer cases' lists the cases.\n"),
    (("--since", "19 février"),
     "Unreadable date: '19 février'. Write it 2020-02-19, 19/02/2020 or 2020-02-19T09:14 "
     "(local time, or with Z for UTC).\n"),
])
def test_bad_filters_are_usage_errors(tmp_path: Path, mailbox: Path, args: tuple[str, ...],
                                      message: str) -> None:
    code, out, err = export(tmp_path, mailbox, "--no-pseudonymize", *args)
    assert (code, out) == (2, "")
    assert err.endswith(message)
    assert not (tmp_path / "out").exists()


def test_report_honours_the_filters(tmp_path: Path, mailbox: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    code, out, _ = run("--lang", "en", "--store", store, "report", str(mailbox),
                       "--since", "2020-03-01", "--as-of", AS_OF)
    assert code == 0
    assert "│ France Travail │ agency │        1 │        0 │    1 │ 2020-03-02 │ 2020-03-02 │" \
        in out
    code, out, err = run("--lang", "en", "--store", store, "report", str(mailbox),
                         "--counterpart", "CAF")
    assert (code, out) == (2, "")
    assert err == "Unknown counterpart: 'CAF'. Configured counterparts: France Travail.\n"


def test_analysis_filters_and_as_of(tmp_path: Path, mailbox: Path) -> None:
    config = load_config(mailbox / "analyzer.toml")
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [mailbox], config)
    with Analysis.open(tmp_path / "s.sqlite", config) as analysis:
        # An as_of before the last message reads the data as it stood then
        # rather than raising.
        early = analysis.waits(as_of="2020-02-20T12:00:00Z")
        assert early[["asked_message_id", "is_open", "open_age_seconds"]].values.tolist() == [
            ["q1@exemple-perso.fr", True, 96360.0]]
        assert analysis.filtered(case=CASE)["message_id"].tolist() == [
            "q1@exemple-perso.fr", "r1@francetravail.fr", "q2@exemple-perso.fr"]
        assert analysis.cases(as_of=AS_OF)["case_id"].tolist() == [CASE, HOSTILE_CASE]
        assert analysis.monthly(as_of=AS_OF)[["month", "responder", "waits", "open_waits"]
                                             ].values.tolist() == [
            ["2020-02", "agency", 1, 1], ["2020-02", "me", 1, 0], ["2020-03", "agency", 0, 1]]
        summary = analysis.counterparts(as_of=AS_OF)
        assert summary[["counterpart", "asymmetry"]].values.tolist() == [
            ["France Travail", 48.0], [None, 48.0]]
        assert analysis.deadlines(as_of=AS_OF).empty
        # A time without an offset is local (Paris): 12:00 there is 11:00 UTC.
        assert analysis.waits(as_of="2020-02-20T12:00:00")["open_age_seconds"].tolist() == [
            92760.0]
        with pytest.raises(UsageError):
            analysis.filtered(counterpart="CAF")


def test_journal_answer_closes_the_wait(tmp_path: Path, mailbox: Path) -> None:
    # An advisor's phone call marked as an answer ends my open wait; a note
    # that is no answer stays on the timeline only.
    journal = tmp_path / "journal.csv"
    journal.write_text("date,counterpart,direction,kind,note,case,answer\n"
                       "2020-02-24 10:30,France Travail,in,phone,Appel,<q2@exemple-perso.fr>,oui\n"
                       "2020-02-25 10:30,France Travail,in,letter,Courrier,q1@exemple-perso.fr,"
                       "non\n", "utf-8")
    config = load_config(mailbox / "analyzer.toml")
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [mailbox], config)
    with Analysis.open(tmp_path / "s.sqlite", config) as analysis:
        waits = analysis.waits(as_of=AS_OF, case=CASE, journal=journal)
        cases = analysis.cases(as_of=AS_OF, case=CASE, journal=journal)
    last = waits.iloc[2]
    assert (last["asked_message_id"], last["answer_message_id"].startswith("journal-"),
            last["delay_seconds"], bool(last["is_open"])) == (
        "q2@exemple-perso.fr", True, 256_560.0, False)
    assert cases[["messages", "journal_events", "open_waits"]].values.tolist() == [[3, 2, 1]]


@pytest.mark.parametrize("module", ["analyzer.export", "analyzer.analysis"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_unwritable_folder_is_one_line_exit_1(tmp_path: Path, mailbox: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    target = tmp_path / "file" / "out"
    code, out, err = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "export",
                         str(mailbox), "--out", str(target), "--no-pseudonymize")
    assert (code, out) == (1, "")
    assert err.endswith(f"Cannot write to {target}: Not a directory. Choose another "
                        "folder with --out.\n")


def test_bare_carriage_return_cannot_start_a_row(tmp_path: Path) -> None:
    from analyzer.export import Table, _write_csv

    frame = pd.DataFrame({"message_id": ["a"], "subject": ["Relance\r=2+5+cmd|' /C calc'!A0"]})
    _write_csv(tmp_path / "m.csv", Table("messages", ("message_id", "subject"), frame), "csv")
    with (tmp_path / "m.csv").open(encoding="utf-8", newline=None) as stream:
        rows = list(csv.reader(stream))
    assert rows == [["message_id", "subject"], ["a", "Relance\n=2+5+cmd|' /C calc'!A0"]]
