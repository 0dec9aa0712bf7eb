"""``analyzer export``: refusal without pseudonymisation, exact CSV files,
filters shared with the report, cells no spreadsheet will run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.analysis import Analysis
from analyzer.cli import cli
from analyzer.config import load_config
from analyzer.errors import UsageError
from analyzer.export import ExportRefused, export_tables
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
    "message_id,case_id,ticket_id,party,counterpart,automated,automation_kind,is_closure,"
    "sent_at,from_addr,subject\n"
    "q1@exemple-perso.fr,C-2ddbaa09,,me,France Travail,false,,false,2020-02-19T09:14:00Z,"
    "julie.moreau@exemple-perso.fr,Ma situation\n"
    "r1@francetravail.fr,C-2ddbaa09,,agency,France Travail,false,,false,2020-02-21T09:14:00Z,"
    "s.lefebvre@francetravail.fr,RE: Ma situation\n"
    "q2@exemple-perso.fr,C-2ddbaa09,,me,France Travail,false,,false,2020-02-21T10:14:00Z,"
    "julie.moreau@exemple-perso.fr,Re: Ma situation\n"
    "'=1+1@exemple-perso.fr,C-4598305c,,me,France Travail,false,,false,2020-03-02T08:00:00Z,"
    "julie.moreau@exemple-perso.fr,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"clic\"\")\"\n"
)
CASES_HEADER = (
    "case_id,counterpart,messages,journal_events,undated_messages,tickets,reopens,closures,"
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
    "C-2ddbaa09,France Travail,3,0,0,0,0,0,1,2,1,0,0,0,172800,172800,3600,48,172800,1129560,"
    "agency,2020-02-19T09:14:00Z,2020-02-21T10:14:00Z,2,2,0.041667,48,2,9.073611\n"
    "C-4598305c,France Travail,1,0,0,0,0,0,0,0,1,0,0,0,,,,,,273600,agency,"
    "2020-03-02T08:00:00Z,2020-03-02T08:00:00Z,,,,,,3.166667\n"
)
WAITS_HEADER = (
    "case_id,counterpart,requester,responder,asked_at,answered_at,delay_seconds,"
    "delay_working_days,open_age_seconds,open_age_working_days,asked_message_id,"
    "answer_message_id,reminders,crosses_closure,is_open\n"
)
WAITS_CSV = WAITS_HEADER + (
    "C-2ddbaa09,France Travail,me,agency,2020-02-19T09:14:00Z,2020-02-21T09:14:00Z,172800,2,,,"
    "q1@exemple-perso.fr,r1@francetravail.fr,0,false,false\n"
    "C-2ddbaa09,France Travail,agency,me,2020-02-21T09:14:00Z,2020-02-21T10:14:00Z,3600,"
    "0.041667,,,r1@francetravail.fr,q2@exemple-perso.fr,0,false,false\n"
    "C-2ddbaa09,France Travail,me,agency,2020-02-21T10:14:00Z,,,,1129560,9.073611,"
    "q2@exemple-perso.fr,,0,false,true\n"
    "C-4598305c,France Travail,me,agency,2020-03-02T08:00:00Z,,,,273600,3.166667,"
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
REFUSAL = {
    "fr": "Export refusé : la pseudonymisation n'existe pas encore, rien n'a été écrit. Pour "
          "exporter vos données en clair, relancez avec --no-pseudonymize.\n",
    "en": "Export refused: pseudonymisation does not exist yet, nothing was written. To export "
          "your data unpseudonymised, run again with --no-pseudonymize.\n",
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
def test_plain_export_refuses_and_writes_nothing(tmp_path: Path, mailbox: Path,
                                                 lang: str) -> None:
    assert export(tmp_path, mailbox, lang=lang) == (1, "", REFUSAL[lang])
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "s.sqlite").exists()


def test_library_refuses_before_writing(tmp_path: Path, mailbox: Path) -> None:
    config = load_config(mailbox / "analyzer.toml")
    with Analysis.open(tmp_path / "s.sqlite", config) as a, \
            pytest.raises(ExportRefused) as caught:
        export_tables(a, tmp_path / "out", pseudonymize=True)
    assert caught.value.key == "export.pseudonymize_unavailable"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_pseudonymize_writes_the_three_tables(tmp_path: Path, mailbox: Path,
                                                 lang: str) -> None:
    code, out, err = export(tmp_path, mailbox, "--no-pseudonymize", "--as-of", AS_OF,
                            lang=lang)
    written = {
        "fr": f"4 message(s), 2 dossier(s) et 4 attente(s) exportés dans {tmp_path / 'out'} : "
              "messages.csv, cases.csv, waits.csv.\n",
        "en": f"4 message(s), 2 case(s) and 4 wait(s) exported to {tmp_path / 'out'}: "
              "messages.csv, cases.csv, waits.csv.\n",
    }
    assert code == 0
    assert out == written[lang]
    assert err.endswith(WARNING[lang])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "cases.csv", "messages.csv", "waits.csv"]
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
        "C-2ddbaa09,France Travail,me,agency,2020-02-19T09:14:00Z,,,,135959,1.5736,"
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
