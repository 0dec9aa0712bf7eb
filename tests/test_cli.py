"""The CLI contract: exact output and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli
from tests.builders import message, write_maildir
from tests.conftest import ROOT, SAMPLE_MAILBOX

GOLDEN = ROOT / "tests" / "golden"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env or {"ANALYZER_CONFIG": None})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_report_sample_mailbox_golden(tmp_path: Path, lang: str) -> None:
    store = tmp_path / "s.sqlite"
    # Pinned: the report ages open waits to --as-of (default: now).
    code, out, _ = run("--lang", lang, "--store", str(store), "report", str(SAMPLE_MAILBOX),
                       "--as-of", "2024-03-01")
    expected = (GOLDEN / f"report_sample_{lang}.txt").read_text("utf-8")
    assert code == 0
    assert out == expected.format(store=store, config=SAMPLE_MAILBOX / "analyzer.toml")


def test_second_report_reads_nothing(tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    run("--lang", "en", "--store", store, "report", str(SAMPLE_MAILBOX))
    code, _, err = run("--lang", "en", "--store", store, "report", str(SAMPLE_MAILBOX))
    assert (code, err) == (0, "")


def test_report_of_the_store_is_titled_with_whose_mail_it_is(tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    config = str(SAMPLE_MAILBOX / "analyzer.toml")
    run("--lang", "en", "--store", store, "--config", config, "import", str(SAMPLE_MAILBOX))
    code, out, _ = run("--lang", "en", "--store", store, "--config", config, "report",
                       "--as-of", "2024-03-01")
    assert code == 0
    assert out.splitlines()[:2] == [
        "analyzer report — julie.moreau@exemple-perso.fr, j.moreau@exemple-perso.fr",
        f"Store: {store}"]


def test_import_prints_summary(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    (tmp_path / "mail" / "notes.csv").write_text("a,b\n")
    config = tmp_path / "analyzer.toml"
    config.write_text('[me]\naddresses = ["julie.moreau@exemple-perso.fr"]\n'
                      '[[counterpart]]\nname = "France Travail"\nkind = "agency"\n'
                      'domains = ["francetravail.fr"]\n')
    code, out, err = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "--config",
                         str(config), "import", str(tmp_path / "mail"))
    notes = (tmp_path / "mail" / "notes.csv").resolve()
    assert (code, err) == (0, "")
    assert out == (
        "Import finished: 1 message(s) read, 1 new, 0 already in the store, 1 exchanged with "
        "a counterpart.\n"
        "Sources: 1 (0 unchanged).\n"
        "1 file(s) skipped (not messages):\n"
        f"  {notes} (does not start with message headers)\n"
    )


def test_bad_config_is_one_line_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "analyzer.toml"
    config.write_text('[[counterpart]]\nname = "X"\nkind = "firm"\ndomains = ["x.fr"]\n')
    code, out, err = run("--lang", "fr", "--store", str(tmp_path / "s.sqlite"), "--config",
                         str(config), "import", str(SAMPLE_MAILBOX))
    assert (code, out) == (1, "")
    assert err == (f"Configuration {config} : la clé « counterpart[0].kind » est invalide ; "
                   "attendu : 'agency' or 'contractor'.\n")


def test_foreign_store_refused_exit_1(tmp_path: Path) -> None:
    store = tmp_path / "thesis.docx"
    store.write_bytes(b"PK\x03\x04 not a database")
    code, _, err = run("--lang", "en", "--store", str(store), "--config",
                       str(SAMPLE_MAILBOX / "analyzer.toml"), "import", str(SAMPLE_MAILBOX))
    assert code == 1
    assert err == (f"The file {store} is not an analyzer store (not even SQLite). It was left "
                   "untouched; choose another path with --store.\n")
    assert store.read_bytes() == b"PK\x03\x04 not a database"


def test_missing_path_is_usage_error_exit_2(tmp_path: Path) -> None:
    code, _, err = run("--store", str(tmp_path / "s.sqlite"), "import", str(tmp_path / "nope"))
    assert code == 2
    assert err.splitlines()[-1] == (
        f"Error: Invalid value for 'PATHS...': Path '{tmp_path / 'nope'}' does not exist.")


def test_import_without_path_is_usage_error() -> None:
    code, _, err = run("import")
    assert code == 2
    assert err.splitlines()[-1] == "Error: Missing argument 'PATHS...'."


def test_no_config_warns_and_classifies_everything_other(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    code, out, err = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "--config", "",
                         "import", str(tmp_path / "mail"))
    assert code == 0
    assert err == ("No configuration found: every correspondent will be classified 'other'. "
                   "Create an analyzer.toml file (see the README).\n")
    assert out.startswith("Import finished: 1 message(s) read, 1 new")


def test_debug_shows_traceback(tmp_path: Path) -> None:
    store = tmp_path / "bad.sqlite"
    store.write_text("nope")
    code, _, err = run("--debug", "--lang", "en", "--store", str(store), "--config", "",
                       "import", str(SAMPLE_MAILBOX))
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert err.endswith("choose another path with --store.\n")


def test_report_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", {"1.x:2,S": message()})
    config = tmp_path / "mail" / "analyzer.toml"
    config.write_text('[[counterpart]]\nname = "<script>alert(1)</script>"\nkind = "agency"\n'
                      'domains = ["francetravail.fr"]\n')
    html = tmp_path / "report.html"
    code, _, _ = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "report",
                     str(tmp_path / "mail"), "--html", str(html))
    text = html.read_text("utf-8")
    assert code == 0
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "http:" not in text and "https:" not in text


def test_python_dash_m_works() -> None:
    result = subprocess.run([sys.executable, "-m", "analyzer", "--help"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: analyzer [OPTIONS] COMMAND [ARGS]...")


def test_importing_package_does_not_import_cli_or_pandas() -> None:
    code = ("import sys, analyzer; "
            "print('analyzer.cli' in sys.modules, 'pandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "False False\n"


def test_import_command_does_not_import_pandas(tmp_path: Path) -> None:
    # Importing reads and writes mail only; loading pandas would add about
    # half a second to every import and re-import.
    code = ("import sys\n"
            "from analyzer.cli import cli\n"
            "cli.main(sys.argv[1:], standalone_mode=False)\n"
            "print('pandas' in sys.modules)")
    store = tmp_path / "s.sqlite"
    result = subprocess.run(
        [sys.executable, "-c", code, "--lang", "en", "--store", str(store), "--config",
         str(SAMPLE_MAILBOX / "analyzer.toml"), "import", str(SAMPLE_MAILBOX)],
        capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "False"
