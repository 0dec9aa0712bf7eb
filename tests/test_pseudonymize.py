"""Pseudonymised exports: no seeded name, address, phone or dossier number
survives anywhere in the files; keyed identifiers line up for one key and
share nothing across keys; the key stays private; other formats round-trip."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli
from analyzer.pseudonymize import (
    Pseudonymizer,
    Scrubber,
    canonical_counterpart_id,
    fold,
    key_fingerprint,
    load_or_create_key,
)
from tests.builders import message, write_maildir

CONFIG = ('[me]\naddresses = ["julie.moreau@exemple-perso.fr"]\n'
          '[[counterpart]]\nname = "Pôle emploi"\nkind = "agency"\n'
          'domains = ["pole-emploi.fr"]\n'
          '[[counterpart]]\nname = "Cap Avenir Conseil"\nkind = "contractor"\n'
          'domains = ["capavenir-conseil.fr"]\n')
AS_OF = "2020-03-20T12:00:00Z"
ME = "Julie Moreau <julie.moreau@exemple-perso.fr>"

#: Every person and address seeded in the mailbox below: in display names,
#: recipients, signatures, greetings, quoted text, subjects, attachment
#: names, and names that appear in no header at all.
SEEDED_NAMES = (
    "Julie Moreau", "Julie", "Moreau", "Sandrine Lefebvre", "Sandrine", "Lefebvre",
    "Claire Dumont", "Dumont", "Hélène Faure", "Hélène", "Faure", "Noémie Barbier",
    "Noémie", "Barbier", "Karim Benali", "Benali", "Yann Caron", "Caron",
)
SEEDED_ADDRESSES = (
    "julie.moreau@exemple-perso.fr", "s.lefebvre@pole-emploi.fr",
    "ape.lestilleuls@pole-emploi.fr", "h.faure@capavenir-conseil.fr",
    "karim.benali@courriel-libre.fr", "n.barbier@pole-emploi.fr",
)
SEEDED_OTHER = ("06 12 34 56 78", "0612345678", "4521873", "2020021910000012")


def _with_attachment(base: bytes, filename: str) -> bytes:
    """``base`` (a text message from the builder) turned into a multipart
    message carrying an attachment called ``filename``."""
    head, _, body = base.decode("utf-8").partition("\n\n")
    head = "\n".join(line for line in head.split("\n")
                     if not line.startswith(("Content-Type", "Content-Transfer")))
    return (f"{head}\nContent-Type: multipart/mixed; boundary=XYZ\n\n--XYZ\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f"{body}\n--XYZ\nContent-Type: application/pdf\n"
            f'Content-Disposition: attachment; filename="{filename}"\n'
            "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--XYZ--\n").encode()


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    mail = tmp_path / "mail"
    write_maildir(mail, {
        "1.a:2,S": _with_attachment(message(
            message_id="<q1@exemple-perso.fr>", sender=ME,
            to="Sandrine Lefebvre <s.lefebvre@pole-emploi.fr>",
            subject="Attestation pour Julie Moreau, dossier n° 4521873",
            date="Wed, 19 Feb 2020 10:14:00 +0100",
            extra="Cc: Karim Benali <karim.benali@courriel-libre.fr>",
            body="Bonjour Madame Lefebvre,\n\nMon conseiller précédent, M. Yann Caron, m'a "
                 "dit d'écrire. Joignable au 06 12 34 56 78.\n\nCordialement,\nJulie Moreau\n"),
            "CV_Julie_Moreau.pdf"),
        "2.a:2,S": message(
            message_id="<r1@pole-emploi.fr>",
            sender="Agence Les Tilleuls <ape.lestilleuls@pole-emploi.fr>",
            to=ME, subject="RE: Attestation pour Julie Moreau [Ticket#2020021910000012]",
            date="Fri, 21 Feb 2020 10:14:00 +0100", in_reply_to="<q1@exemple-perso.fr>",
            references="<q1@exemple-perso.fr>",
            body="Bonjour Julie,\n\nMerci d'envoyer votre attestation à "
                 "n.barbier@pole-emploi.fr.\n\nCordialement,\nClaire Dumont\n"
                 "Conseillère\n\nLe 19 févr. 2020, Julie Moreau <julie.moreau@exemple-perso.fr>"
                 " a écrit :\n> Bonjour Madame Lefebvre,\n> Julie Moreau\n"),
        "3.a:2,S": message(
            message_id="<q2@exemple-perso.fr>", sender=ME,
            to="ape.lestilleuls@pole-emploi.fr",
            subject="Rendez-vous avec Mme Noémie Barbier (appel au 0612345678)",
            date="Fri, 21 Feb 2020 11:14:00 +0100", in_reply_to="<r1@pole-emploi.fr>",
            references="<q1@exemple-perso.fr> <r1@pole-emploi.fr>",
            body="Bonjour Claire,\n\nVoici l'attestation.\n\nJulie\n"),
        "4.a:2,S": message(
            message_id="<=1+1@exemple-perso.fr>", sender=ME,
            to="Hélène Faure <h.faure@capavenir-conseil.fr>",
            subject='=HYPERLINK("http://evil.example","clic")',
            date="Mon, 02 Mar 2020 09:00:00 +0100",
            body="Bonjour Hélène,\n\nQuand est notre prochain atelier ?\n\nJulie Moreau\n"),
        "5.a:2,S": message(
            message_id="<c1@capavenir-conseil.fr>",
            sender="Hélène Faure <h.faure@capavenir-conseil.fr>", to=ME,
            subject="Re: votre atelier avec Hélène", date="Wed, 04 Mar 2020 09:00:00 +0100",
            in_reply_to="<=1+1@exemple-perso.fr>", references="<=1+1@exemple-perso.fr>",
            body="Bonjour Madame Moreau,\n\nLe prochain atelier est jeudi.\n\nBien à vous,\n"
                 "Hélène Faure\nCoach emploi\n"),
    })
    (mail / "analyzer.toml").write_text(CONFIG, "utf-8")
    return mail


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ANALYZER_CONFIG": None})
    return result.exit_code, result.stdout, result.stderr


def export(tmp_path: Path, mailbox: Path, out: str, *args: str,
           key: str = "key") -> tuple[int, str, str]:
    return run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "export", str(mailbox),
               "--out", str(tmp_path / out), "--key-file", str(tmp_path / key),
               "--as-of", AS_OF, *args)


def rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def leaks(folder: Path) -> list[str]:
    """Every seeded name, address, phone or number found in any file of
    ``folder``, compared case-insensitively with accents folded."""
    found = []
    for path in sorted(folder.iterdir()):
        text = fold(_file_text(path))
        for seed in (*SEEDED_NAMES, *SEEDED_ADDRESSES, *SEEDED_OTHER):
            if fold(seed) in text:
                found.append(f"{path.name}: {seed}")
    return found


def _file_text(path: Path) -> str:
    """The text of an exported file: CSV and JSON as they are, an xlsx
    workbook's every zipped part, a Parquet file's every cell."""
    if path.suffix == ".xlsx":
        import zipfile

        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas().to_csv()
    return path.read_bytes().decode("utf-8-sig")


def test_default_export_holds_no_name_address_or_number(tmp_path: Path,
                                                        mailbox: Path) -> None:
    code, out, err = export(tmp_path, mailbox, "out")
    assert code == 0, err
    folder = tmp_path / "out"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt", "cases.csv", "datapackage.json", "messages.csv", "waits.csv"]
    assert leaks(folder) == []
    assert list(rows(folder, "messages")[0]) == [
        "message_id", "case_id", "ticket_id", "party", "counterpart", "counterpart_id",
        "automated", "automation_kind", "is_closure", "sent_at", "sender"]
    assert out == (f"5 message(s), 2 case(s) and 5 wait(s) exported to {folder}: messages.csv, "
                   "cases.csv, waits.csv, datapackage.json, README.txt.\n")
    fingerprint = key_fingerprint(load_or_create_key(tmp_path / "key"))
    assert err.endswith(f"Pseudonymised export: no address, no name, no identifier in clear "
                        f"(your key's fingerprint: {fingerprint}). Look it over before handing "
                        "it on.\n")


def test_export_with_subjects_is_scrubbed(tmp_path: Path, mailbox: Path) -> None:
    code, _, err = export(tmp_path, mailbox, "out", "--with-subjects")
    assert code == 0, err
    folder = tmp_path / "out"
    assert leaks(folder) == []
    messages = rows(folder, "messages")
    assert [(m["sender"].split("-person-")[0], m["subject"]) for m in messages] == [
        ("me", "Attestation pour [name], dossier n° [number]"),
        ("agency", "RE: Attestation pour [name] [Ticket#[number]]"),
        ("me", "Rendez-vous avec Mme [name] (appel au [phone])"),
        ("me", "'=HYPERLINK(\"http://evil.example\",\"clic\")"),
        ("contractor", "Re: votre atelier avec [name]"),
    ]
    # The shared agency address is signed by Claire Dumont: her pseudonym,
    # not the address's; the coach has hers.
    assert [m["sender"] for m in messages][1].startswith("agency-person-")
    assert len({m["sender"] for m in messages}) == 3


def test_hostile_subject_and_ids_are_inert(tmp_path: Path, mailbox: Path) -> None:
    export(tmp_path, mailbox, "out", "--with-subjects")
    for name in ("messages", "cases", "waits"):
        with (tmp_path / "out" / f"{name}.csv").open(encoding="utf-8", newline="") as stream:
            cells = [c for row in csv.reader(stream) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], name
        assert not [c for c in cells if c[:1] == "-" and not c[1:2].isdigit()], name


def test_identifiers_join_across_the_three_tables(tmp_path: Path, mailbox: Path) -> None:
    export(tmp_path, mailbox, "out")
    folder = tmp_path / "out"
    messages = rows(folder, "messages")
    ids = {m["message_id"] for m in messages}
    cases = {m["case_id"] for m in messages}
    waits = rows(folder, "waits")
    assert {w["asked_message_id"] for w in waits} <= ids
    assert {w["answer_message_id"] for w in waits} - {""} <= ids
    assert {w["case_id"] for w in waits} == cases == {c["case_id"] for c in rows(folder,
                                                                                  "cases")}
    assert all(i.startswith("m-") and len(i) == 18 for i in ids)
    assert all(c.startswith("case-") and len(c) == 17 for c in cases)
    assert {m["ticket_id"][:7] for m in messages if m["ticket_id"]} == {"ticket-"}
    # Pôle emploi, typed by hand, aggregates with the France Travail preset.
    assert {(m["counterpart"], m["counterpart_id"]) for m in messages} == {
        ("Pôle emploi", "france-travail"),
        ("Cap Avenir Conseil", "domains:capavenir-conseil.fr")}


def _identifiers(folder: Path) -> set[str]:
    values = set()
    for table, columns in (("messages", ("message_id", "case_id", "ticket_id", "sender")),
                           ("cases", ("case_id",)),
                           ("waits", ("case_id", "asked_message_id", "answer_message_id"))):
        for row in rows(folder, table):
            values |= {row[c] for c in columns if row[c] not in ("", "me")}
    return values


def test_same_key_same_pseudonyms_other_key_nothing_in_common(tmp_path: Path,
                                                              mailbox: Path) -> None:
    export(tmp_path, mailbox, "one")
    export(tmp_path, mailbox, "two")
    export(tmp_path, mailbox, "other", key="other-key")
    assert rows(tmp_path / "one", "messages") == rows(tmp_path / "two", "messages")
    assert rows(tmp_path / "one", "waits") == rows(tmp_path / "two", "waits")
    first, other = _identifiers(tmp_path / "one"), _identifiers(tmp_path / "other")
    assert len(first) == 10  # 5 messages, 2 cases, 1 ticket, 2 people
    assert first.isdisjoint(other)
    one = json.loads((tmp_path / "one" / "datapackage.json").read_text("utf-8"))["analyzer"]
    two = json.loads((tmp_path / "two" / "datapackage.json").read_text("utf-8"))["analyzer"]
    three = json.loads((tmp_path / "other" / "datapackage.json").read_text("utf-8"))["analyzer"]
    assert one["key_fingerprint"] == two["key_fingerprint"] != three["key_fingerprint"]
    assert one["export_id"] != two["export_id"]


def test_key_is_private_and_never_exported(tmp_path: Path, mailbox: Path) -> None:
    export(tmp_path, mailbox, "out", "--with-subjects")
    key_path = tmp_path / "key"
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    key = load_or_create_key(key_path)
    for path in (tmp_path / "out").iterdir():
        data = path.read_bytes()
        assert key.hex().encode() not in data and key not in data, path.name
    meta = json.loads((tmp_path / "out" / "datapackage.json").read_text("utf-8"))
    assert meta["analyzer"]["key_fingerprint"] == key_fingerprint(key)
    assert meta["analyzer"]["key_fingerprint"].startswith("sha256:")


def test_damaged_key_is_not_replaced(tmp_path: Path, mailbox: Path) -> None:
    (tmp_path / "key").write_text("not a key\n")
    code, out, err = export(tmp_path, mailbox, "out")
    assert (code, out) == (1, "")
    assert err.endswith(f"The pseudonymisation key {tmp_path / 'key'} is damaged (64 "
                        "hexadecimal digits expected); it was not replaced, so that your "
                        "exports stay linked. Restore it, or delete it to create a new one.\n")
    assert (tmp_path / "key").read_text() == "not a key\n"


def test_default_key_lives_in_the_user_data_folder(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    key = load_or_create_key()
    assert (tmp_path / "analyzer" / "export-key").read_text() == key.hex() + "\n"


def test_xlsx_round_trip(tmp_path: Path, mailbox: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    export(tmp_path, mailbox, "csv", "--with-subjects")
    code, out, err = export(tmp_path, mailbox, "xlsx", "--with-subjects", "--format", "xlsx")
    assert code == 0, err
    assert "messages.xlsx, cases.xlsx, waits.xlsx, datapackage.json, README.txt" in out
    assert leaks(tmp_path / "xlsx") == []
    for table in ("messages", "cases", "waits"):
        sheet = openpyxl.load_workbook(tmp_path / "xlsx" / f"{table}.xlsx")[table]
        got = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        expected = list(csv.reader(io.StringIO(
            (tmp_path / "csv" / f"{table}.csv").read_text("utf-8"))))
        assert got[0] == expected[0]
        for got_row, want_row in zip(got[1:], expected[1:], strict=True):
            assert [_as_csv(v) for v in got_row] == want_row
        text = fold(" ".join(str(v) for row in got for v in row))
        assert not [s for s in (*SEEDED_NAMES, *SEEDED_ADDRESSES, *SEEDED_OTHER)
                    if fold(s) in text]


def _as_csv(value: object) -> str:
    from datetime import datetime

    from analyzer.export import csv_value

    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(csv_value(value))


def test_parquet_round_trip(tmp_path: Path, mailbox: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pandas as pd

    export(tmp_path, mailbox, "csv")
    code, _, err = export(tmp_path, mailbox, "parquet", "--format", "parquet",
                          "--with-subjects")
    assert code == 0, err
    assert leaks(tmp_path / "parquet") == []
    for table in ("messages", "cases", "waits"):
        frame = pq.read_table(tmp_path / "parquet" / f"{table}.parquet").to_pandas()
        expected = rows(tmp_path / "csv", table)
        if table == "messages":
            frame = frame.drop(columns="subject")
        assert list(frame.columns) == list(expected[0])
        assert [[_as_csv(None if pd.isna(v) else (v.to_pydatetime() if isinstance(
            v, pd.Timestamp) else v)) for v in r] for r in frame.itertuples(index=False)] == [
            list(r.values()) for r in expected]
    assert str(pq.read_schema(tmp_path / "parquet" / "waits.parquet").field("asked_at").type
               ) == "timestamp[us, tz=UTC]"


def test_scrubber_examples() -> None:
    scrub = Scrubber.from_identities(["Hélène Le Gall", "Julie"], ["julie.m@x.fr"],
                                     keep=["France Travail"])
    assert scrub.scrub("Bonjour HELENE le gall, julie et JULIE.M@X.FR") == \
        "Bonjour [name], [name] et [email]"
    assert scrub.scrub("France Travail : appel du +33 6 12 34 56 78") == \
        "France Travail : appel du [phone]"
    assert scrub.scrub("Réf. AB-123456 et demande n° 42") == \
        "Réf. [number] et demande n° [number]"
    assert scrub.scrub(None) is None


def test_person_pseudonyms_follow_the_key() -> None:
    one, two = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert one.person("agency", "Claire Dumont") == one.person("agency", "CLAIRE  DUMONT")
    assert one.person("agency", "Claire Dumont") != two.person("agency", "Claire Dumont")
    assert one.person("contractor", "x")[:18] == "contractor-person-"
    assert one.person("me", None) == "me" and one.person("agency", None) is None


def test_canonical_ids() -> None:
    from analyzer.config import Counterpart

    assert canonical_counterpart_id(Counterpart("FT", "agency", ("francetravail.fr",),
                                                id="france-travail")) == "france-travail"
    assert canonical_counterpart_id(Counterpart("Pôle emploi", "agency",
                                                ("pole-emploi.fr",))) == "france-travail"
    assert canonical_counterpart_id(Counterpart("B", "contractor", ("b.fr", "a.fr"))) == \
        "domains:a.fr,b.fr"


@pytest.mark.parametrize("module", ["analyzer.pseudonymize"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
