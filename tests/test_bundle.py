"""The evidence bundle: exact contents, verifiable digests, safe names."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.bundle import MANIFEST, attachments_of
from analyzer.cases import case_id_for
from analyzer.cli import cli
from analyzer.store import Store
from tests.conftest import SAMPLE_MAILBOX
from tests.test_html_report import IMG, SCRIPT, hostile_mailbox

CONTROL = case_id_for("72DC1B6C1B12E8F2BDC97DC3F7A3F83B@EXMBX07.pole-emploi.fr")


def bundle(tmp_path: Path, mailbox: Path, case: str, lang: str = "fr",
           as_of: str = "2024-03-01") -> tuple[zipfile.ZipFile, str]:
    out = tmp_path / "bundle.zip"
    result = CliRunner().invoke(cli, [
        "--lang", lang, "--store", str(tmp_path / "s.sqlite"), "bundle", case, str(mailbox),
        "--out", str(out), "--as-of", as_of], env={"ANALYZER_CONFIG": None})
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out), result.stdout


def test_control_bundle_contents_are_exact(tmp_path: Path) -> None:
    archive, out = bundle(tmp_path, SAMPLE_MAILBOX, CONTROL)
    folder = CONTROL
    assert out == (f"Dossier de preuves écrit : {tmp_path / 'bundle.zip'} (16 fichiers, "
                   f"empreintes SHA-256 dans {folder}/SHA256SUMS).\n")
    assert archive.namelist() == [f"{folder}/{name}" for name in [
        "report.html", "chronology.csv", "documents-sent.csv",
        "messages/01-20200219-1114-agency.eml",
        "messages/02-20200219-1602-me.eml",
        "attachments/02-CV_Julie_Moreau_2020.pdf",
        "attachments/02-recapitulatif_candidatures.png",
        "messages/03-20200220-1031-me.eml",
        "attachments/03-convention_Ouvrage_PoleEmploi_2019.pdf",
        "attachments/03-attestation_entrepreneure_salariee_JMoreau.pdf",
        "messages/04-20200220-2147-me.eml",
        "attachments/04-candidature_oct2019.png",
        "attachments/04-prospection_janv2020.png",
        "messages/05-20200312-0920-me.eml",
        "messages/06-20200416-1403-agency.eml",
        MANIFEST,
    ]]


def test_manifest_verifies_every_file(tmp_path: Path) -> None:
    archive, _ = bundle(tmp_path, SAMPLE_MAILBOX, CONTROL)
    manifest = archive.read(f"{CONTROL}/{MANIFEST}").decode()
    listed = {}
    for line in manifest.splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {n.split("/", 1)[1] for n in archive.namelist()} - {MANIFEST}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256(archive.read(f"{CONTROL}/{name}")).hexdigest() == digest


def test_the_same_case_gives_the_same_bytes(tmp_path: Path) -> None:
    # The bundle's promise: digests a mediator can compare with a later copy.
    # The report page's chart used to name its SVG definitions at random.
    first, _ = bundle(tmp_path / "a", SAMPLE_MAILBOX, CONTROL)
    again, _ = bundle(tmp_path / "b", SAMPLE_MAILBOX, CONTROL)
    assert first.namelist() == again.namelist()
    for name in first.namelist():
        assert first.read(name) == again.read(name), name
    assert (tmp_path / "a" / "bundle.zip").read_bytes() == \
        (tmp_path / "b" / "bundle.zip").read_bytes()


def test_messages_are_the_stored_bytes(tmp_path: Path) -> None:
    archive, _ = bundle(tmp_path, SAMPLE_MAILBOX, CONTROL)
    with Store.open(tmp_path / "s.sqlite") as store:
        raw = store.raw_message("72DC1B6C1B12E8F2BDC97DC3F7A3F83B@EXMBX07.pole-emploi.fr")
    assert archive.read(f"{CONTROL}/messages/01-20200219-1114-agency.eml") == raw


def test_chronology_and_documents_sent(tmp_path: Path) -> None:
    archive, _ = bundle(tmp_path, SAMPLE_MAILBOX, CONTROL, lang="en")
    chronology = list(csv.reader(io.StringIO(
        archive.read(f"{CONTROL}/chronology.csv").decode())))
    assert chronology[0] == ["date", "conversation", "party", "display name", "address",
                             "subject", "ticket", "automated", "closure", "message_id",
                             "file", "attachments"]
    assert [row[2] for row in chronology[1:]] == ["agency", "me", "me", "me", "me", "agency"]
    assert chronology[-1][8] == "true"  # the closure
    documents = list(csv.reader(io.StringIO(
        archive.read(f"{CONTROL}/documents-sent.csv").decode())))
    assert documents[0] == ["date", "document", "size (bytes)", "sha256", "recipients",
                            "subject", "file"]
    assert [(row[0][:10], row[1]) for row in documents[1:]] == [
        ("2020-02-19", "attachments/02-CV_Julie_Moreau_2020.pdf"),
        ("2020-02-19", "attachments/02-recapitulatif_candidatures.png"),
        ("2020-02-20", "attachments/03-convention_Ouvrage_PoleEmploi_2019.pdf"),
        ("2020-02-20", "attachments/03-attestation_entrepreneure_salariee_JMoreau.pdf"),
        ("2020-02-20", "attachments/04-candidature_oct2019.png"),
        ("2020-02-20", "attachments/04-prospection_janv2020.png"),
    ]
    for row in documents[1:]:
        assert hashlib.sha256(archive.read(f"{CONTROL}/{row[1]}")).hexdigest() == row[3]
    page = archive.read(f"{CONTROL}/report.html").decode()
    assert page.count('<section class="case"') == 1 and "<svg " in page


def test_hostile_names_stay_inside_and_inert(tmp_path: Path) -> None:
    mailbox = hostile_mailbox(tmp_path)
    case = case_id_for("hostile-1@exemple-perso.fr")
    archive, _ = bundle(tmp_path, mailbox, case, as_of="2024-03-20")
    names = archive.namelist()
    assert f"{case}/attachments/01-passwd" in names
    for name in names:
        assert name.startswith(f"{case}/") and ".." not in name and not name.startswith("/")
    assert archive.read(f"{case}/attachments/01-passwd") == b"root:x:0:0"
    page = archive.read(f"{case}/report.html").decode()
    assert SCRIPT not in page and IMG not in page
    chronology = archive.read(f"{case}/chronology.csv").decode()
    assert SCRIPT in chronology  # plain text in a CSV; no leading formula character


def test_unknown_case_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "--lang", "en", "--store", str(tmp_path / "s.sqlite"), "bundle", "C-nope",
        str(SAMPLE_MAILBOX), "--out", str(tmp_path / "b.zip")], env={"ANALYZER_CONFIG": None})
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2, "Unknown case: C-nope. The command 'analyzer cases' lists the cases.")
    assert not (tmp_path / "b.zip").exists()


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("/abs/x.pdf", "x.pdf"),
    ("..", "attachment"), ("a\x00b.pdf", "a_b.pdf"),
])
def test_attachment_names_are_sanitised(name: str, expected: str) -> None:
    raw = ("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
           "--b\nContent-Type: application/octet-stream\n"
           f'Content-Disposition: attachment; filename="{name}"\n\nx\n--b--\n').encode()
    assert [a.name for a in attachments_of(raw)] == [expected]


def test_docstring_examples() -> None:
    import doctest

    import analyzer.bundle

    # CI runs plain pytest, without --doctest-modules.
    assert doctest.testmod(analyzer.bundle).failed == 0
