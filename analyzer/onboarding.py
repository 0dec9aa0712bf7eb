"""The guided set-up (``analyzer init``) as a library: answers in, a
configuration file and a tested connection out.

The command line asks the questions (:mod:`analyzer.cli`); this module turns
the answers into the TOML configuration (never a password in it), checks the
account read-only before anything is downloaded, and runs the first fetch
with errors a newcomer can act on.

Example (a notebook or a mediator's script)::

    from analyzer.onboarding import Answers, config_text, write_config
    from analyzer.presets import counterparts_for
    from analyzer.providers import guess_provider

    address = "julie.moreau@orange.fr"
    answers = Answers([address], counterparts_for(["france-travail", "caf"]),
                      guess_provider(address).imap_table(address))
    write_config(Path("analyzer.toml"), config_text(answers, "fr"))

The written file loads with :func:`analyzer.config.load_config`::

    >>> from analyzer.config import parse_config
    >>> import tomllib
    >>> answers = Answers(["j@free.fr"], [], {"host": "imap.free.fr", "port": 993,
    ...                   "tls": "implicit", "user": "j"})
    >>> parse_config(tomllib.loads(config_text(answers, "en"))).imap["host"]
    'imap.free.fr'
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.config import Config, Counterpart, parse_config
from analyzer.errors import (
    AnalyzerError,
    ConfigError,
    CredentialsError,
    ImapError,
    StoreError,
    UsageError,
)
from analyzer.i18n import translate
from analyzer.imap import FetchSummary, FolderProgress, ImapSettings, PasswordProvider
from analyzer.presets import BLANK_ID, get_preset
from analyzer.providers import Provider

# A fetched message takes about twice its size in the store (raw bytes plus
# the parsed headers and text), and SQLite's journal needs room on top.
STORE_FACTOR = 2
MARGIN_BYTES = 50 * 1000 * 1000


@dataclass
class Answers:
    """What the set-up learnt: the user's addresses, the counterparts chosen
    (presets keep their ids), and the ``[imap]`` table (no password)."""

    addresses: list[str]
    counterparts: list[Counterpart]
    imap: dict[str, Any] = field(default_factory=dict)
    country: str = "FR"
    timezone: str = "Europe/Paris"


def parse_addresses(text: str) -> list[str]:
    """The addresses typed, separated by commas, spaces or semicolons.

    >>> parse_addresses("Julie@Example.org; j.moreau@free.fr")
    ['julie@example.org', 'j.moreau@free.fr']
    """
    items = [a for a in text.replace(";", " ").replace(",", " ").split() if a]
    if not items:
        raise UsageError("init.bad_address", value=text.strip())
    for item in items:
        try:
            parse_config({"me": {"addresses": [item]}})
        except ConfigError:
            raise UsageError("init.bad_address", value=item) from None
    return list(dict.fromkeys(i.lower() for i in items))


def split_terms(text: str) -> tuple[list[str], list[str]]:
    """Domains and addresses typed for an organisation (an ``@`` makes an address).

    >>> split_terms("cabinet-exemple.fr, rdv@relais.example")
    (['cabinet-exemple.fr'], ['rdv@relais.example'])
    """
    items = [i.strip().lower() for i in text.replace(";", ",").replace(" ", ",").split(",")]
    items = [i.removeprefix("@") if i.count("@") == 1 and i.startswith("@") else i
             for i in items if i]
    return [i for i in items if "@" not in i], [i for i in items if "@" in i]


def other_counterpart(name: str, terms: str, kind: str = "contractor") -> Counterpart:
    """An organisation the presets do not know, from its name and its domains
    or addresses; a :class:`UsageError` saying what to type otherwise.

    >>> other_counterpart("Cabinet Exemple", "cabinet-exemple.fr").domains
    ('cabinet-exemple.fr',)
    """
    domains, addresses = split_terms(terms)
    if not name.strip() or not (domains or addresses):
        raise UsageError("init.bad_other", value=f"{name}={terms}")
    try:
        return get_preset(BLANK_ID).counterpart(name.strip(), kind, domains, addresses)
    except ConfigError:
        raise UsageError("init.bad_other", value=f"{name}={terms}") from None


def parse_other(text: str, kind: str = "contractor") -> Counterpart:
    """``--other "NAME=DOMAIN_OR_ADDRESS[,...]"``.

    >>> parse_other("Cabinet Exemple=cabinet-exemple.fr,rdv@relais.example").addresses
    ('rdv@relais.example',)
    """
    name, sep, terms = text.partition("=")
    if not sep:
        raise UsageError("init.bad_other", value=text)
    return other_counterpart(name, terms, kind)


# -- the configuration file ----------------------------------------------------


def _toml(value: Any) -> str:
    # JSON's string escapes are all valid in TOML basic strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


_IMAP_ORDER = ("host", "port", "tls", "user", "ca_file", "token_command", "folders")


def config_text(answers: Answers, lang: str) -> str:
    """The configuration file, commented in ``lang``. It never holds a password.

    >>> from analyzer.presets import counterparts_for
    >>> print(config_text(Answers(["j@free.fr"], counterparts_for(["caf"])), "en"))
    # analyzer configuration, written by "analyzer init". Edit it freely: see the README.
    # No password is kept in this file.
    <BLANKLINE>
    [me]
    addresses = ["j@free.fr"]
    <BLANKLINE>
    [[counterpart]]
    id = "caf"
    name = "CAF"
    kind = "agency"
    domains = ["caf.fr"]
    addresses = []
    <BLANKLINE>
    [analysis]
    country = "FR"
    timezone = "Europe/Paris"
    <BLANKLINE>
    """
    lines = [f"# {translate('init.config.header', lang)}",
             f"# {translate('init.config.no_password', lang)}", "",
             "[me]", f"addresses = {_toml(answers.addresses)}", ""]
    for cp in answers.counterparts:
        lines.append("[[counterpart]]")
        if cp.id:
            lines.append(f"id = {_toml(cp.id)}")
        lines += [f"name = {_toml(cp.name)}", f"kind = {_toml(cp.kind)}",
                  f"domains = {_toml(list(cp.domains))}",
                  f"addresses = {_toml(list(cp.addresses))}", ""]
    lines += ["[analysis]", f"country = {_toml(answers.country)}",
              f"timezone = {_toml(answers.timezone)}", ""]
    if answers.imap:
        lines.append("[imap]")
        for key in sorted(answers.imap, key=lambda k: (k not in _IMAP_ORDER,
                                                       _IMAP_ORDER.index(k)
                                                       if k in _IMAP_ORDER else 0, k)):
            value = answers.imap[key]
            if value is not None:
                lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    return "\n".join(lines)


def write_config(path: Path, text: str, *, overwrite: bool = False) -> Path | None:
    """Write the configuration at ``path``; an existing file is kept as
    ``<name>.bak`` when ``overwrite`` (returned), refused otherwise. The file
    is readable by its owner only: it names the user's mail account."""
    backup: Path | None = None
    if path.exists():
        if not overwrite:
            raise UsageError("init.config_exists", path=str(path))
        backup = path.with_name(path.name + ".bak")
        _write_private(backup, path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, text.encode("utf-8"))
    return backup


def _write_private(path: Path, data: bytes) -> None:
    """Write ``path`` anew, readable by its owner only from its creation on
    (a chmod after writing would leave a moment when others can read it)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(data)


# -- testing the account ---------------------------------------------------------


@dataclass
class Probe:
    """What the server holds for the chosen counterparts, seen without
    downloading a message: how many match, their total size, in how many folders."""

    messages: int = 0
    bytes: int = 0
    folders: int = 0


def probe(settings: ImapSettings, config: Config,
          credentials: PasswordProvider | None = None) -> Probe:
    """Log in read-only and count the messages exchanged with the
    counterparts (the fetch's own SEARCH, then only their sizes)."""
    from analyzer.imap import (
        _server_errors,  # the fetcher's translation of network errors
        choose_folders,
        connect,
        list_folders,
        search_criteria,
        watched_terms,
    )

    terms = watched_terms(config)
    if not terms:
        raise ImapError("imap.no_counterparts")
    criteria = search_criteria(terms)
    found = Probe()
    with connect(settings, credentials) as client, _server_errors(settings):
        for folder in choose_folders(list_folders(client), client.capabilities(),
                                     settings.folders):
            info = client.select_folder(folder.name, readonly=True)
            if int(info.get(b"EXISTS", 1)) == 0:
                continue
            uids = list(client.search(criteria))
            if not uids:
                continue
            found.folders += 1
            found.messages += len(uids)
            for start in range(0, len(uids), 1000):
                sizes = client.fetch(uids[start:start + 1000], ["RFC822.SIZE"])
                found.bytes += sum(int(d.get(b"RFC822.SIZE", 0)) for d in sizes.values())
    return found


def guess_tls(host: str, port: int, timeout: float = 3.0) -> str:
    """The encryption an IMAP port most likely wants: ``implicit`` or ``starttls``.

    The usual ports answer at once (993 implicit TLS, 143 STARTTLS). On any
    other port, listen without sending anything: an IMAP server that starts in
    clear greets at once ("* OK"), one that starts with TLS waits for the
    client's first TLS message. A wrong guess costs the user a minute's wait
    and an unclear failure, so init proposes this as the default.

    >>> guess_tls("imap.example.org", 993), guess_tls("imap.example.org", 143)
    ('implicit', 'starttls')
    """
    if port in (993, 995):
        return "implicit"
    if port == 143:
        return "starttls"
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            greeting = sock.recv(16)
    except OSError:
        return "implicit"  # silent or unreachable: the connection test will say which
    return "starttls" if greeting.startswith((b"* OK", b"* PREAUTH")) else "implicit"


def megabytes(count: int) -> int:
    """Bytes as whole megabytes, rounded up (messages show sizes this way).

    >>> megabytes(1), megabytes(2_500_000)
    (1, 3)
    """
    return max(1, math.ceil(count / 1_000_000))


def check_disk(store_path: Path, needed_bytes: int) -> None:
    """Refuse a first fetch that cannot fit on the store's disk."""
    folder = store_path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    needed = needed_bytes * STORE_FACTOR + MARGIN_BYTES
    if needed > free:
        raise StoreError("init.disk_too_small", needed=megabytes(needed),
                         free=megabytes(free), path=str(store_path))


@contextlib.contextmanager
def disk_errors(store_path: Path) -> Iterator[None]:
    """A full disk met while writing the store becomes one clear message
    (what was stored stays stored: the next run goes on from there)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "full" in str(exc).lower():  # SQLITE_FULL: "database or disk is full"
            raise StoreError("init.disk_full", path=str(store_path)) from exc
        raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise StoreError("init.disk_full", path=str(store_path)) from exc
        raise


def first_fetch(store_path: Path, settings: ImapSettings, config: Config,
                credentials: PasswordProvider | None = None,
                progress: FolderProgress | None = None) -> FetchSummary:
    """Fetch the counterparts' mail into the store at ``store_path``."""
    from analyzer.imap import fetch_imap
    from analyzer.store import Store

    with disk_errors(store_path), Store.open(store_path) as store:
        return fetch_imap(store, settings, config, credentials=credentials,
                          progress=progress)


class ProviderHintError(CredentialsError):
    """A refused login, with the provider's how-to in the language shown."""

    def render(self, lang: str = "en") -> str:
        howto = translate(f"providers.{self.params['provider_id']}.howto", lang)
        return translate(self.key, lang, **{**self.params, "howto": howto})


def login_hint(error: CredentialsError, provider: Provider | None) -> AnalyzerError:
    """A refused password, explained with the provider's own how-to when it
    needs an app password or OAuth2; other errors are returned unchanged."""
    refused = error.key in ("credentials.rejected", "credentials.rejected_gmail",
                            "credentials.rejected_microsoft")
    if not refused or provider is None or provider.auth not in ("app_password", "oauth2"):
        return error
    key = "init.app_password" if provider.auth == "app_password" else "init.oauth2_needed"
    return ProviderHintError(key, provider=provider.name, user=error.params.get("user", ""),
                             provider_id=provider.id)


def service_names(counterparts: Sequence[Counterpart]) -> str:
    """The counterparts' names for a sentence.

    >>> from analyzer.presets import counterparts_for
    >>> service_names(counterparts_for(["france-travail", "caf"]))
    'France Travail, CAF'
    """
    return ", ".join(cp.name for cp in counterparts)


__all__ = [
    "Answers",
    "Probe",
    "ProviderHintError",
    "check_disk",
    "config_text",
    "disk_errors",
    "first_fetch",
    "login_hint",
    "megabytes",
    "other_counterpart",
    "parse_addresses",
    "parse_other",
    "probe",
    "service_names",
    "split_terms",
    "write_config",
]
