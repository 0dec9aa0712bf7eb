"""The mail-provider table, on its own: no test ever reaches a real provider."""

from __future__ import annotations

import doctest

import pytest

import analyzer.providers
from analyzer.config import parse_config
from analyzer.errors import UsageError
from analyzer.imap import settings_from_config
from analyzer.providers import PROVIDERS, get_provider, guess_provider, provider_of_host


@pytest.mark.parametrize("address, expected", [
    ("julie@gmail.com", ("gmail", "imap.gmail.com", 993, "implicit", "app_password",
                         "julie@gmail.com")),
    ("julie@hotmail.fr", ("outlook", "outlook.office365.com", 993, "implicit", "oauth2",
                          "julie@hotmail.fr")),
    ("julie@outlook.com", ("outlook", "outlook.office365.com", 993, "implicit", "oauth2",
                           "julie@outlook.com")),
    ("julie@live.fr", ("outlook", "outlook.office365.com", 993, "implicit", "oauth2",
                       "julie@live.fr")),
    ("julie@yahoo.fr", ("yahoo", "imap.mail.yahoo.com", 993, "implicit", "app_password",
                        "julie@yahoo.fr")),
    ("julie@orange.fr", ("orange", "imap.orange.fr", 993, "implicit", "password",
                         "julie@orange.fr")),
    ("julie@wanadoo.fr", ("orange", "imap.orange.fr", 993, "implicit", "password",
                          "julie@wanadoo.fr")),
    ("julie@free.fr", ("free", "imap.free.fr", 993, "implicit", "password", "julie")),
    ("julie@sfr.fr", ("sfr", "imap.sfr.fr", 993, "implicit", "password", "julie@sfr.fr")),
    ("julie@neuf.fr", ("sfr", "imap.sfr.fr", 993, "implicit", "password", "julie@neuf.fr")),
    ("julie@laposte.net", ("laposte", "imap.laposte.net", 993, "implicit", "password",
                           "julie")),
    ("julie@icloud.com", ("icloud", "imap.mail.me.com", 993, "implicit", "app_password",
                          "julie")),
    ("julie@me.com", ("icloud", "imap.mail.me.com", 993, "implicit", "app_password",
                      "julie")),
    ("julie@gmx.fr", ("gmx-com", "imap.gmx.com", 993, "implicit", "password",
                      "julie@gmx.fr")),
    ("julie@gmx.de", ("gmx-net", "imap.gmx.net", 993, "implicit", "password",
                      "julie@gmx.de")),
    ("julie@proton.me", ("proton-bridge", "127.0.0.1", 1143, "starttls", "bridge",
                         "julie@proton.me")),
    ("Julie@PM.me", ("proton-bridge", "127.0.0.1", 1143, "starttls", "bridge",
                     "Julie@PM.me")),
])
def test_guess_from_the_address(address: str, expected: tuple[object, ...]) -> None:
    provider = guess_provider(address)
    assert provider is not None
    assert (provider.id, provider.host, provider.port, provider.tls, provider.auth,
            provider.imap_user(address)) == expected


@pytest.mark.parametrize("address", ["julie@exemple-perso.fr", "julie@francetravail.fr",
                                     "julie@mail.gmail.com.example", "not-an-address"])
def test_unknown_domains_are_not_guessed(address: str) -> None:
    assert guess_provider(address) is None


def test_every_entry_makes_valid_imap_settings() -> None:
    for provider in PROVIDERS:
        table = provider.imap_table("julie.moreau@example.org")
        settings = settings_from_config(parse_config({"imap": table}))
        assert (settings.host, settings.port, settings.security) == \
            (provider.host, provider.port, provider.tls)
        assert provider.documentation, provider.id


def test_every_entry_has_a_howto_in_both_languages() -> None:
    for provider in PROVIDERS:
        fr, en = provider.howto("fr"), provider.howto("en")
        assert fr and en and fr != en, provider.id
    assert get_provider("gmail").howto("fr") == (
        "Gmail demande un « mot de passe d'application » : activez la validation en deux "
        "étapes sur myaccount.google.com/security, créez-le sur "
        "myaccount.google.com/apppasswords, et tapez-le à la place de votre mot de passe.")
    assert get_provider("outlook").howto("en") == (
        "Outlook.com no longer accepts passwords over IMAP since September 2024: it needs a "
        "command that prints an OAuth2 token (token_command setting, see the README), or "
        "export your mail from Outlook and import the file.")


def test_ids_and_domains_are_unique() -> None:
    ids = [p.id for p in PROVIDERS]
    domains = [d for p in PROVIDERS for d in p.domains]
    assert len(ids) == len(set(ids)) and len(domains) == len(set(domains))


def test_provider_of_a_typed_host() -> None:
    assert provider_of_host("imap.mail.yahoo.com").id == "yahoo"  # type: ignore[union-attr]
    assert provider_of_host("127.0.0.1") is None  # a bridge port is anyone's
    assert provider_of_host("mail.exemple.fr") is None


@pytest.mark.parametrize("lang, text", [
    ("fr", "Fournisseur de messagerie inconnu « wanadoo ». Fournisseurs connus : gmail, "
           "outlook, yahoo, orange, free, sfr, laposte, icloud, gmx-net, gmx-com, "
           "proton-bridge ; sinon, donnez le serveur avec --imap-host."),
    ("en", "Unknown mail provider 'wanadoo'. Known: gmail, outlook, yahoo, orange, free, "
           "sfr, laposte, icloud, gmx-net, gmx-com, proton-bridge; otherwise give the server "
           "with --imap-host."),
])
def test_unknown_provider_id(lang: str, text: str) -> None:
    with pytest.raises(UsageError) as raised:
        get_provider("wanadoo")
    assert raised.value.render(lang) == text


def test_doctests() -> None:
    result = doctest.testmod(analyzer.providers)
    assert (result.failed, result.attempted > 3) == (0, True)
