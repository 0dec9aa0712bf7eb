"""Outlook files: .msg (extract-msg) and .pst/.ost (libpff-python) into the store.

The files in tests/data/outlook are real Outlook files (see its README). Tests
that read them skip, saying why, when the optional extra is not installed;
the routing and the missing-extra messages are tested without the extras.
"""

from __future__ import annotations

import email
import email.policy
import lzma
import shutil
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli
from analyzer.config import parse_config
from analyzer.errors import MissingExtraError
from analyzer.importer import import_paths
from analyzer.parse import parse_body, parse_headers
from analyzer.sources import OLE_MAGIC, PstFile, Skipped, Unit, walk
from analyzer.store import Store
from tests.builders import message

DATA = Path(__file__).parent / "data" / "outlook"
WITH_HEADERS = DATA / "outlook16-with-headers.msg"
WITHOUT_HEADERS = DATA / "reply-without-headers.msg"

CONFIG = parse_config({
    "me": {"addresses": ["julie.moreau@orange.fr"]},
    "counterpart": [{"name": "France Travail", "kind": "agency",
                     "domains": ["francetravail.fr"]},
                    {"name": "Ed", "kind": "contractor", "addresses": ["epfromer@gmail.com"]}],
})

# The mail items of the archive (its calendar entries are not mail), by folder.
PST_FOLDERS = {"Inbox": 10, "Sent Items": 2, "Deleted Items": 1, "Sync Issues": 1}


def _need(module: str, extra: str) -> None:
    pytest.importorskip(module, reason=f"the optional extra analyzer[{extra}] is not installed")


@pytest.fixture
def need_msg() -> None:
    _need("extract_msg", "outlook")


@pytest.fixture
def need_pst() -> None:
    _need("pypff", "pst")


@pytest.fixture(scope="session")
def pst_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outlook") / "archive.pst"
    path.write_bytes(lzma.decompress((DATA / "pstextractortest.ost.xz").read_bytes()))
    return path


def _headers(raw: bytes) -> tuple[str, list[str], list[str], str, str, str, str | None]:
    h = parse_headers(raw, None)
    return (h.message_id, h.in_reply_to, h.references, h.subject, h.from_addr, h.from_name,
            h.date_utc)


# -- routing (no extra needed) ------------------------------------------------


def test_only_the_compound_file_magic_routes_a_msg_to_outlook(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "plain.msg").write_bytes(message())  # mime4j-style RFC 822 text named .msg
    shutil.copy(WITHOUT_HEADERS, mail / "outlook.msg")
    (mail / "report.doc").write_bytes(OLE_MAGIC + bytes(504))  # a Word file, not mail
    (mail / "notes.msg").write_bytes(OLE_MAGIC[:4] + b"not quite")
    found = {Path(getattr(i, "path", "")).name: i for i in walk([mail])}
    assert found["plain.msg"] == Unit("file", str(mail), str(mail / "plain.msg"),
                                      f"file:{mail / 'plain.msg'}", "mail")
    assert found["outlook.msg"] == Unit("msg", str(mail), str(mail / "outlook.msg"),
                                        f"file:{mail / 'outlook.msg'}", "mail")
    assert found["report.doc"] == Skipped(str(mail / "report.doc"), "not_message")
    assert found["notes.msg"].kind == "file"  # type: ignore[union-attr]


def test_a_pst_is_recognised_by_its_magic_whatever_its_name(tmp_path: Path) -> None:
    (tmp_path / "backup.bak").write_bytes(b"!BDN" + bytes(60))
    assert list(walk([tmp_path])) == [PstFile(str(tmp_path / "backup.bak"))]


# -- missing extras -------------------------------------------------------------


@pytest.mark.parametrize(("module", "lang", "text"), [
    ("extract_msg", "fr",
     "a.msg est un message Outlook (.msg), et l'extension qui les lit n'est pas installée. "
     "Installez-la avec « pipx inject analyzer extract-msg » (ou « pip install extract-msg » "
     "si analyzer est installé avec pip), puis relancez la commande."),
    ("extract_msg", "en",
     "a.msg is an Outlook message (.msg), and the extension that reads them is not installed. "
     "Install it with \"pipx inject analyzer extract-msg\" (or \"pip install extract-msg\" "
     "where analyzer is installed with pip), then run the command again."),
    ("pypff", "fr",
     "a.msg est une archive Outlook (.pst/.ost), et l'extension qui les lit n'est pas "
     "installée. Installez-la avec « pipx inject analyzer libpff-python » (ou « pip install "
     "libpff-python » si analyzer est installé avec pip), puis relancez la commande."),
    ("pypff", "en",
     "a.msg is an Outlook archive (.pst/.ost), and the extension that reads them is not "
     "installed. Install it with \"pipx inject analyzer libpff-python\" (or \"pip install "
     "libpff-python\" where analyzer is installed with pip), then run the command again."),
])
def test_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch, module: str,
                                            lang: str, text: str) -> None:
    from analyzer.outlook import require

    monkeypatch.setitem(sys.modules, module, None)  # "import module" now raises ImportError
    with pytest.raises(MissingExtraError) as raised:
        require("msg" if module == "extract_msg" else "pst", "a.msg")
    assert raised.value.render(lang) == text


def test_missing_extra_stops_the_import_before_storing_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "a.eml").write_bytes(message())
    shutil.copy(WITHOUT_HEADERS, mail / "reply.msg")
    monkeypatch.setitem(sys.modules, "extract_msg", None)
    with Store.open(tmp_path / "s.sqlite") as store:
        with pytest.raises(MissingExtraError) as raised:
            import_paths(store, [mail], CONFIG)
        assert raised.value.params == {"path": str(mail / "reply.msg")}
        assert store.message_rows() == []


def test_missing_extra_through_the_cli_is_one_line_and_exit_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(WITHOUT_HEADERS, tmp_path / "reply.msg")
    monkeypatch.setitem(sys.modules, "extract_msg", None)
    result = CliRunner().invoke(cli, ["--lang", "en", "--store", str(tmp_path / "s.sqlite"),
                                      "import", str(tmp_path / "reply.msg")],
                                env={"ANALYZER_CONFIG": None})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"{tmp_path / 'reply.msg'} is an Outlook message (.msg), and the extension that reads "
        "them is not installed. Install it with \"pipx inject analyzer extract-msg\" (or \"pip "
        "install extract-msg\" where analyzer is installed with pip), then run the command "
        "again.")
    assert "Traceback" not in result.stderr


# -- .msg -------------------------------------------------------------------------


@pytest.mark.usefixtures("need_msg")
def test_msg_with_transport_headers_keeps_them() -> None:
    from analyzer.outlook import msg_to_rfc822

    raw = msg_to_rfc822(str(WITH_HEADERS))
    assert _headers(raw) == ("000001d3c2c0$e7ca4aa0$b75edfe0$@freiraum.xyz", [], [], "asdf",
                             "christoph@freiraum.xyz", "", "2018-03-23T16:06:29Z")
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    # The transport headers verbatim (folding included), their MIME headers
    # replaced by those of the rebuilt body.
    assert head.startswith(
        "Return-Path: <christoph@freiraum.xyz>\r\n"
        "Received: from DESKTOPGBT9Q6P (HSI-KBW-109-193-162-142.hsi7.kabel-badenwuerttemberg.de."
        " [109.193.162.142])\r\n        by smtp.gmail.com with ESMTPSA id "
        "q81sm10535131wmg.8.2018.03.23.09.06.30\r\n")
    assert "X-Mailer: Microsoft Outlook 16.0\r\nThread-Index: AdPCwN90aOYoV24DTGKfv8JaCuci0g==\r\n"\
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed;" in head
    assert head.count("Content-Type:") == 1 and "Content-Language" not in head
    body = parse_body(raw)
    assert [(a["filename"], a["content_type"]) for a in body.attachments] == [
        ("5AAoPFgV-nJ965R7o-98C38840-4454-4750-9AEF-F53DB3E37548.jpg", "image/jpeg")]
    assert msg_to_rfc822(str(WITH_HEADERS)) == raw  # same bytes every time


@pytest.mark.usefixtures("need_msg")
def test_msg_without_transport_headers_is_rebuilt_from_mapi_properties() -> None:
    from analyzer.outlook import msg_to_rfc822

    raw = msg_to_rfc822(str(WITHOUT_HEADERS))
    assert raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[:10] == [
        "Message-ID: <rep-4521.2@francetravail.fr>",
        "In-Reply-To: <dem-4521.1@orange.fr>",
        "References: <dem-4521.0@francetravail.fr> <dem-4521.1@orange.fr>",
        "Date: Tue, 05 Mar 2024 09:14:07 +0000",
        "From: =?utf-8?q?Agn=C3=A8s_Martin?= <agnes.martin@francetravail.fr>",
        "To: Julie Moreau <julie.moreau@orange.fr>",
        "Cc: Accueil <accueil@francetravail.fr>",
        "Subject: =?utf-8?q?RE=3A_Votre_demande_n=C2=B0_4521_=E2=80=94_pi=C3=A8ces_ju?=",
        " =?utf-8?q?stificatives?=",
        "MIME-Version: 1.0",
    ]
    assert _headers(raw) == ("rep-4521.2@francetravail.fr", ["dem-4521.1@orange.fr"],
                             ["dem-4521.0@francetravail.fr", "dem-4521.1@orange.fr"],
                             "RE: Votre demande n° 4521 — pièces justificatives",
                             "agnes.martin@francetravail.fr", "Agnès Martin",
                             "2024-03-05T09:14:07Z")
    body = parse_body(raw)
    assert body.text.replace("\r\n", "\n") == (
        "Bonjour Madame Moreau,\n\nNous avons bien reçu votre attestation.\n"
        "Votre dossier est complet.\n\nAgnès Martin\nConseillère\n")
    assert [a["filename"] for a in body.attachments] == ["accuse-reception.txt"]


@pytest.mark.usefixtures("need_msg")
def test_damaged_msg_is_listed_unreadable_and_the_rest_imported(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "broken.msg").write_bytes(OLE_MAGIC + b"\x00" * 600)
    (mail / "a.eml").write_bytes(message())
    with Store.open(tmp_path / "s.sqlite") as store:
        summary = import_paths(store, [mail], CONFIG)
    assert (summary.read, summary.new) == (1, 1)
    assert summary.skipped == [(str(mail / "broken.msg"), "unreadable")]


# -- .pst / .ost ----------------------------------------------------------------


@pytest.mark.usefixtures("need_pst")
def test_pst_lists_mail_items_with_their_folders(pst_file: Path) -> None:
    from analyzer.outlook import pst_units

    units = list(pst_units(str(pst_file)))
    folders: dict[str, int] = {}
    for unit in units:
        folders[unit.folder] = folders.get(unit.folder, 0) + 1
    assert folders == PST_FOLDERS
    first = next(u for u in units if u.offset == 2103460)
    assert first == Unit("pst", str(pst_file), str(pst_file), f"pst:{pst_file}#2103460",
                         "Inbox", offset=2103460, delivered_hint="2021-08-12T20:20:52Z")


@pytest.mark.usefixtures("need_pst")
def test_pst_items_as_rfc822(pst_file: Path) -> None:
    from analyzer.outlook import read_pst_unit

    received = read_pst_unit(str(pst_file), 2103460)  # kept its transport headers
    assert _headers(received) == ("9B23DDAE-EB58-4C34-96A6-177B7C388539@hxcore.ol", [], [],
                                  "test, no attachment", "epfromer@gmail.com", "Ed",
                                  "2021-08-12T20:20:45Z")
    assert received.startswith(b"Received: from DM6PR03MB3804.namprd03.prod.outlook.com "
                               b"(2603:10b6:5:44::26) by\r\n BN7PR03MB3762.namprd03.prod.")
    assert parse_body(received).text.strip() == "Sent from Mail for Windows"
    sent = read_pst_unit(str(pst_file), 2107588)  # Sent Items: MAPI properties only
    assert sent.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[:5] == [
        "Message-ID: <BN7PR03MB3762591C7DB74019D3D0C644CDF99@BN7PR03MB3762.namprd03.prod."
        "outlook.com>",
        "Date: Thu, 12 Aug 2021 20:41:29 +0000",
        "From: Pst Extractor <pstextractortest@outlook.com>",
        "To: epfromer@gmail.com",
        "Subject: meeting with attachments (jpg, pdf, text)",
    ]
    parsed = email.message_from_bytes(sent, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    # The first name is cut in the archive itself (PR_ATTACH_LONG_FILENAME).
    assert [(a.get_filename(), len(a.get_content())) for a in parsed.iter_attachments()] == [
        ("primoz-roglic-of-slovenia-and-team-jumbo-visma-red-leader-news-photo-162....jpg",
         79653), ("Clinometer Usage.pdf", 87069), ("text.txt", 18)]


# -- import and re-import -------------------------------------------------------


@pytest.fixture
def outlook_mail(tmp_path: Path, pst_file: Path) -> Path:
    _need("extract_msg", "outlook")
    _need("pypff", "pst")
    mail = tmp_path / "mail"
    mail.mkdir()
    shutil.copy(WITH_HEADERS, mail / "with-headers.msg")
    shutil.copy(WITHOUT_HEADERS, mail / "reply.msg")
    shutil.copy(pst_file, mail / "archive.pst")
    (mail / "plain.msg").write_bytes(message())
    return mail


def test_import_paths_stores_the_converted_bytes_and_reimport_skips(outlook_mail: Path,
                                                                     tmp_path: Path) -> None:
    from analyzer.outlook import msg_to_rfc822, read_pst_unit

    with Store.open(tmp_path / "s.sqlite") as store:
        first = import_paths(store, [outlook_mail], CONFIG)
        assert (first.read, first.new, first.duplicates, first.relevant) == (17, 17, 0, 10)
        assert (first.sources, first.skipped, first.broken) == (2, [], [])
        assert store.raw_message("rep-4521.2@francetravail.fr") == msg_to_rfc822(
            str(outlook_mail / "reply.msg"))
        assert store.raw_message("9B23DDAE-EB58-4C34-96A6-177B7C388539@hxcore.ol") == (
            read_pst_unit(str(outlook_mail / "archive.pst"), 2103460))
        kinds = sorted(loc.kind for row in store.message_rows()
                       for loc in store.locations_of(row["id"]))
        assert kinds == ["file", "msg", "msg"] + ["pst"] * 14
        second = import_paths(store, [outlook_mail], CONFIG)
    assert (second.read, second.new, second.unchanged, second.unchanged_sources) == (0, 0, 17, 1)


def test_unchanged_archive_is_not_opened_again(outlook_mail: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    archive = outlook_mail / "archive.pst"
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [archive], CONFIG)
        monkeypatch.setitem(sys.modules, "pypff", None)  # the extra is gone
        again = import_paths(store, [archive], CONFIG)
    assert (again.read, again.unchanged, again.unchanged_sources) == (0, 14, 1)


def test_cli_import_summary(outlook_mail: Path, tmp_path: Path) -> None:
    def run() -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--lang", "fr", "--store", str(tmp_path / "s.sqlite"),
                                          "import", str(outlook_mail)],
                                    env={"ANALYZER_CONFIG": None})
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run()
    assert code == 0
    assert out == ("Import terminé : 17 message(s) lu(s), 17 nouveau(x), 0 déjà dans la base, "
                   "0 échangé(s) avec un correspondant.\n"
                   "Sources : 2 (0 inchangée(s)).\n")
    code, out, _ = run()
    assert (code, out) == (0, "Import terminé : 0 message(s) lu(s), 0 nouveau(x), 17 déjà dans "
                              "la base, 0 échangé(s) avec un correspondant.\n"
                              "Sources : 2 (1 inchangée(s)).\n")


def test_import_workers_each_open_the_archive(outlook_mail: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer import importer

    monkeypatch.setattr(importer, "POOL_THRESHOLD", 1)  # two worker processes for 14 items
    with Store.open(tmp_path / "pool.sqlite") as pooled, Store.open(tmp_path / "one.sqlite") as one:
        summary = import_paths(pooled, [outlook_mail / "archive.pst"], CONFIG, workers=2)
        import_paths(one, [outlook_mail / "archive.pst"], CONFIG, workers=1)
        assert (summary.read, summary.new, summary.skipped) == (14, 14, [])
        for row in one.message_rows():
            assert pooled.raw_message(row["message_id"]) == one.raw_message(row["message_id"])


def test_reading_again_without_the_extra_says_what_to_install(
        outlook_mail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.importer import refresh_bodies

    nobody = parse_config({"me": {"addresses": ["julie.moreau@orange.fr"]}})
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [outlook_mail / "reply.msg"], nobody)  # headers only
        monkeypatch.setitem(sys.modules, "extract_msg", None)
        with pytest.raises(MissingExtraError) as raised:
            refresh_bodies(store, CONFIG)  # France Travail became a counterpart
    assert raised.value.key == "outlook.missing_msg"
