"""`analyzer init` end to end against the test suite's real Dovecot
(tests/dovecot.py), driven through its prompts with click's test runner, and
every error a newcomer can meet, word for word in French and English.

No test reaches a real mail provider: a provider's settings are overridden
to point at the local Dovecot whenever the flow would connect.
"""

from __future__ import annotations

import doctest
import socket
import sqlite3
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import analyzer.onboarding
from analyzer.cli import cli
from analyzer.config import load_config
from analyzer.credentials import ENV_VAR
from analyzer.errors import StoreError
from analyzer.onboarding import disk_errors, guess_tls
from analyzer.store import Store
from tests.builders import message
from tests.dovecot import PASSWORD, Account, Dovecot, dovecot, imap_account

__all__ = ["dovecot", "imap_account"]  # fixtures, used by name

WHEN = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)


def seed(account: Account, items: list[tuple[str, str, str, str, int]]) -> None:
    """(folder, Message-ID, sender, recipient, day of March 2024) per message."""
    with account.connect() as client:
        client.list_folders()
        for folder, mid, sender, to, day in items:
            raw = message(message_id=mid, sender=sender, to=to, subject="Mon dossier",
                          date=f"{day:02d} Mar 2024 10:00:00 +0100")
            client.append(folder, raw, msg_time=WHEN.replace(day=day))


def run(*args: str, input: str | None = None, env: dict[str, str | None] | None = None
        ) -> Result:
    base: dict[str, str | None] = {"ANALYZER_CONFIG": None, ENV_VAR: None}
    return CliRunner().invoke(cli, list(args), input=input, env={**base, **(env or {})})


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def named_account(server: Dovecot, domain: str) -> Account:
    """An account whose login is an address at ``domain`` (Dovecot's static
    password database takes any login name)."""
    account = Account(server, f"julie.{uuid.uuid4().hex[:8]}@{domain}")
    with account.connect() as client:
        client.list_folders()
    return account


HEADER = {
    "fr": "# Configuration d'analyzer écrite par « analyzer init ». Modifiez-la librement : "
          "voir le README.\n# Aucun mot de passe n'est enregistré dans ce fichier.\n",
    "en": '# analyzer configuration, written by "analyzer init". Edit it freely: see the '
          "README.\n# No password is kept in this file.\n",
}
FT = ('[[counterpart]]\nid = "france-travail"\nname = "France Travail"\nkind = "agency"\n'
      'domains = ["francetravail.fr", "pole-emploi.fr", "pole-emploi.net"]\naddresses = []\n')
ANALYSIS = '[analysis]\ncountry = "FR"\ntimezone = "Europe/Paris"\n'


# -- end to end, through the prompts ------------------------------------------


def test_init_interactive_france_travail_in_french(imap_account: Account, tmp_path: Path
                                                   ) -> None:
    me, server = imap_account.user, imap_account.server
    seed(imap_account, [
        ("INBOX", "<ft1@x>", "conseiller@francetravail.fr", me, 4),
        ("Sent", "<ft2@x>", me, "contact@francetravail.fr", 5),
        ("INBOX", "<pe@x>", "ne-pas-repondre@pole-emploi.fr", me, 6),
        ("INBOX", "<friend@x>", "ami@webmail.example", me, 6),
    ])
    config, store, html = tmp_path / "analyzer.toml", tmp_path / "s.sqlite", tmp_path / "r.html"
    result = run("--lang", "fr", "--store", str(store), "init", "--config-out", str(config),
                 "--html", str(html),
                 input=answers(me, "", "127.0.0.1", str(server.port), "", "",
                               str(server.ca_file), "", PASSWORD, ""))
    assert result.exit_code == 0, result.stderr
    assert config.read_text("utf-8") == (
        HEADER["fr"] + f'\n[me]\naddresses = ["{me}"]\n\n' + FT + "\n" + ANALYSIS
        + f'\n[imap]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\n'
        f'user = "{me}"\nca_file = "{server.ca_file}"\n')
    assert load_config(config).counterparts[0].id == "france-travail"
    assert result.stderr == (
        "Bienvenue. Quelques questions pour préparer analyzer. Vos messages restent sur cet "
        "ordinateur : rien n'est envoyé ailleurs. Appuyez sur Entrée pour accepter la réponse "
        "proposée entre crochets.\n"
        f"Votre adresse e-mail (plusieurs : séparées par des virgules): {me}\n"
        "Avec quels services échangez-vous des e-mails ?\n"
        "  1. France Travail (ex-Pôle emploi)\n"
        "  2. CAF (allocations familiales, APL, RSA, prime d'activité)\n"
        "  3. Assurance Maladie (ameli, CPAM)\n"
        "  4. Impôts (DGFiP, impots.gouv.fr)\n"
        "  5. ANTS (titres : carte grise, permis, papiers d'identité)\n"
        "  6. Un autre organisme, ou une entreprise privée qui m'a écrit\n"
        "Numéros des services, séparés par des virgules [1]: \n"
        "Votre fournisseur de messagerie ne se devine pas d'après votre adresse. Ses réglages "
        "IMAP sont dans son aide en ligne (cherchez son nom et « IMAP »).\n"
        "Serveur IMAP (par exemple imap.exemple.fr): 127.0.0.1\n"
        f"Port [993]: {server.port}\n"
        "Chiffrement (implicit, starttls ou none) [starttls]: \n"
        f"Identifiant de connexion [{me}]: \n"
        "Fichier du certificat du serveur (pont local ou serveur auto-signé ; laissez vide "
        f"sinon): {server.ca_file}\n"
        f"Configuration écrite : {config} (sans aucun mot de passe).\n"
        "Tester la connexion maintenant (lecture seule : rien ne change dans votre boîte) ? "
        "[O/n]: \n"
        f"Mot de passe IMAP de {me} sur 127.0.0.1 : \n"
        "Connexion réussie : 3 message(s) échangé(s) avec ces services, dans 2 dossier(s), "
        "environ 1 Mo.\n"
        "Relever ces messages et afficher le rapport ? [O/n]: \n"
        f"Rapport enregistré. Ouvrez ce fichier dans votre navigateur : {html}\n")
    lines = result.stdout.splitlines()
    assert lines[0] == (f"Relève terminée ({me}@127.0.0.1) : 6 dossier(s), 3 message(s) "
                        "trouvé(s) sur le serveur, 3 nouveau(x), 0 déjà dans la base.")
    assert f"Configuration : {config}" in lines
    assert "│ France Travail │ organisme │        3 │     2 │       1 │ 04/03/2024 │ 06/03/2024 │" \
        in lines
    assert "│ moi         │        1 │" in lines and "│ autre       │        0 │" in lines
    assert "France Travail" in html.read_text("utf-8")


def test_init_interactive_several_services_and_a_firm_in_english(imap_account: Account,
                                                                tmp_path: Path) -> None:
    me, server = imap_account.user, imap_account.server
    seed(imap_account, [
        ("INBOX", "<ft@x>", "conseiller@francetravail.fr", me, 4),
        ("INBOX", "<caf@x>", "ne-pas-repondre@caf.fr", me, 5),
        ("Sent", "<firm@x>", me, "rdv@cabinet-exemple.fr", 6),
        ("INBOX", "<tax@x>", "ne-pas-repondre@dgfip.finances.gouv.fr", me, 7),  # not chosen
    ])
    config, html = tmp_path / "analyzer.toml", tmp_path / "report.html"
    result = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "init",
                 "--config-out", str(config), "--html", str(html),
                 input=answers("not-an-address", me, "1, 2 6",
                               "Cabinet Exemple", "", "cabinet-exemple.fr", "",
                               # The TLS port, and the encryption init proposes for it.
                               "127.0.0.1", str(server.tls_port), "", "",
                               str(server.ca_file), "y", PASSWORD, "yes"))
    assert result.exit_code == 0, result.stderr
    assert config.read_text("utf-8") == (
        HEADER["en"] + f'\n[me]\naddresses = ["{me}"]\n\n' + FT
        + '\n[[counterpart]]\nid = "caf"\nname = "CAF"\nkind = "agency"\n'
          'domains = ["caf.fr"]\naddresses = []\n'
        + '\n[[counterpart]]\nname = "Cabinet Exemple"\nkind = "contractor"\n'
          'domains = ["cabinet-exemple.fr"]\naddresses = []\n'
        + "\n" + ANALYSIS
        + f'\n[imap]\nhost = "127.0.0.1"\nport = {server.tls_port}\ntls = "implicit"\n'
          f'user = "{me}"\nca_file = "{server.ca_file}"\n')
    err = result.stderr.splitlines()
    assert "Encryption (implicit, starttls or none) [implicit]: " in err
    # A wrong answer is explained, then the question comes again.
    assert err[1:3] == [
        "Your email address (several: separated by commas): not-an-address",
        "Error: 'not-an-address' is not an email address. Type an address such as "
        "first.last@example.org (several: separated by commas).",
    ]
    assert "Is it a public body (1) or a private firm (2)? [2]: " in err
    assert "Add another organisation? [y/N]: " in err
    assert ("Connection works: 3 message(s) exchanged with these services, in 2 folder(s), "
            "about 1 MB.") in err
    lines = result.stdout.splitlines()
    assert lines[0] == (f"Fetch finished ({me}@127.0.0.1): 6 folder(s), 3 message(s) found "
                        "on the server, 3 new, 0 already in the store.")
    rows = [line for line in lines if line.startswith("│ ") and "2024-03-0" in line]
    assert rows[:3] == [
        "│ France Travail  │ agency     │        1 │        1 │    0 │ 2024-03-04 │ 2024-03-04 │",
        "│ CAF             │ agency     │        1 │        1 │    0 │ 2024-03-05 │ 2024-03-05 │",
        "│ Cabinet Exemple │ contractor │        1 │        0 │    1 │ 2024-03-06 │ 2024-03-06 │",
    ]


def test_guess_tls_listens_for_the_greeting(dovecot: Dovecot) -> None:
    assert guess_tls(dovecot.host, dovecot.port) == "starttls"  # greets in clear
    assert guess_tls(dovecot.host, dovecot.tls_port, timeout=1) == "implicit"  # waits for TLS
    with socket.socket() as unused:
        unused.bind((dovecot.host, 0))
        closed = unused.getsockname()[1]
    assert guess_tls(dovecot.host, closed) == "implicit"


def test_init_proton_bridge_asks_port_and_certificate(dovecot: Dovecot, tmp_path: Path
                                                     ) -> None:
    account = named_account(dovecot, "proton.me")
    me = account.user
    seed(account, [("INBOX", "<ameli@x>", "nepasrepondre@assurance-maladie.fr", me, 4)])
    config = tmp_path / "analyzer.toml"
    result = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "init",
                 "--config-out", str(config), "--html", str(tmp_path / "r.html"),
                 input=answers(me, "3", str(dovecot.port), str(dovecot.ca_file), "", PASSWORD,
                               ""))
    assert result.exit_code == 0, result.stderr
    err = result.stderr.splitlines()
    assert err[10:13] == [
        "Your mail provider: Proton Mail (Bridge) (server 127.0.0.1, port 1143, connection "
        "encrypted with STARTTLS).",
        "  Start Proton Mail Bridge: it shows the password to use (not your Proton one) and "
        "exports its certificate (Settings > Advanced > Export TLS certificates), to give as "
        "the certificate file.",
        f"Port [1143]: {dovecot.port}",
    ]
    assert config.read_text("utf-8").endswith(
        f'[imap]\nhost = "127.0.0.1"\nport = {dovecot.port}\ntls = "starttls"\nuser = "{me}"\n'
        f'ca_file = "{dovecot.ca_file}"\n')
    assert "│ Assurance Maladie │ agency │        1 │        1 │    0 │ 2024-03-04 │ 2024-03-04 │" \
        in result.stdout.splitlines()



class _MemoryKeyring:
    """A secure keyring backend (as the credentials module recognises one), in memory."""

    priority = 5.0

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, value: str) -> None:
        self.saved[(service, user)] = value

    def get_password(self, service: str, user: str) -> str | None:
        return self.saved.get((service, user))


_MemoryKeyring.__module__ = "keyring.backends.SecretService"


def test_typed_password_kept_in_the_secure_keyring(imap_account: Account, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import analyzer.credentials

    keyring = _MemoryKeyring()
    monkeypatch.setattr(analyzer.credentials, "_system_backend", lambda: keyring)
    me, server = imap_account.user, imap_account.server
    seed(imap_account, [("INBOX", "<ft@x>", "conseiller@francetravail.fr", me, 4)])
    config = tmp_path / "analyzer.toml"
    result = run("--lang", "en", "init", "--address", me, "--service", "france-travail",
                 "--imap-host", "127.0.0.1", "--imap-port", str(server.port), "--tls",
                 "starttls", "--imap-user", me, "--ca-file", str(server.ca_file),
                 "--config-out", str(config), "--no-fetch",
                 input=answers("", PASSWORD, ""))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-5:] == [
        f"IMAP password of {me} on 127.0.0.1: ",
        "Connection works: 1 message(s) exchanged with these services, in 1 folder(s), "
        "about 1 MB.",
        "Keep this password in the computer's secure keyring, so you need not type it again? "
        "[Y/n]: ",
        "Password kept in the computer's keyring (never in a plain-text file).",
        "To go on later: \"analyzer fetch\" fetches your mail, then \"analyzer report --html "
        "report.html\" makes the report.",
    ]
    assert keyring.saved == {("analyzer imap://127.0.0.1", me): PASSWORD}
    assert PASSWORD not in config.read_text("utf-8")
    # The next fetch finds it there: no prompt, no variable.
    fetched = run("--lang", "en", "--store", str(tmp_path / "s.sqlite"), "--config",
                  str(config), "fetch")
    assert (fetched.exit_code, fetched.stderr) == (0, "")
    assert fetched.stdout.splitlines()[0].endswith("1 new, 0 already in the store.")

# -- the non-interactive flags ----------------------------------------------------


def test_init_flags_only(imap_account: Account, tmp_path: Path) -> None:
    me, server = imap_account.user, imap_account.server
    seed(imap_account, [("INBOX", "<tax@x>", "ne-pas-repondre@dgfip.finances.gouv.fr", me, 4),
                        ("INBOX", "<firm@x>", "agent@prestataire.example", me, 5)])
    config, html = tmp_path / "analyzer.toml", tmp_path / "r.html"
    flags = ["--lang", "en", "--store", str(tmp_path / "s.sqlite"), "init", "--yes",
             "--address", me, "--service", "dgfip", "--service", "france-travail",
             "--other", "Prestataire=prestataire.example", "--imap-host", "127.0.0.1",
             "--imap-port", str(server.port), "--tls", "starttls",
             "--ca-file", str(server.ca_file), "--config-out", str(config),
             "--html", str(html)]
    result = run(*flags, env={ENV_VAR: PASSWORD})
    assert result.exit_code == 0, result.stderr
    assert config.read_text("utf-8") == (
        HEADER["en"] + f'\n[me]\naddresses = ["{me}"]\n\n'
        + '[[counterpart]]\nid = "dgfip"\nname = "Impôts (DGFiP)"\nkind = "agency"\n'
          'domains = ["dgfip.finances.gouv.fr", "impots.gouv.fr"]\naddresses = []\n\n' + FT
        + '\n[[counterpart]]\nname = "Prestataire"\nkind = "contractor"\n'
          'domains = ["prestataire.example"]\naddresses = []\n'
        + "\n" + ANALYSIS
        + f'\n[imap]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\n'
          f'user = "{me}"\nca_file = "{server.ca_file}"\n')
    assert result.stderr == (
        f"Configuration written: {config} (with no password in it).\n"
        "Connection works: 2 message(s) exchanged with these services, in 1 folder(s), "
        "about 1 MB.\n"
        f"Report saved. Open this file in your browser: {html}\n")
    assert result.stdout.splitlines()[0].endswith("2 new, 0 already in the store.")
    # Run again: the old configuration is kept beside the new one.
    again = run(*flags, "--no-test", env={ENV_VAR: PASSWORD})
    assert again.exit_code == 0, again.stderr
    assert again.stderr == (f"Configuration written: {config} (with no password in it).\n"
                            f"The old configuration is kept in {config}.bak.\n"
                            "To go on later: \"analyzer fetch\" fetches your mail, then "
                            "\"analyzer report --html report.html\" makes the report.\n")
    assert (tmp_path / "analyzer.toml.bak").read_text("utf-8") == config.read_text("utf-8")
    # Both name the user's account: theirs alone to read.
    assert [stat.S_IMODE(p.stat().st_mode) for p in (config, tmp_path / "analyzer.toml.bak")
            ] == [0o600, 0o600]


def test_init_flags_known_provider_without_network(tmp_path: Path) -> None:
    config = tmp_path / "analyzer.toml"
    result = run("--lang", "fr", "init", "--yes", "--address", "Julie.Moreau@Free.fr",
                 "--service", "caf", "--service", "ants", "--config-out", str(config),
                 "--no-test")
    assert result.exit_code == 0, result.stderr
    assert config.read_text("utf-8") == (
        HEADER["fr"] + '\n[me]\naddresses = ["julie.moreau@free.fr"]\n\n'
        '[[counterpart]]\nid = "caf"\nname = "CAF"\nkind = "agency"\n'
        'domains = ["caf.fr"]\naddresses = []\n\n'
        '[[counterpart]]\nid = "ants"\nname = "ANTS"\nkind = "agency"\n'
        'domains = ["ants.gouv.fr"]\naddresses = []\n\n' + ANALYSIS
        + '\n[imap]\nhost = "imap.free.fr"\nport = 993\ntls = "implicit"\n'
          'user = "julie.moreau"\n')
    assert result.stderr.splitlines()[:2] == [
        "Votre messagerie : Free (serveur imap.free.fr, port 993, connexion chiffrée).",
        "  Utilisez le mot de passe de votre messagerie Free ; l'identifiant est la partie de "
        "votre adresse avant le @.",
    ]
    assert "password" not in config.read_text("utf-8").lower()


@pytest.mark.parametrize("lang, text", [
    ("fr", "Outlook.com / Hotmail / Live n'accepte pas de mot de passe : la connexion n'a pas "
           "été testée. Outlook.com n'accepte plus de mot de passe en IMAP depuis septembre "
           "2024 : il faut une commande qui fournit un jeton OAuth2 (réglage token_command, "
           "voir le README), ou bien exportez vos messages depuis Outlook et importez le "
           "fichier."),
    ("en", "Outlook.com / Hotmail / Live accepts no password: the connection was not tested. "
           "Outlook.com no longer accepts passwords over IMAP since September 2024: it needs "
           "a command that prints an OAuth2 token (token_command setting, see the README), or "
           "export your mail from Outlook and import the file."),
])
def test_init_outlook_without_token_stops_before_the_test(tmp_path: Path, lang: str,
                                                          text: str) -> None:
    config = tmp_path / "analyzer.toml"
    result = run("--lang", lang, "init", "--yes", "--address", "julie@hotmail.fr",
                 "--config-out", str(config))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == text
    assert load_config(config).imap == {"host": "outlook.office365.com", "port": 993,
                                        "tls": "implicit", "user": "julie@hotmail.fr"}



# -- plain-language errors, word for word ---------------------------------------


def flags_for(account: Account, tmp_path: Path, *extra: str, port: int | None = None,
              lang: str = "fr") -> list[str]:
    server = account.server
    return ["--lang", lang, "--store", str(tmp_path / "s.sqlite"), "init", "--yes",
            "--address", account.user, "--imap-host", "127.0.0.1",
            "--imap-port", str(port or server.port), "--tls", "starttls",
            "--ca-file", str(server.ca_file), "--config-out", str(tmp_path / "analyzer.toml"),
            "--html", str(tmp_path / "r.html"), *extra]


def last_line(result: Result) -> str:
    return result.stderr.splitlines()[-1]


@pytest.mark.parametrize("lang, text", [
    ("fr", "Le serveur 127.0.0.1 a refusé l'identifiant ou le mot de passe de {user}. "
           "Vérifiez-les puis relancez."),
    ("en", "The server 127.0.0.1 refused the login or password of {user}. Check them and "
           "run again."),
])
def test_wrong_password(imap_account: Account, tmp_path: Path, lang: str, text: str) -> None:
    result = run(*flags_for(imap_account, tmp_path, lang=lang), env={ENV_VAR: "s3cr3t-typo"})
    assert result.exit_code == 1
    assert last_line(result) == text.format(user=imap_account.user)
    assert "s3cr3t" not in result.stderr


@pytest.mark.parametrize("lang, text", [
    ("fr", "Gmail a refusé le mot de passe de {user} : il faut un mot de passe d'application, "
           "pas votre mot de passe habituel. Gmail demande un « mot de passe d'application » : "
           "activez la validation en deux étapes sur myaccount.google.com/security, créez-le "
           "sur myaccount.google.com/apppasswords, et tapez-le à la place de votre mot de "
           "passe."),
    ("en", "Gmail refused the password of {user}: it needs an app password, not your usual "
           "password. Gmail needs an app password: turn on 2-Step Verification at "
           "myaccount.google.com/security, create one at myaccount.google.com/apppasswords, "
           "and type it instead of your password."),
])
def test_app_password_needed(imap_account: Account, tmp_path: Path, lang: str, text: str
                             ) -> None:
    # The Gmail entry, pointed at the local Dovecot: a refused password is
    # explained with Gmail's how-to.
    result = run(*flags_for(imap_account, tmp_path, "--provider", "gmail", lang=lang),
                 env={ENV_VAR: "my-usual-password"})
    assert result.exit_code == 1
    assert last_line(result) == text.format(user=imap_account.user)


@pytest.mark.parametrize("lang, text", [
    ("fr", "Le serveur IMAP 127.0.0.1 ne répond pas sur le port {port} (connexion refusée). "
           "Vérifiez host et port, ou réessayez plus tard."),
    ("en", "The IMAP server 127.0.0.1 does not answer on port {port} (connection refused). "
           "Check host and port, or try again later."),
])
def test_server_unreachable(imap_account: Account, tmp_path: Path, lang: str, text: str
                            ) -> None:
    port = closed_port()
    result = run(*flags_for(imap_account, tmp_path, port=port, lang=lang),
                 env={ENV_VAR: PASSWORD})
    assert result.exit_code == 1
    assert last_line(result) == text.format(port=port)
    # The configuration is written all the same: fixing it is one edit away.
    assert load_config(tmp_path / "analyzer.toml").imap["port"] == port


def test_debug_shows_the_technical_details(imap_account: Account, tmp_path: Path) -> None:
    port = closed_port()
    result = run("--debug", *flags_for(imap_account, tmp_path, port=port, lang="en"),
                 env={ENV_VAR: PASSWORD})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert last_line(result) == (f"The IMAP server 127.0.0.1 does not answer on port {port} "
                                 "(connection refused). Check host and port, or try again "
                                 "later.")


@pytest.mark.parametrize("lang, text", [
    ("fr", "Aucun message échangé avec CAF, Impôts (DGFiP) n'a été trouvé dans le compte "
           "{account}. Vérifiez votre adresse et les services choisis, puis relancez "
           "« analyzer init » ; si ce courrier est dans une autre boîte, lancez-le pour "
           "celle-ci."),
    ("en", "No message exchanged with CAF, Impôts (DGFiP) was found in the account {account}. "
           "Check your address and the services you chose, then run \"analyzer init\" again; "
           "if that mail is in another mailbox, run it for that one."),
])
def test_no_messages_for_these_services(imap_account: Account, tmp_path: Path, lang: str,
                                        text: str) -> None:
    seed(imap_account, [("INBOX", "<ft@x>", "conseiller@francetravail.fr",
                         imap_account.user, 4)])
    result = run(*flags_for(imap_account, tmp_path, "--service", "caf", "--service", "dgfip",
                            lang=lang), env={ENV_VAR: PASSWORD})
    assert result.exit_code == 1
    assert last_line(result) == text.format(account=f"{imap_account.user}@127.0.0.1")
    assert not (tmp_path / "s.sqlite").exists()  # nothing fetched


@pytest.mark.parametrize("lang, text", [
    ("fr", "Pas assez de place sur le disque pour relever ce courrier : il faut environ 51 Mo "
           "et il en reste 10 Mo là où la base est écrite ({path}). Libérez de la place ou "
           "choisissez un autre emplacement avec --store, puis relancez."),
    ("en", "Not enough disk space to fetch this mail: it needs about 51 MB and 10 MB are left "
           "where the store is written ({path}). Free some space or choose another place with "
           "--store, then run again."),
])
def test_mailbox_too_large_for_the_disk(imap_account: Account, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, lang: str, text: str
                                        ) -> None:
    seed(imap_account, [("INBOX", "<ft@x>", "conseiller@francetravail.fr",
                         imap_account.user, 4)])
    # 50 MB of margin plus twice the message's size, rounded up.
    usage = shutil_usage(free=10_000_000)
    monkeypatch.setattr(analyzer.onboarding.shutil, "disk_usage", lambda path: usage)
    result = run(*flags_for(imap_account, tmp_path, lang=lang), env={ENV_VAR: PASSWORD})
    assert result.exit_code == 1
    assert last_line(result) == text.format(path=tmp_path / "s.sqlite")
    assert not (tmp_path / "s.sqlite").exists()


def shutil_usage(free: int) -> Any:
    import shutil

    return shutil._ntuple_diskusage(100 * free, 99 * free, free)  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang, text", [
    ("fr", "Le disque est plein : la base {path} ne peut plus grandir. Ce qui a déjà été "
           "relevé est conservé ; libérez de la place puis relancez « analyzer fetch » pour "
           "finir."),
    ("en", "The disk is full: the store {path} cannot grow any more. What was already "
           "fetched is kept; free some space, then run \"analyzer fetch\" to finish."),
])
def test_disk_full_while_writing(tmp_path: Path, lang: str, text: str) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        # A real SQLITE_FULL: the database may not grow past its current pages.
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError) as raised, disk_errors(path):
            store.conn.execute("CREATE TABLE filler (x BLOB)")
            store.conn.execute("INSERT INTO filler VALUES (zeroblob(1000000))")
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    assert raised.value.render(lang) == text.format(path=path)
    with pytest.raises(StoreError) as raised, disk_errors(path):
        raise OSError(28, "No space left on device")
    assert raised.value.render(lang) == text.format(path=path)


@pytest.mark.parametrize("lang, text", [
    ("fr", "La base {path} a été écrite par une version plus récente d'analyzer (schéma 99, "
           "cette version lit jusqu'au {supported}). Mettez analyzer à jour."),
    ("en", "The store {path} was written by a newer analyzer (schema 99; this version reads "
           "up to {supported}). Please upgrade analyzer."),
])
def test_store_from_a_newer_version(imap_account: Account, tmp_path: Path, lang: str,
                                    text: str) -> None:
    from analyzer.store import SCHEMA_VERSION

    seed(imap_account, [("INBOX", "<ft@x>", "conseiller@francetravail.fr",
                         imap_account.user, 4)])
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = run(*flags_for(imap_account, tmp_path, lang=lang), env={ENV_VAR: PASSWORD})
    assert result.exit_code == 1
    assert last_line(result) == text.format(path=path, supported=SCHEMA_VERSION)


@pytest.mark.parametrize("args, lang, text", [
    ([], "fr", "Donnez votre adresse e-mail avec --address, ou lancez « analyzer init » sans "
               "--yes pour répondre aux questions."),
    ([], "en", "Give your email address with --address, or run \"analyzer init\" without "
               "--yes to answer the questions."),
    (["--address", "julie@exemple-perso.fr"], "fr",
     "Le serveur de messagerie ne se devine pas d'après votre adresse : donnez-le avec "
     "--imap-host (et --imap-port si besoin), ou choisissez un fournisseur avec --provider."),
    (["--address", "julie@exemple-perso.fr"], "en",
     "The mail server cannot be told from your address: give it with --imap-host (and "
     "--imap-port if needed), or choose a provider with --provider."),
    (["--address", "julie@free.fr", "--service", "other"], "fr",
     "Le service « other » a besoin du nom et des domaines de l'organisme : donnez-les avec "
     "--other \"Nom=domaine.fr\"."),
    (["--address", "julie@free.fr", "--service", "other"], "en",
     "The service 'other' needs the organisation's name and domains: give them with --other "
     "\"Name=domain.org\"."),
    (["--address", "julie@free.fr", "--other", "Cabinet Exemple"], "fr",
     "« Cabinet Exemple » : donnez le nom de l'organisme, puis = et au moins un domaine ou une "
     "adresse, par exemple « Cabinet Exemple=cabinet-exemple.fr »."),
    (["--address", "julie@free.fr", "--other", "Cabinet Exemple"], "en",
     "'Cabinet Exemple': give the organisation's name, then = and at least one domain or "
     "address, for example \"Example Firm=example-firm.org\"."),
    (["--address", "julie.free.fr"], "fr",
     "« julie.free.fr » n'est pas une adresse e-mail. Tapez une adresse comme "
     "prenom.nom@exemple.fr (plusieurs : séparées par des virgules)."),
    (["--address", "julie@free.fr", "--service", "pole-emploi"], "en",
     "Unknown service 'pole-emploi'. Known: france-travail, caf, assurance-maladie, dgfip, "
     "ants, other."),
])
def test_usage_errors(tmp_path: Path, args: list[str], lang: str, text: str) -> None:
    result = run("--lang", lang, "init", "--yes", "--config-out",
                 str(tmp_path / "analyzer.toml"), "--no-test", *args)
    assert (result.exit_code, result.stderr) == (2, text + "\n")
    assert not (tmp_path / "analyzer.toml").exists()


@pytest.mark.parametrize("lang, text", [
    ("fr", "Configuration {path} laissée telle quelle ; rien d'autre n'a été fait."),
    ("en", "Configuration {path} left as it was; nothing else was done."),
])
def test_existing_configuration_is_kept_unless_confirmed(tmp_path: Path, lang: str, text: str
                                                         ) -> None:
    config = tmp_path / "analyzer.toml"
    config.write_text("# mine\n", "utf-8")
    result = run("--lang", lang, "init", "--address", "julie@free.fr", "--service", "caf",
                 "--config-out", str(config), input=answers(""))
    assert result.exit_code == 0, result.stderr
    assert last_line(result) == text.format(path=config)
    assert config.read_text("utf-8") == "# mine\n"


def test_doctests() -> None:
    result = doctest.testmod(analyzer.onboarding)
    assert (result.failed, result.attempted > 3) == (0, True)


def test_existing_configuration_replaced_when_confirmed(tmp_path: Path) -> None:
    config = tmp_path / "analyzer.toml"
    config.write_text("# mine\n", "utf-8")
    result = run("--lang", "fr", "init", "--config-out", str(config),
                 input=answers("oui", "julie@gmail.com", "1", "n"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[1:] == [
        f"La configuration {config} existe déjà. La remplacer (l'ancienne sera gardée en "
        ".bak) ? [o/N]: oui",
        "Votre adresse e-mail (plusieurs : séparées par des virgules): julie@gmail.com",
        "Avec quels services échangez-vous des e-mails ?",
        "  1. France Travail (ex-Pôle emploi)",
        "  2. CAF (allocations familiales, APL, RSA, prime d'activité)",
        "  3. Assurance Maladie (ameli, CPAM)",
        "  4. Impôts (DGFiP, impots.gouv.fr)",
        "  5. ANTS (titres : carte grise, permis, papiers d'identité)",
        "  6. Un autre organisme, ou une entreprise privée qui m'a écrit",
        "Numéros des services, séparés par des virgules [1]: 1",
        "Votre messagerie : Gmail (serveur imap.gmail.com, port 993, connexion chiffrée).",
        "  Gmail demande un « mot de passe d'application » : activez la validation en deux "
        "étapes sur myaccount.google.com/security, créez-le sur "
        "myaccount.google.com/apppasswords, et tapez-le à la place de votre mot de passe.",
        f"Configuration écrite : {config} (sans aucun mot de passe).",
        f"L'ancienne configuration est gardée dans {config}.bak.",
        "Tester la connexion maintenant (lecture seule : rien ne change dans votre boîte) ? "
        "[O/n]: n",
        "Pour continuer plus tard : « analyzer fetch » relève vos messages, puis « analyzer "
        "report --html rapport.html » fait le rapport.",
    ]
    assert (tmp_path / "analyzer.toml.bak").read_text("utf-8") == "# mine\n"
    assert load_config(config).imap == {"host": "imap.gmail.com", "port": 993,
                                        "tls": "implicit", "user": "julie@gmail.com"}


@pytest.mark.parametrize("lang, text", [
    ("fr", "Aucun mot de passe pour {user} sur 127.0.0.1 : définissez la variable "
           "ANALYZER_IMAP_PASSWORD, enregistrez-le dans le trousseau du système, ou lancez la "
           "commande dans un terminal pour le saisir."),
    ("en", "No password for {user} on 127.0.0.1: set the ANALYZER_IMAP_PASSWORD variable, "
           "save it in the system keyring, or run the command in a terminal to type it."),
])
def test_no_password_without_questions(imap_account: Account, tmp_path: Path, lang: str,
                                       text: str) -> None:
    result = run(*flags_for(imap_account, tmp_path, lang=lang))
    assert result.exit_code == 1
    assert last_line(result) == text.format(user=imap_account.user)
