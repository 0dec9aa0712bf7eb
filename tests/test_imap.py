"""The IMAP fetcher against a real Dovecot (tests/dovecot.py), and its pure helpers.

No IMAP server is mocked: every fetch below talks to Dovecot over a loopback
socket. Each test has an account of its own.
"""

from __future__ import annotations

import doctest
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import analyzer.credentials
import analyzer.imap
from analyzer.cli import cli
from analyzer.config import Config, load_config, parse_config
from analyzer.credentials import ENV_VAR, Secret, get_password, secure_backends, token_from_command
from analyzer.errors import ConfigError, CredentialsError, ImapError
from analyzer.imap import (
    FetchSummary,
    ImapSettings,
    discover_on_server,
    fetch_imap,
    search_criteria,
    settings_from_config,
    watched_terms,
)
from analyzer.store import Store
from tests.builders import message
from tests.conftest import ROOT
from tests.dovecot import (
    ACCENTED_PASSWORD,
    ACCENTED_USER,
    PASSWORD,
    Account,
    Dovecot,
    dovecot,
    imap_account,
)

__all__ = ["dovecot", "imap_account"]  # fixtures, used by name

ME = "julie.moreau@exemple-perso.fr"
FT = ('[[counterpart]]\nname = "France Travail"\nkind = "agency"\n'
      'domains = ["francetravail.fr", "pole-emploi.fr"]\n'
      'addresses = ["planification@relais-rdv.fr"]\n')
ELAN = ('[[counterpart]]\nname = "Élan Parcours Conseil"\nkind = "contractor"\n'
        'domains = ["elanparcours-conseil.fr"]\n')

# The account's mail: folder → (Message-ID, sender, To, Cc). The comment on
# each line says whether the fetch must keep it with both counterparts.
MAILBOX: dict[str, list[tuple[str, str, str, str]]] = {
    "INBOX": [
        ("<in-ft@x>", "conseiller@francetravail.fr", ME, ""),             # in: From domain
        ("<in-friend@x>", "ami@webmail.example", ME, ""),                 # out
        ("<in-relais@x>", "planification@relais-rdv.fr", ME, ""),         # in: single address
        ("<in-sub@x>", "agence@agence.pole-emploi.fr", ME, ""),           # in: sub-domain
        ("<in-fake@x>", "promo@notfrancetravail.fr", ME, ""),             # out: substring only
        ("<in-cc@x>", "voisin@webmail.example", ME, "contact@francetravail.fr"),  # in: Cc
        ("<in-other-relais@x>", "autre@relais-rdv.fr", ME, ""),           # out: same domain
    ],
    "Sent": [
        ("<sent-ft@x>", ME, "contact@francetravail.fr", ""),              # in: To
        ("<sent-friend@x>", ME, "ami@webmail.example", ""),               # out
    ],
    "Junk": [
        ("<junk-elan@x>", "rdv@elanparcours-conseil.fr", ME, ""),         # in (contractor)
        ("<junk-spam@x>", "win@lottery.example", ME, ""),                 # out
    ],
    "Archives": [
        ("<in-ft@x>", "conseiller@francetravail.fr", ME, ""),             # in: same as INBOX
        ("<arch-pe@x>", "ne-pas-repondre@pole-emploi.fr", ME, ""),        # in
    ],
    "Éléments envoyés": [
        ("<envoye-elan@x>", ME, "conseillere@elanparcours-conseil.fr", ""),  # in (contractor)
    ],
    "Trash": [
        ("<trash-ft@x>", "agent@francetravail.fr", ME, ""),               # in
        ("<trash-shop@x>", "shop@boutique.example", ME, ""),              # out
    ],
}
WITH_FT = {"<in-ft@x>", "<in-relais@x>", "<in-sub@x>", "<in-cc@x>", "<sent-ft@x>",
           "<arch-pe@x>", "<trash-ft@x>"}
WITH_ELAN = {"<junk-elan@x>", "<envoye-elan@x>"}
EVERYTHING = {mid for msgs in MAILBOX.values() for mid, *_ in msgs}


def mail(mid: str, sender: str, to: str, cc: str = "", subject: str = "Mon dossier",
         body: str = "Bonjour,\n\nVoici ma réponse.\n") -> bytes:
    extra = f"Cc: {cc}" if cc else ""
    return message(message_id=mid, sender=sender, to=to, subject=subject, extra=extra,
                   body=body)


def seed(account: Account, mailbox: dict[str, list[tuple[str, str, str, str]]]) -> None:
    when = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
    with account.connect() as client:
        for folder, items in mailbox.items():
            client.multiappend(folder, [{"msg": mail(*item), "date": when} for item in items])


def write_config(tmp_path: Path, account: Account, *, counterparts: str = FT + ELAN,
                 imap: str = "", name: str = "analyzer.toml") -> Path:
    server = account.server
    if "port" not in imap:
        imap = f"port = {server.port}\ntls = false\n" + imap
    path = tmp_path / name
    path.write_text(f'[me]\naddresses = ["{ME}"]\n\n{counterparts}\n[imap]\n'
                    f'host = "{server.host}"\nuser = "{account.user}"\n{imap}', "utf-8")
    return path


def password(_: ImapSettings) -> Secret:
    return Secret("password", PASSWORD)


def fetch(store_path: Path, config_path: Path, **changes: Any) -> FetchSummary:
    from dataclasses import replace

    config = load_config(config_path)
    settings = replace(settings_from_config(config), **changes)
    with Store.open(store_path) as store:
        return fetch_imap(store, settings, config, credentials=password)


def stored_ids(store_path: Path) -> set[str]:
    """The Message-IDs in the store, with the angle brackets of the header."""
    with Store.open(store_path) as store:
        return {f"<{r[0]}>" for r in store.conn.execute("SELECT message_id FROM messages")}


def per_folder(summary: FetchSummary) -> dict[str, tuple[int, int, int, int]]:
    """folder → (matched, fetched, new, known)."""
    return {f.name: (f.matched, f.fetched, f.new, f.known) for f in summary.folders}


def run_cli(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    base: dict[str, str | None] = {"ANALYZER_CONFIG": None, ENV_VAR: PASSWORD}
    result = CliRunner().invoke(cli, list(args), env={**base, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def mailbox(imap_account: Account) -> Account:
    seed(imap_account, MAILBOX)
    return imap_account


# -- the filtered set ---------------------------------------------------------


def test_filtered_set_exact_sent_and_junk_included(mailbox: Account, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    summary = fetch(store, write_config(tmp_path, mailbox))
    assert stored_ids(store) == WITH_FT | WITH_ELAN
    assert per_folder(summary) == {
        "INBOX": (4, 5, 4, 0),          # the notfrancetravail.fr match is fetched, not kept
        "Archives": (2, 2, 1, 1),       # <in-ft@x> already stored from INBOX
        "Éléments envoyés": (1, 1, 1, 0),
        "Junk": (1, 1, 1, 0),
        "Sent": (1, 1, 1, 0),
        "Trash": (1, 1, 1, 0),
    }
    assert [f.name for f in summary.folders] == ["INBOX", "Archives", "Éléments envoyés",
                                                 "Junk", "Sent", "Trash"]
    assert {f.name: f.special_use for f in summary.folders}["Sent"] == "\\Sent"


def test_folder_recorded_per_message(mailbox: Account, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    fetch(store, write_config(tmp_path, mailbox))
    with Store.open(store) as opened:
        rows = opened.conn.execute(
            "SELECT m.message_id, l.folder, l.kind, l.uid, l.source, l.key FROM locations l "
            "JOIN messages m ON m.id = l.message_rowid").fetchall()
        bodies = opened.conn.execute("SELECT count(*) FROM bodies").fetchone()[0]
        delivered = opened.conn.execute(
            "SELECT DISTINCT delivered_utc FROM messages").fetchall()
    folders: dict[str, set[str]] = {}
    for mid, folder, kind, uid, source, key in rows:
        folders.setdefault(f"<{mid}>", set()).add(folder)
        assert kind == "imap"
        assert source == f"imap:{mailbox.user}@127.0.0.1/{folder}"
        assert key.startswith(source + "/") and key.endswith(f"/{uid}")
    assert folders == {
        "<in-ft@x>": {"INBOX", "Archives"}, "<in-relais@x>": {"INBOX"},
        "<in-sub@x>": {"INBOX"}, "<in-cc@x>": {"INBOX"}, "<sent-ft@x>": {"Sent"},
        "<arch-pe@x>": {"Archives"}, "<trash-ft@x>": {"Trash"},
        "<junk-elan@x>": {"Junk"}, "<envoye-elan@x>": {"Éléments envoyés"},
    }
    assert bodies == 9  # counterpart mail keeps its raw bytes and full parse
    assert [tuple(r) for r in delivered] == [("2024-03-04T09:30:00Z",)]  # INTERNALDATE


def flags_of(client: Any) -> dict[int, list[bytes]]:
    # \Recent belongs to the session that first sees a message, not to the message.
    return {uid: sorted(f for f in flags if f != b"\\Recent")
            for uid, flags in client.get_flags(client.search("ALL")).items()}


def test_fetch_never_changes_flags(mailbox: Account, tmp_path: Path) -> None:
    with mailbox.connect() as client:
        client.select_folder("INBOX")
        client.add_flags(client.search(["HEADER", "Message-ID", "<in-relais@x>"]),
                         [b"\\Flagged"])
        before = flags_of(client)
    fetch(tmp_path / "s.sqlite", write_config(tmp_path, mailbox))
    with mailbox.connect() as client:
        client.select_folder("INBOX", readonly=True)
        after = flags_of(client)
        unseen = client.search("UNSEEN")
    assert after == before
    assert sorted(before.values()) == [[]] * 6 + [[b"\\Flagged"]]
    assert len(unseen) == 7  # nothing was marked \Seen


def test_unselectable_parent_skipped_child_searched(imap_account: Account, tmp_path: Path
                                                    ) -> None:
    with imap_account.connect() as client:
        client.create_folder("Projets/2024")
        flags = {name: flags for flags, _, name in client.list_folders()}
    assert b"\\Noselect" in flags["Projets"] or b"\\NonExistent" in flags["Projets"]
    seed(imap_account, {"Projets/2024": [("<proj@x>", "agent@francetravail.fr", ME, "")]})
    summary = fetch(tmp_path / "s.sqlite", write_config(tmp_path, imap_account))
    assert "Projets" not in [f.name for f in summary.folders]
    assert per_folder(summary)["Projets/2024"] == (1, 1, 1, 0)


def test_no_secret_in_logs(mailbox: Account, tmp_path: Path,
                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fetch(tmp_path / "a.sqlite", write_config(tmp_path, mailbox))
    mailbox.server.tokens.valid["ya29.secret-token"] = mailbox.user
    config = write_config(tmp_path, mailbox, name="oauth.toml",
                          imap='token_command = ["printf", "ya29.secret-token"]\n')
    assert fetch_with_default_credentials(tmp_path / "b.sqlite", config).new == 9
    assert "imapclient" in caplog.text  # the IMAP conversation was logged at DEBUG...
    assert PASSWORD not in caplog.text and "secret-token" not in caplog.text  # ...redacted


def fetch_with_default_credentials(store_path: Path, config_path: Path) -> FetchSummary:
    config = load_config(config_path)
    with Store.open(store_path) as store:
        return fetch_imap(store, settings_from_config(config), config)


def test_unfiltered_fetches_everything_headers_only_for_unrelated(
        mailbox: Account, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    summary = fetch(store, write_config(tmp_path, mailbox), filter=False)
    assert stored_ids(store) == EVERYTHING
    assert summary.fetched == 16
    assert bodies_of(store) == WITH_FT | WITH_ELAN


# -- incremental runs -----------------------------------------------------------


def test_second_run_transfers_nothing(mailbox: Account, tmp_path: Path) -> None:
    store, config = tmp_path / "s.sqlite", write_config(tmp_path, mailbox)
    fetch(store, config)
    again = fetch(store, config)
    assert (again.matched, again.fetched, again.new, again.known, again.bytes) == (0, 0, 0, 0, 0)
    assert {f.rescan for f in again.folders} == {""}
    with Store.open(store) as opened:  # CONDSTORE was enabled: HIGHESTMODSEQ is kept
        assert opened.conn.execute(
            "SELECT count(*) FROM imap_state WHERE highestmodseq > 0").fetchone()[0] == 6
    assert stored_ids(store) == WITH_FT | WITH_ELAN


def test_new_mail_between_runs(mailbox: Account, tmp_path: Path) -> None:
    store, config = tmp_path / "s.sqlite", write_config(tmp_path, mailbox)
    fetch(store, config)
    seed(mailbox, {"INBOX": [("<late-ft@x>", "conseiller@francetravail.fr", ME, ""),
                             ("<late-friend@x>", "ami@webmail.example", ME, "")],
                   "Sent": [("<late-reply@x>", ME, "conseiller@francetravail.fr", "")]})
    again = fetch(store, config)
    assert per_folder(again) == {
        "INBOX": (1, 1, 1, 0), "Archives": (0, 0, 0, 0), "Éléments envoyés": (0, 0, 0, 0),
        "Junk": (0, 0, 0, 0), "Sent": (1, 1, 1, 0), "Trash": (0, 0, 0, 0)}
    assert stored_ids(store) == WITH_FT | WITH_ELAN | {"<late-ft@x>", "<late-reply@x>"}


def test_counterpart_added_between_runs_finds_old_mail(mailbox: Account, tmp_path: Path
                                                       ) -> None:
    store = tmp_path / "s.sqlite"
    first = fetch(store, write_config(tmp_path, mailbox, counterparts=FT))
    assert stored_ids(store) == WITH_FT
    assert first.new == 7
    again = fetch(store, write_config(tmp_path, mailbox, counterparts=FT + ELAN))
    assert stored_ids(store) == WITH_FT | WITH_ELAN
    assert {f.rescan for f in again.folders} == {"criteria"}
    # Searched again in full, but only the two new matches are downloaded, and
    # the server's substring match <in-fake@x> once more (it is never stored).
    assert (again.matched, again.fetched, again.new, again.known) == (10, 3, 2, 8)


def test_headers_only_mail_gains_content_when_its_counterpart_is_added(
        mailbox: Account, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    fetch(store, write_config(tmp_path, mailbox, counterparts=FT), filter=False)
    assert bodies_of(store) == WITH_FT
    again = fetch(store, write_config(tmp_path, mailbox, counterparts=FT + ELAN))
    assert (again.fetched, again.new) == (3, 0)  # the two Élan messages, <in-fake@x>
    assert bodies_of(store) == WITH_FT | WITH_ELAN


def bodies_of(store_path: Path) -> set[str]:
    with Store.open(store_path) as store:
        return {f"<{r[0]}>" for r in store.conn.execute(
            "SELECT m.message_id FROM messages m JOIN bodies b ON b.message_rowid = m.id")}


def test_uidvalidity_change_rescans_without_doubles(mailbox: Account, tmp_path: Path) -> None:
    store, config = tmp_path / "s.sqlite", write_config(tmp_path, mailbox)
    fetch(store, config)
    with mailbox.connect() as client:
        before = client.folder_status("Archives", [b"UIDVALIDITY"])[b"UIDVALIDITY"]
        client.delete_folder("Archives")
        client.create_folder("Archives")
        after = client.folder_status("Archives", [b"UIDVALIDITY"])[b"UIDVALIDITY"]
    assert after != before
    seed(mailbox, {"Archives": MAILBOX["Archives"]
                   + [("<arch-new@x>", "agent@francetravail.fr", ME, "")]})
    again = fetch(store, config)
    archives = next(f for f in again.folders if f.name == "Archives")
    assert (archives.rescan, archives.matched, archives.fetched, archives.new,
            archives.known) == ("uidvalidity", 3, 3, 1, 2)
    assert stored_ids(store) == WITH_FT | WITH_ELAN | {"<arch-new@x>"}
    with Store.open(store) as opened:
        keys = [r[0] for r in opened.conn.execute(
            "SELECT key FROM locations WHERE folder = 'Archives' ORDER BY key")]
        state = opened.conn.execute(
            "SELECT uidvalidity, last_uid FROM imap_state WHERE folder = 'Archives'").fetchone()
    assert len(keys) == 3 and all(f"/Archives/{after}/" in k for k in keys)
    assert tuple(state) == (after, 3)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_kill_mid_fetch_then_resume(imap_account: Account, tmp_path: Path) -> None:
    # Enough messages for the parsing worker processes to start (POOL_THRESHOLD).
    total = 420
    with imap_account.connect() as client:
        client.multiappend("INBOX", [
            mail(f"<bulk-{i}@x>", "conseiller@francetravail.fr", ME, body="x\n" * 200)
            for i in range(total)])
    config = write_config(tmp_path, imap_account, imap="batch_size = 4\n")
    store = tmp_path / "s.sqlite"
    env = {**os.environ, ENV_VAR: PASSWORD, "ANALYZER_CONFIG": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "--lang", "en", "--store", str(store),
         "--config", str(config), "fetch"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stored_at_kill = 0
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if store.exists():
                with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
                    with_state = conn.execute(
                        "SELECT count(*) FROM sqlite_master WHERE name = 'imap_state'"
                    ).fetchone()[0]
                    if with_state:
                        stored_at_kill = conn.execute(
                            "SELECT count(*) FROM locations").fetchone()[0]
                if stored_at_kill >= 4:
                    process.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.002)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert 4 <= stored_at_kill < total
    for _ in range(100):  # the parsing workers die with the fetching process
        if not _processes_mentioning(str(store)):
            break
        time.sleep(0.02)
    assert _processes_mentioning(str(store)) == []
    with Store.open(store) as opened:
        assert opened.check_integrity() == "ok"
        stored = opened.count_messages()
        last_uid = opened.conn.execute(
            "SELECT last_uid FROM imap_state WHERE folder = 'INBOX'").fetchone()[0]
    # The state moved with each committed batch: exactly what is stored is covered.
    assert stored >= stored_at_kill and last_uid == stored
    code, out, err = run_cli("--lang", "en", "--store", str(store), "--config", str(config),
                             "fetch")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"Fetch finished ({imap_account.user}@127.0.0.1): 6 folder(s), "
        f"{total - stored} message(s) found on the server, {total - stored} new, "
        "0 already in the store.")
    with Store.open(store) as opened:
        assert opened.count_messages() == total
        assert opened.conn.execute("SELECT count(*) FROM locations").fetchone()[0] == total
        assert opened.conn.execute("SELECT count(*) FROM bodies").fetchone()[0] == total


# -- the command line -----------------------------------------------------------


def test_cli_fetch_prints_summary(mailbox: Account, tmp_path: Path) -> None:
    config, store = write_config(tmp_path, mailbox), tmp_path / "s.sqlite"
    code, out, err = run_cli("--lang", "fr", "--store", str(store), "--config", str(config),
                             "fetch")
    assert (code, err) == (0, "")
    assert out == (
        f"Relève terminée ({mailbox.user}@127.0.0.1) : 6 dossier(s), 10 message(s) trouvé(s) "
        "sur le serveur, 9 nouveau(x), 1 déjà dans la base.\n"
        "  INBOX : 4 trouvé(s), 4 nouveau(x), 0 déjà dans la base\n"
        "  Archives : 2 trouvé(s), 1 nouveau(x), 1 déjà dans la base\n"
        "  Éléments envoyés : 1 trouvé(s), 1 nouveau(x), 0 déjà dans la base\n"
        "  Junk : 1 trouvé(s), 1 nouveau(x), 0 déjà dans la base\n"
        "  Sent : 1 trouvé(s), 1 nouveau(x), 0 déjà dans la base\n"
        "  Trash : 1 trouvé(s), 1 nouveau(x), 0 déjà dans la base\n"
    )
    # Nothing new: said as such, with what the store holds (the Archives copy
    # was the same message as one in INBOX).
    code, out, err = run_cli("--lang", "fr", "--store", str(store), "--config", str(config),
                             "fetch")
    assert (code, out, err) == (0, (
        f"Relève terminée ({mailbox.user}@127.0.0.1) : 6 dossier(s), aucun nouveau message "
        "sur le serveur depuis la dernière relève ; 9 message(s) dans la base.\n"), "")
    config.write_text(config.read_text("utf-8").replace(ELAN, ""), "utf-8")
    code, out, _ = run_cli("--lang", "en", "--store", str(store), "--config", str(config),
                           "fetch")
    assert code == 0
    assert out.splitlines()[1:3] == [
        "  INBOX: 4 found, 0 new, 4 already in the store (counterparts changed: folder "
        "searched again in full)",
        "  Archives: 2 found, 0 new, 2 already in the store (counterparts changed: folder "
        "searched again in full)",
    ]


def test_cli_fetch_all_flag(mailbox: Account, tmp_path: Path) -> None:
    config, store = write_config(tmp_path, mailbox), tmp_path / "s.sqlite"
    code, out, _ = run_cli("--lang", "en", "--store", str(store), "--config", str(config),
                           "fetch", "--all")
    assert code == 0
    assert out.splitlines()[0] == (
        f"Fetch finished ({mailbox.user}@127.0.0.1): 6 folder(s), 16 message(s) found on "
        "the server, 15 new, 1 already in the store.")


@pytest.mark.parametrize("lang, expected", [
    ("fr", "Le serveur 127.0.0.1 a refusé l'identifiant ou le mot de passe de {user}. "
           "Vérifiez-les puis relancez.\n"),
    ("en", "The server 127.0.0.1 refused the login or password of {user}. "
           "Check them and run again.\n"),
])
def test_wrong_password(imap_account: Account, tmp_path: Path, lang: str, expected: str
                        ) -> None:
    config = write_config(tmp_path, imap_account)
    code, out, err = run_cli("--lang", lang, "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "fetch", env={ENV_VAR: "wrong"})
    assert (code, out) == (1, "")
    assert err == expected.format(user=imap_account.user)
    assert "wrong" not in err


def test_accented_password(dovecot: Dovecot, tmp_path: Path) -> None:
    account = Account(dovecot, ACCENTED_USER, ACCENTED_PASSWORD)
    seed(account, {"INBOX": MAILBOX["INBOX"]})
    config = write_config(tmp_path, account)
    code, out, err = run_cli("--lang", "en", "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "fetch", env={ENV_VAR: ACCENTED_PASSWORD})
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == "  INBOX: 4 found, 4 new, 0 already in the store"


def test_server_gone(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    config = tmp_path / "analyzer.toml"
    config.write_text(f'{FT}\n[imap]\nhost = "127.0.0.1"\nport = {port}\nuser = "u"\n'
                      "tls = false\n", "utf-8")
    code, out, err = run_cli("--lang", "en", "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "fetch")
    assert (code, out) == (1, "")
    assert err == (f"The IMAP server 127.0.0.1 does not answer on port {port} (connection "
                   "refused). Check host and port, or try again later.\n")


def test_timeout_is_one_line(tmp_path: Path) -> None:
    # A listening socket that never greets: the connection opens, no answer comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        config = tmp_path / "analyzer.toml"
        config.write_text(f'{FT}\n[imap]\nhost = "127.0.0.1"\nport = {port}\nuser = "u"\n'
                          "tls = false\ntimeout = 0.3\n", "utf-8")
        code, out, err = run_cli("--lang", "fr", "--store", str(tmp_path / "s.sqlite"),
                                 "--config", str(config), "fetch")
    assert (code, out) == (1, "")
    assert err == (f"Le serveur IMAP 127.0.0.1:{port} n'a pas répondu en 0.3 s. Réessayez "
                   "plus tard ; ce qui a déjà été relevé est conservé.\n")


def test_throttled_is_one_line(imap_account: Account, tmp_path: Path) -> None:
    # Dovecot's own limit (10 connections per user and IP) answers as Gmail's
    # and Outlook's limits do: a [LIMIT]-style refusal at login.
    held = [imap_account.connect() for _ in range(10)]
    try:
        code, out, err = run_cli("--lang", "fr", "--store", str(tmp_path / "s.sqlite"),
                                 "--config", str(write_config(tmp_path, imap_account)), "fetch")
    finally:
        for client in held:
            client.logout()
    assert (code, out) == (1, "")
    assert err == ("Le serveur IMAP 127.0.0.1 limite le nombre de requêtes pour ce compte. "
                   "Attendez quelques minutes puis relancez : la relève reprendra là où elle "
                   "s'est arrêtée.\n")


def test_disconnect_midway_is_one_line(mailbox: Account, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, mailbox))
    settings = settings_from_config(config)

    def cut(folder: str, done: int, total: int) -> None:
        if folder == "Archives":
            kick(mailbox)

    with Store.open(tmp_path / "s.sqlite") as store, pytest.raises(ImapError) as raised:
        fetch_imap(store, settings, config, credentials=password, progress=cut)
    assert raised.value.render("en") == (
        "The IMAP server 127.0.0.1 closed the connection. Run the fetch again: it will "
        "resume where it stopped.")
    assert stored_ids(tmp_path / "s.sqlite") == {"<in-ft@x>", "<in-relais@x>", "<in-sub@x>",
                                                 "<in-cc@x>"}
    fetch(tmp_path / "s.sqlite", write_config(tmp_path, mailbox))
    assert stored_ids(tmp_path / "s.sqlite") == WITH_FT | WITH_ELAN


def kick(account: Account) -> None:
    """Make Dovecot drop the account's connections (as a server restart would)."""
    server = account.server
    subprocess.run(["doveadm", "-c", str(server.root / "dovecot.conf"), "kick", account.user],
                   check=True, capture_output=True, **server.run_as())


# -- TLS ------------------------------------------------------------------------


def test_self_signed_trusted_through_ca_file(mailbox: Account, tmp_path: Path) -> None:
    server = mailbox.server
    implicit = write_config(tmp_path, mailbox, name="implicit.toml",
                            imap=f'port = {server.tls_port}\ntls = "implicit"\n'
                                 f'ca_file = "{server.ca_file}"\n')
    assert fetch(tmp_path / "a.sqlite", implicit).new == 9
    starttls = write_config(tmp_path, mailbox, name="starttls.toml",
                            imap=f'port = {server.port}\ntls = true\n'
                                 f'ca_file = "{server.ca_file}"\n')
    assert settings_from_config(load_config(starttls)).security == "starttls"
    assert fetch(tmp_path / "b.sqlite", starttls).new == 9


@pytest.mark.parametrize("tls", ['"implicit"', "true"])
def test_self_signed_refused_without_ca_file(imap_account: Account, tmp_path: Path,
                                             tls: str) -> None:
    server = imap_account.server
    port = server.tls_port if tls == '"implicit"' else server.port
    config = write_config(tmp_path, imap_account, imap=f"port = {port}\ntls = {tls}\n")
    code, out, err = run_cli("--lang", "en", "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "fetch")
    assert (code, out) == (1, "")
    assert err == (
        f"The certificate of the IMAP server 127.0.0.1:{port} is not trusted: the connection "
        "was refused for your safety. If the server is yours (local bridge, self-signed "
        "server), give its certificate: ca_file in the [imap] table of the configuration, "
        "or --ca-file for analyzer init.\n")


# -- XOAUTH2 ----------------------------------------------------------------------


def test_xoauth2_with_token_command(mailbox: Account, tmp_path: Path) -> None:
    server = mailbox.server
    server.tokens.valid["ya29.fresh-token"] = mailbox.user
    asked = server.tokens.requests
    config = write_config(tmp_path, mailbox,
                          imap='token_command = ["printf", "ya29.fresh-token\\n"]\n')
    code, out, err = run_cli("--lang", "en", "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "fetch", env={ENV_VAR: None})
    assert (code, err) == (0, "")
    assert out.splitlines()[0].endswith("9 new, 1 already in the store.")
    assert server.tokens.requests > asked  # Dovecot asked the introspection endpoint


def test_xoauth2_rejected_token(imap_account: Account, tmp_path: Path) -> None:
    config = write_config(tmp_path, imap_account,
                          imap='token_command = "echo expired-token"\n')
    code, out, err = run_cli("--lang", "fr", "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "fetch", env={ENV_VAR: None})
    assert (code, out) == (1, "")
    assert err == (f"Le serveur 127.0.0.1 a refusé le jeton OAuth2 de {imap_account.user} : "
                   "il a peut-être expiré ou ne donne pas accès à IMAP. Vérifiez la commande "
                   "token_command.\n")
    assert "expired-token" not in err


# -- discovery on the server -------------------------------------------------------


def test_discover_on_server_lists_unknown_senders(mailbox: Account, tmp_path: Path) -> None:
    with mailbox.connect() as client:
        for folder, mid, sender, to, subject, body in [
            ("INBOX", "<d1@x>", "Marc <marc@cabinet-insertion.example>", ME, "Votre parcours",
             "Votre conseiller France Travail nous a transmis votre dossier.\n"),
            ("INBOX", "<d2@x>", "marc@cabinet-insertion.example", ME, "Rendez-vous",
             "Atelier prévu avec Élan Parcours Conseil et France Travail.\n"),
            ("INBOX", "<d3@x>", "info@autre.example", ME, "Rien à voir", "Sans rapport.\n"),
            ("Sent", "<d4@x>", ME, "rh@employeur.example", "Candidature",
             "Je suis suivie par France Travail.\n"),
        ]:
            client.append(folder, mail(mid, sender, to, subject=subject, body=body))
    config = load_config(write_config(tmp_path, mailbox))
    candidates = discover_on_server(settings_from_config(config), config, password)
    summary = [(c.address, c.name, c.messages, c.mentions, c.folders, c.subjects)
               for c in candidates]
    # Counterpart and own addresses are left out; the match is on the body,
    # which was never downloaded (headers only).
    assert summary == [
        ("marc@cabinet-insertion.example", "Marc", 2, ("France Travail", "Élan Parcours Conseil"),
         ("INBOX",), ("Votre parcours", "Rendez-vous")),
        ("rh@employeur.example", "", 1, ("France Travail",), ("Sent",), ("Candidature",)),
    ]


# -- settings, credentials and pure helpers ------------------------------------------


def settings_of(imap: dict[str, Any]) -> ImapSettings:
    return settings_from_config(parse_config({"imap": imap}, Path("/home/j/analyzer.toml")))


def test_settings_defaults_and_tls_modes() -> None:
    assert settings_of({"host": "imap.free.fr", "user": "j"}) == ImapSettings(
        "imap.free.fr", "j", 993, "implicit")
    assert settings_of({"host": "h.fr", "user": "j", "port": 1143}).security == "starttls"
    assert settings_of({"host": "h.fr", "user": "j", "tls": "implicit", "port": 1993}).port \
        == 1993
    plain = settings_of({"host": "h.fr", "user": "j", "tls": False})
    assert (plain.port, plain.security, plain.plaintext_warning) == (143, "none", True)
    assert not settings_of({"host": "127.0.0.1", "user": "j", "tls": False}).plaintext_warning
    assert settings_of({"host": "h.fr", "user": "j", "ca_file": "ca.pem"}).ca_file == \
        Path("/home/j/ca.pem")


@pytest.mark.parametrize("imap, key, expected", [
    ({"host": "h.fr", "user": "j", "port": 0}, "imap.port", "an integer from 1 to 65535"),
    ({"host": "h.fr", "user": "j", "port": "993"}, "imap.port", "an integer from 1 to 65535"),
    ({"user": "j"}, "imap.host", 'the IMAP server name, such as "imap.example.org"'),
    ({"host": "h.fr"}, "imap.user", "the login name, a non-empty string"),
    ({"host": "h.fr", "user": "j", "tls": "yes"}, "imap.tls",
     'true, false, "implicit" or "starttls"'),
    ({"host": "h.fr", "user": "j", "folders": []}, "imap.folders",
     "a non-empty list of folder names"),
    ({"host": "h.fr", "user": "j", "timeout": -1}, "imap.timeout",
     "a number of seconds greater than 0"),
    ({"host": "h.fr", "user": "j", "password": "x"}, "imap.password",
     "one of host, port, user, tls, ca_file, folders, token_command, timeout, batch_size"),
])
def test_settings_errors_name_the_key(imap: dict[str, Any], key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_of(imap)
    assert raised.value.render("en") == (
        f"Configuration /home/j/analyzer.toml: key '{key}' is invalid; expected {expected}.")


def test_no_imap_table() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_config(Config())
    assert raised.value.render("fr") == (
        "Aucun compte IMAP dans la configuration <config> : ajoutez une table [imap] avec au "
        "moins host et user (voir le README).")


def test_criteria_or_tree_is_balanced_and_complete() -> None:
    config = parse_config({"counterpart": [
        {"name": "A", "domains": ["a.fr", "b.fr", "c.fr"], "addresses": ["x@a.fr"]}]})
    terms = watched_terms(config)
    assert terms == ["a.fr", "b.fr", "c.fr"]
    tree = search_criteria(terms)

    def leaves(node: list[Any]) -> list[tuple[str, str]]:
        if node[0] == "OR":
            assert len(node) == 3
            return leaves(node[1]) + leaves(node[2])
        return [(node[0], node[1])]

    def depth(node: list[Any]) -> int:
        return 1 + max(depth(node[1]), depth(node[2])) if node[0] == "OR" else 0

    assert leaves(tree) == [(k, t) for t in terms for k in ("FROM", "TO", "CC")]
    assert depth(tree) == 4  # 9 keys: ceil(log2(9))


class _Backend:
    priority = 1.0

    def __init__(self, value: str | None) -> None:
        self.value = value

    def get_password(self, service: str, user: str) -> str | None:
        return self.value


def _backend(module: str, name: str, value: str | None) -> Any:
    cls = type(name, (_Backend,), {"__module__": module})
    return cls(value)


def test_keyring_refuses_plaintext_and_fail_backends() -> None:
    plaintext = _backend("keyrings.alt.file", "PlaintextKeyring", "leaked")
    fail = _backend("keyring.backends.fail", "Keyring", None)
    secret_service = _backend("keyring.backends.SecretService", "Keyring", "from-keyring")
    chainer = _backend("keyring.backends.chainer", "ChainerBackend", None)
    chainer.backends = [plaintext, fail]
    assert secure_backends(plaintext) == [] and secure_backends(fail) == []
    assert secure_backends(chainer) == []
    chainer.backends = [plaintext, secret_service]
    assert secure_backends(chainer) == [secret_service]
    with pytest.raises(CredentialsError) as raised:
        get_password("h", "j", environ={}, backend=plaintext, interactive=False)
    assert raised.value.render("en") == (
        "No password for j on h: set the ANALYZER_IMAP_PASSWORD variable, save it in the "
        "system keyring, or run the command in a terminal to type it.")
    assert get_password("h", "j", environ={}, backend=chainer, interactive=False).value == \
        "from-keyring"
    assert get_password("h", "j", environ={ENV_VAR: "env"}, backend=chainer).value == "env"
    typed = get_password("h", "j", environ={}, backend=fail, interactive=True,
                         prompt=lambda text: f"typed for {text}", prompt_text="j@h? ")
    assert typed.value == "typed for j@h? "
    assert "typed" not in repr(typed)


def test_token_command_errors_show_no_secret() -> None:
    with pytest.raises(CredentialsError) as raised:
        token_from_command("exit 3 # client_secret=abc")
    assert raised.value.render("en") == (
        "The token command 'exit' failed (exit code 3). Run it yourself to see why.")
    with pytest.raises(CredentialsError) as raised:
        token_from_command(["/nonexistent/get-token", "--secret", "abc"])
    assert raised.value.render("en") == (
        "Cannot run the token command 'get-token' (token_command setting): check that it is "
        "installed and executable.")
    with pytest.raises(CredentialsError) as raised:
        token_from_command(["printf", '{"access_token": "abc"}'])
    assert "abc" not in raised.value.render("en")
    with pytest.raises(CredentialsError) as raised:
        token_from_command(["true"])
    assert raised.value.key == "credentials.token_empty"


@pytest.mark.parametrize("host, text, key", [
    ("imap.gmail.com", "[AUTHENTICATIONFAILED] Invalid credentials (Failure)",
     "credentials.rejected_gmail"),
    ("mail.example.org", "[ALERT] Application-specific password required",
     "credentials.rejected_gmail"),
    ("outlook.office365.com", "AUTHENTICATE failed.", "credentials.rejected_microsoft"),
    ("imap.free.fr", "[AUTHENTICATIONFAILED] Authentication failed.", "credentials.rejected"),
])
def test_login_refusal_hints(host: str, text: str, key: str) -> None:
    from analyzer.imap import _login_error

    error = _login_error(ImapSettings(host, "j"), Secret("password", "s3cr3t"), text)
    assert error.key == key
    assert "s3cr3t" not in error.render("fr") + error.render("en")


def test_gmail_hint_text() -> None:
    from analyzer.imap import _login_error

    error = _login_error(ImapSettings("imap.gmail.com", "julie"), Secret("password", "x"), "")
    assert error.render("en") == (
        "The server imap.gmail.com refused the password of julie: Gmail only accepts an app "
        "password (Google Account > Security) or OAuth2 (token_command setting) over IMAP.")


def test_missing_folder_is_named(mailbox: Account, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox, imap='folders = ["INBOX", "Boîte perso"]\n')
    with pytest.raises(ImapError) as raised:
        fetch(tmp_path / "s.sqlite", config)
    assert raised.value.render("fr") == (
        "Le dossier « Boîte perso » n'existe pas sur le serveur. Corrigez la liste folders de "
        "la table [imap].")


def test_explicit_folders_only(mailbox: Account, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox, imap='folders = ["inbox", "Éléments envoyés"]\n')
    summary = fetch(tmp_path / "s.sqlite", config)
    assert [f.name for f in summary.folders] == ["INBOX", "Éléments envoyés"]
    assert stored_ids(tmp_path / "s.sqlite") == {"<in-ft@x>", "<in-relais@x>", "<in-sub@x>",
                                                 "<in-cc@x>", "<envoye-elan@x>"}


@pytest.mark.parametrize("module", [analyzer.imap, analyzer.credentials])
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module)
    assert (result.failed, result.attempted > 3) == (0, True)


def test_cli_discover_imap_merges_server_candidates(mailbox: Account, tmp_path: Path) -> None:
    with mailbox.connect() as client:
        client.append("INBOX", mail("<d1@x>", "Marc <marc@cabinet-insertion.example>", ME,
                                    subject="Votre parcours",
                                    body="Votre conseiller France Travail nous a transmis "
                                         "votre dossier.\n"))
    config = write_config(tmp_path, mailbox)
    code, out, err = run_cli("--lang", "en", "--store", str(tmp_path / "s.sqlite"),
                             "--config", str(config), "discover", "--imap", "--csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "address,name,messages,reasons,examples",
        "marc@cabinet-insertion.example,Marc,1,server-mentions,Votre parcours",
    ]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "No message exchanged with CAF was found in the account {account}. Check your "
            "address and the services you chose, then run \"analyzer init\" again; if that "
            "mail is in another mailbox, run it for that one."),
     ("fr", "Aucun message échangé avec CAF n'a été trouvé dans le compte {account}. "
            "Vérifiez votre adresse et les services choisis, puis relancez « analyzer init » ; "
            "si ce courrier est dans une autre boîte, lancez-le pour celle-ci.")],
)
def test_cli_first_fetch_finding_nothing_says_so(mailbox: Account, tmp_path: Path, lang: str,
                                                 expected: str) -> None:
    caf = '[[counterpart]]\nname = "CAF"\nkind = "agency"\ndomains = ["caf.fr"]\n'
    config = write_config(tmp_path, mailbox, counterparts=caf)
    code, _, err = run_cli("--lang", lang, "--store", str(tmp_path / "s.sqlite"), "--config",
                           str(config), "fetch")
    account = settings_from_config(load_config(config)).account
    assert code == 1
    assert err.splitlines()[-1] == expected.format(account=account)
