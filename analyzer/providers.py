"""Mail providers guessed from the user's address: IMAP server, port, TLS, login.

The table holds only what the providers publish (their help pages, as
collected in Thunderbird's ISPDB, github.com/thunderbird/autoconfig, which
cites them): the IMAP host and port, implicit TLS or STARTTLS, whether the
login is the whole address or the part before the ``@``, and how the
account accepts a third-party program:

``password``
    the account's usual password;
``app_password``
    an "app password" made in the account's security settings (Gmail,
    Yahoo, iCloud): the usual password is refused over IMAP;
``oauth2``
    no password at all over IMAP (Outlook.com since September 2024): a
    ``token_command`` printing an OAuth2 access token is needed;
``bridge``
    a program on the user's machine serves the mail (Proton Mail Bridge):
    its own password, and its certificate as ``ca_file``.

The one-line how-to of each provider is in the message catalogue
(``providers.<id>.howto``), in French and English. No lookup ever leaves the
machine: the guess reads the address's domain only.

Example::

    >>> provider = guess_provider("julie.moreau@wanadoo.fr")
    >>> provider.name, provider.host, provider.port, provider.tls
    ('Orange', 'imap.orange.fr', 993, 'implicit')
    >>> provider.imap_table("julie.moreau@wanadoo.fr")["user"]
    'julie.moreau@wanadoo.fr'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from analyzer.errors import UsageError

AuthKind = Literal["password", "app_password", "oauth2", "bridge"]
TlsMode = Literal["implicit", "starttls"]


@dataclass(frozen=True)
class Provider:
    """One mail provider and the IMAP settings it documents."""

    id: str
    name: str
    domains: tuple[str, ...]
    host: str
    port: int
    tls: TlsMode
    auth: AuthKind
    login: Literal["address", "local_part"] = "address"
    documentation: str = ""

    def howto(self, lang: str) -> str:
        """The one-line how-to, in ``lang``.

        >>> get_provider("free").howto("en")
        'Use your Free mail password; the login is the part of your address before the @.'
        """
        from analyzer.i18n import translate

        return translate(f"providers.{self.id}.howto", lang)

    def imap_user(self, address: str) -> str:
        """The login name for ``address``.

        >>> get_provider("icloud").imap_user("julie.moreau@icloud.com")
        'julie.moreau'
        """
        return address.partition("@")[0] if self.login == "local_part" else address

    def imap_table(self, address: str) -> dict[str, Any]:
        """The ``[imap]`` table of the configuration for ``address``.

        >>> get_provider("proton-bridge").imap_table("j@proton.me")
        {'host': '127.0.0.1', 'port': 1143, 'tls': 'starttls', 'user': 'j@proton.me'}
        """
        return {"host": self.host, "port": self.port, "tls": self.tls,
                "user": self.imap_user(address)}


# Sources, per entry: the documentation URL the ISPDB file cites, or the
# provider's help page. Domains are those the provider's ISPDB entry lists
# (the everyday ones; the ISPDB has many more vanity domains).
PROVIDERS: tuple[Provider, ...] = (
    Provider("gmail", "Gmail", ("gmail.com", "googlemail.com"), "imap.gmail.com", 993,
             "implicit", "app_password",
             documentation="https://support.google.com/mail/answer/7126229"),
    Provider("outlook", "Outlook.com / Hotmail / Live",
             ("outlook.com", "outlook.fr", "hotmail.com", "hotmail.fr", "live.com", "live.fr",
              "msn.com", "windowslive.com"),
             "outlook.office365.com", 993, "implicit", "oauth2",
             documentation="https://support.microsoft.com/office/"
                           "pop-imap-and-smtp-settings-for-outlook-com-"
                           "d088b986-291d-42b8-9564-9c414e2aa040"),
    Provider("yahoo", "Yahoo Mail", ("yahoo.fr", "yahoo.com", "ymail.com", "rocketmail.com"),
             "imap.mail.yahoo.com", 993, "implicit", "app_password",
             documentation="https://help.yahoo.com/kb/SLN4075.html"),
    Provider("orange", "Orange", ("orange.fr", "wanadoo.fr"), "imap.orange.fr", 993,
             "implicit", "password",
             documentation="https://assistance.orange.fr/ (Mail Orange : accéder à sa boîte "
                           "depuis un logiciel de messagerie non fourni par Orange)"),
    Provider("free", "Free", ("free.fr",), "imap.free.fr", 993, "implicit", "password",
             login="local_part",
             documentation="https://assistance.free.fr/articles/"
                           "configurer-de-maniere-avancee-mon-logiciel-de-messagerie-609"),
    Provider("sfr", "SFR", ("sfr.fr", "neuf.fr", "club-internet.fr"), "imap.sfr.fr", 993,
             "implicit", "password",
             documentation="https://assistance.sfr.fr/ (serveurs de messagerie SFR)"),
    Provider("laposte", "La Poste (laposte.net)", ("laposte.net",), "imap.laposte.net", 993,
             "implicit", "password", login="local_part",
             documentation="https://aide.laposte.net/"),
    Provider("icloud", "iCloud", ("icloud.com", "me.com", "mac.com"), "imap.mail.me.com", 993,
             "implicit", "app_password", login="local_part",
             documentation="https://support.apple.com/HT202304"),
    Provider("gmx-net", "GMX", ("gmx.net", "gmx.de", "gmx.at", "gmx.ch"), "imap.gmx.net", 993,
             "implicit", "password",
             documentation="https://hilfe.gmx.net/pop-imap/imap/imap-serverdaten.html"),
    Provider("gmx-com", "GMX", ("gmx.com", "gmx.fr", "gmx.us", "gmx.co.uk"), "imap.gmx.com",
             993, "implicit", "password",
             documentation="https://support.gmx.com/pop-imap/"),
    Provider("proton-bridge", "Proton Mail (Bridge)",
             ("proton.me", "protonmail.com", "protonmail.ch", "pm.me"),
             "127.0.0.1", 1143, "starttls", "bridge",
             documentation="https://proton.me/support/protonmail-bridge-clients"),
)


def provider_ids() -> list[str]:
    """Every provider id, in table order.

    >>> provider_ids()[:3]
    ['gmail', 'outlook', 'yahoo']
    """
    return [p.id for p in PROVIDERS]


def get_provider(provider_id: str) -> Provider:
    """The provider ``provider_id``; a :class:`UsageError` naming the known ids otherwise."""
    for provider in PROVIDERS:
        if provider.id == provider_id:
            return provider
    raise UsageError("providers.unknown", id=provider_id, known=", ".join(provider_ids()))


def guess_provider(address: str) -> Provider | None:
    """The provider of ``address``, from its domain only; None when unknown
    (a custom domain, a workplace): the user then types the server.

    >>> guess_provider("j@GMAIL.com").id, guess_provider("j@laposte.net").login
    ('gmail', 'local_part')
    >>> guess_provider("j@exemple-perso.fr") is None
    True
    """
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    for provider in PROVIDERS:
        if domain in provider.domains:
            return provider
    return None


def provider_of_host(host: str) -> Provider | None:
    """The provider whose IMAP server is ``host`` (for a hand-typed server).

    >>> provider_of_host("IMAP.gmail.com").id
    'gmail'
    """
    lower = host.strip().lower().rstrip(".")
    for provider in PROVIDERS:
        if provider.host == lower and provider.auth != "bridge":
            return provider
    return None


__all__ = ["PROVIDERS", "AuthKind", "Provider", "get_provider", "guess_provider",
           "provider_ids", "provider_of_host"]
