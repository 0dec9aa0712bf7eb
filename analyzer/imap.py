"""Fetch, from the user's own IMAP account, the mail exchanged with the counterparts.

The server does the filtering: in every selectable folder (found with LIST and
SPECIAL-USE; on Gmail, ``[Gmail]/All Mail`` plus Spam and Trash instead of the
label folders) one SEARCH asks for the messages from, to or cc any counterpart
domain or address, and only those are downloaded, in large batches
(``UID FETCH`` of up to :data:`BATCH` messages, ``BODY.PEEK[]`` and
``INTERNALDATE``). Messages go through the same parsing and store path as
local imports (:func:`analyzer.parse.parse_headers`, ``parse_body``,
:meth:`analyzer.store.Store.add_records`), so a message seen in two folders,
or both on the server and in a local export, is stored once.

The account is opened read-only: EXAMINE and BODY.PEEK only, so fetching never
marks mail as read.

Incremental state, per folder, lives in the store's ``imap_state`` table
(created here on first use): UIDVALIDITY, ``last_uid`` (every matching
message with a lower or equal UID is stored), UIDNEXT and HIGHESTMODSEQ seen,
and the fingerprint of the search criteria. A later run searches only above
``last_uid``; a folder whose UIDNEXT did not move is not searched at all; a
changed set of counterparts searches the whole folder again; a changed
UIDVALIDITY drops the folder's old locations and rescans it. ``last_uid``
advances in the same transaction as the batch it covers (a temporary trigger
on ``locations``), so a run killed at any point resumes with nothing lost or
doubled.

Example (a notebook)::

    from analyzer.imap import fetch_imap, settings_from_config
    settings = settings_from_config(config)
    with Store.open("store.sqlite") as store:
        summary = fetch_imap(store, settings, config)
"""

from __future__ import annotations

import contextlib
import ipaddress
import multiprocessing
import os
import signal
import socket
import sqlite3
import ssl
import sys
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from analyzer import forking
from analyzer.config import Config
from analyzer.credentials import Secret, get_password, token_from_command
from analyzer.errors import ConfigError, CredentialsError, ImapError
from analyzer.parse import (
    STORED_TIME,
    ParsedBody,
    ParsedHeaders,
    parse_body,
    parse_headers,
)
from analyzer.parties import PartyClassifier
from analyzer.store import Location, Record, Store, close_inherited_locks, now_iso

if TYPE_CHECKING:
    from imapclient import IMAPClient

BATCH = 500
CHUNK = 50  # messages per task given to a parsing worker
POOL_THRESHOLD = 400  # below this, starting worker processes costs more than it saves
BATCH_BYTES = 64 * 1024 * 1024  # a batch of large attachments must not fill memory
DEFAULT_TIMEOUT = 60.0
HEADER_FIELDS = "BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT DATE)]"

Security = Literal["implicit", "starttls", "none"]
FolderProgress = Callable[[str, int, int], None]
PasswordProvider = Callable[["ImapSettings"], Secret]

_KNOWN_KEYS = ("host", "port", "user", "tls", "ca_file", "folders", "token_command",
               "timeout", "batch_size")
_GMAIL_KEEP = (b"\\All", b"\\Junk", b"\\Trash")
_NOT_SELECTABLE = (b"\\Noselect", b"\\NonExistent")
_SPECIAL_USE = (b"\\All", b"\\Archive", b"\\Drafts", b"\\Flagged", b"\\Junk", b"\\Sent",
                b"\\Trash")

# -- settings ---------------------------------------------------------------


@dataclass(frozen=True)
class ImapSettings:
    """The ``[imap]`` table, validated. ``filter=False`` fetches every message.

    >>> s = ImapSettings("imap.example.org", "julie")
    >>> s.port, s.security, s.account
    (993, 'implicit', 'julie@imap.example.org')
    """

    host: str
    user: str
    port: int = 993
    security: Security = "implicit"
    ca_file: Path | None = None
    folders: tuple[str, ...] | None = None
    token_command: str | tuple[str, ...] | None = None
    timeout: float = DEFAULT_TIMEOUT
    batch_size: int = BATCH
    filter: bool = True

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}"

    @property
    def plaintext_warning(self) -> bool:
        """True when mail and password would cross a network unencrypted."""
        return self.security == "none" and not is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("imap.free.fr")
    (True, True, False)
    """
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_from_config(config: Config) -> ImapSettings:
    """Validate ``config.imap`` (the raw ``[imap]`` table).

    ``tls`` is ``true`` (default: implicit TLS on port 993, STARTTLS on any
    other port), ``"implicit"``, ``"starttls"``, or ``false`` (no encryption,
    only when written explicitly). Raises :class:`ConfigError` naming the key.

    >>> from analyzer.config import parse_config
    >>> cfg = parse_config({"imap": {"host": "imap.example.org", "user": "julie",
    ...                              "port": 143}})
    >>> settings_from_config(cfg).security
    'starttls'
    """
    raw = config.imap
    where = str(config.path or "<config>")

    def fail(key: str, expected: str) -> ConfigError:
        return ConfigError("config.invalid", path=where, key=f"imap.{key}", expected=expected)

    if not raw:
        raise ConfigError("imap.not_configured", path=where)
    for key in raw:
        if key not in _KNOWN_KEYS:
            raise fail(key, "one of " + ", ".join(_KNOWN_KEYS))
    host = raw.get("host")
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host.strip()):
        raise fail("host", 'the IMAP server name, such as "imap.example.org"')
    user = raw.get("user")
    if not isinstance(user, str) or not user.strip():
        raise fail("user", "the login name, a non-empty string")
    tls = raw.get("tls", True)
    if tls not in (True, False, "implicit", "starttls"):
        raise fail("tls", 'true, false, "implicit" or "starttls"')
    port = raw.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 1 <= port <= 65535):
        raise fail("port", "an integer from 1 to 65535")
    security: Security
    if tls is False:
        security = "none"
    elif tls == "implicit" or (tls is True and port in (None, 993)):
        security = "implicit"
    else:
        security = "starttls"
    if port is None:
        port = 993 if security == "implicit" else 143
    ca_file: Path | None = None
    if "ca_file" in raw:
        value = raw["ca_file"]
        if not isinstance(value, str) or not value.strip():
            raise fail("ca_file", "the path of a PEM certificate file")
        ca_file = Path(value).expanduser()
        if not ca_file.is_absolute() and config.path is not None:
            ca_file = config.path.parent / ca_file
    folders: tuple[str, ...] | None = None
    if "folders" in raw:
        value = raw["folders"]
        if (not isinstance(value, list) or not value
                or not all(isinstance(f, str) and f.strip() for f in value)):
            raise fail("folders", "a non-empty list of folder names")
        folders = tuple(value)
    token: str | tuple[str, ...] | None = None
    if "token_command" in raw:
        value = raw["token_command"]
        if isinstance(value, str) and value.strip():
            token = value
        elif (isinstance(value, list) and value
              and all(isinstance(v, str) for v in value) and value[0].strip()):
            token = tuple(value)
        else:
            raise fail("token_command", "a command (string or list of strings) printing "
                                        "an OAuth2 access token")
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise fail("timeout", "a number of seconds greater than 0")
    batch = raw.get("batch_size", BATCH)
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 5000:
        raise fail("batch_size", "an integer from 1 to 5000")
    return ImapSettings(host.strip(), user.strip(), port, security, ca_file, folders, token,
                        float(timeout), batch)


# -- search criteria --------------------------------------------------------


def watched_terms(config: Config) -> list[str]:
    """The strings the server is asked to find in From/To/Cc: every counterpart
    domain and address, without those another term already covers (an IMAP
    address search matches substrings, so a domain covers its addresses and
    its sub-domains).

    >>> from analyzer.config import parse_config
    >>> cfg = parse_config({"counterpart": [
    ...     {"name": "FT", "domains": ["francetravail.fr", "agence.francetravail.fr"],
    ...      "addresses": ["x@francetravail.fr", "rdv@relais.fr"]}]})
    >>> watched_terms(cfg)
    ['francetravail.fr', 'rdv@relais.fr']
    """
    terms = {t for cp in config.counterparts for t in (*cp.domains, *cp.addresses)}
    kept = [t for t in terms if not any(o != t and o in t for o in terms)]
    return sorted(kept)


def _or_tree(keys: Sequence[list[Any]]) -> list[Any]:
    # A balanced tree keeps the nesting depth at log2(n): some servers limit it.
    if len(keys) == 1:
        return keys[0]
    middle = len(keys) // 2
    return ["OR", _or_tree(keys[:middle]), _or_tree(keys[middle:])]


def search_criteria(terms: Sequence[str]) -> list[Any]:
    """IMAP SEARCH criteria (imapclient's nested lists) matching a message
    from, to or cc any of ``terms``. IMAP's OR takes exactly two keys, so n
    keys become a balanced tree of n-1 ORs.

    >>> search_criteria(["a.fr"])
    ['OR', ['FROM', 'a.fr'], ['OR', ['TO', 'a.fr'], ['CC', 'a.fr']]]
    >>> search_criteria(["a.fr", "b.fr"])[2]
    ['OR', ['FROM', 'b.fr'], ['OR', ['TO', 'b.fr'], ['CC', 'b.fr']]]
    """
    if not terms:
        raise ValueError("no term to search for")
    keys = [[name, term] for term in terms for name in ("FROM", "TO", "CC")]
    return _or_tree(keys)


def criteria_fingerprint(config: Config, filtered: bool) -> str:
    """What a folder was searched for: changes when the counterparts change.

    >>> criteria_fingerprint(Config(), False)
    'all'
    """
    if not filtered:
        return "all"
    return "terms:" + ",".join(watched_terms(config))


# -- folders ----------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    """A folder of the account as LIST shows it."""

    name: str
    flags: tuple[bytes, ...] = ()

    @property
    def special_use(self) -> str:
        """The folder's RFC 6154 role (``\\Sent``, ``\\Junk``…), or ``""``."""
        for flag in self.flags:
            if flag in _SPECIAL_USE:
                return flag.decode("ascii")
        return ""

    @property
    def selectable(self) -> bool:
        return not any(flag in _NOT_SELECTABLE for flag in self.flags)


def choose_folders(listing: Sequence[Folder], capabilities: Sequence[bytes],
                   wanted: Sequence[str] | None = None) -> list[Folder]:
    """The folders to search: the ``wanted`` ones, else every selectable
    folder, INBOX first. On Gmail (``X-GM-EXT-1`` and an ``\\All`` folder)
    only All Mail, Spam and Trash: label folders are views of All Mail, and
    searching them would read the same messages again.

    >>> listing = [Folder("[Gmail]", (b"\\\\Noselect",)), Folder("INBOX"),
    ...            Folder("[Gmail]/All Mail", (b"\\\\All",)),
    ...            Folder("[Gmail]/Spam", (b"\\\\Junk",)), Folder("Travail")]
    >>> [f.name for f in choose_folders(listing, [b"IMAP4REV1"])]
    ['INBOX', '[Gmail]/All Mail', '[Gmail]/Spam', 'Travail']
    >>> [f.name for f in choose_folders(listing, [b"X-GM-EXT-1"])]
    ['[Gmail]/All Mail', '[Gmail]/Spam']
    """
    selectable = [f for f in listing if f.selectable]
    if wanted is not None:
        by_name = {f.name: f for f in selectable}
        by_name.update({f.name.upper(): f for f in selectable if f.name.upper() == "INBOX"})
        chosen: list[Folder] = []
        for name in wanted:
            found = by_name.get(name) or (by_name.get("INBOX") if name.upper() == "INBOX"
                                          else None)
            if found is None:
                raise ImapError("imap.no_such_folder", folder=name)
            if found not in chosen:
                chosen.append(found)
        return chosen
    gmail = b"X-GM-EXT-1" in capabilities and any(b"\\All" in f.flags for f in selectable)
    if gmail:
        selectable = [f for f in selectable if any(flag in _GMAIL_KEEP for flag in f.flags)]
    # A stable order (the server's is a directory listing): INBOX, then by
    # name as a French reader sorts it ("Éléments" among the E's).
    return sorted(selectable, key=lambda f: (f.name.upper() != "INBOX",
                                             _ascii(f.name).casefold(), f.name))


# -- errors -----------------------------------------------------------------


def server_trouble(text: str) -> str | None:
    """What a server's error text says: ``throttled``, ``app_password`` or None.

    >>> server_trouble("NO [THROTTLED] Account exceeded command or bandwidth limits")
    'throttled'
    >>> server_trouble("NO [ALERT] Application-specific password required")
    'app_password'
    >>> server_trouble("BAD Could not parse command") is None
    True
    """
    lower = text.lower()
    if any(s in lower for s in ("throttl", "[limit]", "rate limit", "too many",
                                "maximum number of connections",
                                "try again later", "[unavailable]", "bandwidth")):
        return "throttled"
    if any(s in lower for s in ("application-specific password", "app password",
                                "[webalert", "basicauthblocked", "basic authentication")):
        return "app_password"
    return None


def _provider(host: str) -> str:
    lower = host.lower()
    if lower.endswith(("gmail.com", "googlemail.com", "google.com")):
        return "gmail"
    if any(s in lower for s in ("outlook", "office365", "hotmail", "live.com")):
        return "microsoft"
    return ""


def _login_error(settings: ImapSettings, secret: Secret, text: str) -> CredentialsError:
    params = {"user": settings.user, "host": settings.host}
    provider = _provider(settings.host)
    if secret.kind == "oauth2":
        return CredentialsError("credentials.token_rejected", **params)
    if provider == "gmail" or (server_trouble(text) == "app_password"
                               and provider != "microsoft"):
        return CredentialsError("credentials.rejected_gmail", **params)
    if provider == "microsoft":
        return CredentialsError("credentials.rejected_microsoft", **params)
    return CredentialsError("credentials.rejected", **params)


@contextlib.contextmanager
def _server_errors(settings: ImapSettings) -> Iterator[None]:
    """Turn what the network, TLS and the server raise into one-line errors.

    Only the server's host, port and settings go into messages: never the
    server's raw text (it may quote our command) nor a secret.
    """
    from imapclient import exceptions as imap_exc

    where = {"host": settings.host, "port": settings.port}
    try:
        yield
    except (ImapError, CredentialsError):
        raise
    except TimeoutError:
        raise ImapError("imap.timeout", seconds=f"{settings.timeout:g}", **where) from None
    except ssl.SSLCertVerificationError:
        raise ImapError("imap.certificate", **where) from None
    except ssl.SSLError:
        raise ImapError("imap.tls", **where) from None
    except socket.gaierror:
        raise ImapError("imap.unknown_host", **where) from None
    except ConnectionRefusedError:
        raise ImapError("imap.refused", **where) from None
    except (ConnectionError, EOFError):
        raise ImapError("imap.disconnected", **where) from None
    except imap_exc.IMAPClientAbortError as exc:
        if server_trouble(str(exc)) == "throttled":
            raise ImapError("imap.throttled", **where) from None
        raise ImapError("imap.disconnected", **where) from None
    except imap_exc.IMAPClientError as exc:
        if server_trouble(str(exc)) == "throttled":
            raise ImapError("imap.throttled", **where) from None
        raise ImapError("imap.server_error", **where) from None
    except OSError as exc:
        raise ImapError("imap.network", detail=exc.strerror or type(exc).__name__,
                        **where) from None


# -- connection -------------------------------------------------------------


def default_credentials(settings: ImapSettings, lang: str | None = None) -> Secret:
    """The secret to log in with: a fresh OAuth2 token when ``token_command``
    is set, else the password (environment, secure keyring, prompt in ``lang``)."""
    if settings.token_command is not None:
        return token_from_command(settings.token_command)
    from analyzer.i18n import default_language, translate

    prompt = translate("credentials.prompt", lang or default_language(), user=settings.user,
                       host=settings.host)
    return get_password(settings.host, settings.user, prompt_text=prompt)


def _ssl_context(settings: ImapSettings) -> ssl.SSLContext:
    if settings.ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(settings.ca_file))
    except (OSError, ssl.SSLError):
        raise ImapError("imap.ca_file", path=str(settings.ca_file)) from None


@contextlib.contextmanager
def connect(settings: ImapSettings,
            credentials: PasswordProvider | None = None) -> Iterator[IMAPClient]:
    """A logged-in connection; logs out when done. Errors are one-line
    :class:`ImapError` / :class:`CredentialsError`."""
    from imapclient import IMAPClient
    from imapclient import exceptions as imap_exc

    context = _ssl_context(settings) if settings.security != "none" else None
    provider = credentials or default_credentials
    with _server_errors(settings):
        client = IMAPClient(settings.host, settings.port,
                            ssl=settings.security == "implicit", ssl_context=context,
                            timeout=settings.timeout)
    try:
        with _server_errors(settings):
            if settings.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise ImapError("imap.no_starttls", host=settings.host, port=settings.port)
                client.starttls(context)
        # Asked only once the server answered: no prompt for a server that is down.
        secret = provider(settings)
        with _server_errors(settings):
            try:
                if secret.kind == "oauth2":
                    client.oauth2_login(settings.user, secret.value)
                else:
                    _password_login(client, settings.user, secret.value)
            except imap_exc.LoginError as exc:
                if server_trouble(str(exc)) == "throttled":
                    raise ImapError("imap.throttled", host=settings.host,
                                    port=settings.port) from None
                raise _login_error(settings, secret, str(exc)) from None
            # Aware datetimes: INTERNALDATE is stored in UTC, not local time.
            client.normalise_times = False
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.logout()
        with contextlib.suppress(Exception):
            client.shutdown()


def _password_login(client: IMAPClient, user: str, password: str) -> None:
    capabilities = client.capabilities()
    # LOGIN can only carry ASCII (imaplib encodes it so); an accented password
    # goes through SASL PLAIN, which is UTF-8. So does any login on a server
    # that disables LOGIN.
    plain = b"AUTH=PLAIN" in capabilities and (
        not (password.isascii() and user.isascii()) or b"LOGINDISABLED" in capabilities)
    if plain:
        client.plain_login(user, password)
    else:
        client.login(user, password)


def list_folders(client: IMAPClient) -> list[Folder]:
    """Every folder LIST shows, with its flags (SPECIAL-USE included)."""
    return [Folder(str(name), tuple(bytes(f) for f in flags))
            for flags, _delimiter, name in client.list_folders()]


# -- state ------------------------------------------------------------------


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    last_uid: int
    uidnext: int | None
    highestmodseq: int | None
    fingerprint: str


def folder_state(store: Store, source: str) -> FolderState | None:
    row = store.conn.execute(
        "SELECT uidvalidity, last_uid, uidnext, highestmodseq, fingerprint FROM imap_state "
        "WHERE source = ?", (source,)).fetchone()
    return FolderState(*row) if row else None


def _save_state(store: Store, source: str, account: str, folder: str,
                state: FolderState) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO imap_state (source, account, folder, uidvalidity, last_uid, uidnext, "
            "highestmodseq, fingerprint, updated_at) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(source) DO UPDATE SET uidvalidity=excluded.uidvalidity, "
            "last_uid=excluded.last_uid, uidnext=excluded.uidnext, "
            "highestmodseq=excluded.highestmodseq, fingerprint=excluded.fingerprint, "
            "updated_at=excluded.updated_at",
            (source, account, folder, state.uidvalidity, state.last_uid, state.uidnext,
             state.highestmodseq, state.fingerprint, now_iso()))


def _forget_folder(store: Store, source: str) -> None:
    """UIDVALIDITY changed: the old UIDs mean nothing any more. Messages stay;
    only where they were seen on this folder is dropped, with the state."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM locations WHERE source = ?", (source,))
        conn.execute("DELETE FROM imap_state WHERE source = ?", (source,))


# -- fetching ---------------------------------------------------------------


@dataclass
class FolderResult:
    """What one folder gave: ``matched`` messages involve a counterpart (the
    server's substring matches that do not are left out), ``fetched`` were
    downloaded, ``new`` were added to the store, ``known`` were already in it.
    ``rescan`` says why the folder was searched from the start: ``first``
    (never fetched), ``criteria`` (counterparts changed), ``uidvalidity``
    (the server renumbered it), or ``""``."""

    name: str
    special_use: str = ""
    matched: int = 0
    fetched: int = 0
    new: int = 0
    known: int = 0
    rescan: str = ""


@dataclass
class FetchSummary:
    """What :func:`fetch_imap` did."""

    account: str
    folders: list[FolderResult] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # catalogue keys

    @property
    def matched(self) -> int:
        return sum(f.matched for f in self.folders)

    @property
    def fetched(self) -> int:
        return sum(f.fetched for f in self.folders)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.folders)

    @property
    def known(self) -> int:
        return sum(f.known for f in self.folders)


def internaldate_iso(value: object) -> str | None:
    """INTERNALDATE as ISO 8601 UTC, the format of ``delivered_hint``.

    >>> from datetime import timedelta, timezone
    >>> internaldate_iso(datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    '2024-03-01T09:00:00Z'
    """
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.astimezone()  # naive means the local time zone (imapclient's default)
    return value.astimezone(UTC).strftime(STORED_TIME)


def _size_batches(uids: Sequence[int], sizes: Mapping[int, int], count: int,
                  max_bytes: int = BATCH_BYTES) -> Iterator[list[int]]:
    """Consecutive batches of at most ``count`` UIDs and ``max_bytes`` bytes
    (a single larger message makes a batch of its own).

    >>> list(_size_batches([1, 2, 3, 4, 5], {1: 10, 2: 10, 3: 90, 4: 5, 5: 5}, 3, 100))
    [[1, 2], [3, 4, 5]]
    """
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


class _FolderSync:
    """One folder of one run: plan what to fetch, then fetch it in batches."""

    def __init__(self, store: Store, client: IMAPClient, settings: ImapSettings,
                 folder: Folder, fingerprint: str, criteria: list[Any] | None) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.folder = folder
        self.fingerprint = fingerprint
        self.criteria = criteria
        self.source = f"imap:{settings.account}/{folder.name}"
        self.result = FolderResult(folder.name, folder.special_use)
        self.bytes = 0

    def run(self, parser: _Parser, progress: FolderProgress | None) -> FolderResult:
        info = self.client.select_folder(self.folder.name, readonly=True)
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None
        modseq = int(info[b"HIGHESTMODSEQ"]) if b"HIGHESTMODSEQ" in info else None
        state = folder_state(self.store, self.source)
        if state is not None and state.uidvalidity != uidvalidity:
            _forget_folder(self.store, self.source)
            state, self.result.rescan = None, "uidvalidity"
        elif state is None:
            self.result.rescan = "first"
        elif state.fingerprint != self.fingerprint:
            state, self.result.rescan = None, "criteria"
        start = state.last_uid + 1 if state is not None else 1
        if state is not None and uidnext is not None and uidnext <= start:
            # Nothing arrived since the last run: not even a SEARCH.
            if progress:
                progress(self.folder.name, 0, 0)
            self._finish(state, uidvalidity, uidnext, modseq, start - 1)
            return self.result
        if int(info.get(b"EXISTS", 1)) == 0:
            uids: list[int] = []
        else:
            criteria: list[Any] = ["UID", f"{start}:*"]
            if self.criteria is not None:
                criteria.append(self.criteria)
            # "n:*" always matches the last message, even below n.
            uids = sorted(u for u in self.client.search(criteria) if u >= start)
        self.result.matched = len(uids)
        known = self._known_keys()
        todo = [u for u in uids if self._key(uidvalidity, u) not in known]
        self.result.known = len(uids) - len(todo)
        current = FolderState(uidvalidity, start - 1, uidnext, modseq, self.fingerprint)
        _save_state(self.store, self.source, self.settings.account, self.folder.name, current)
        if progress:
            progress(self.folder.name, 0, len(todo))
        self._fetch(todo, uidvalidity, parser, progress)
        self._finish(current, uidvalidity, uidnext, modseq, max(uids, default=0))
        return self.result

    def _known_keys(self) -> set[str]:
        """Keys of this folder's messages that need no download. When
        filtering, a message stored by headers only (an earlier ``--all``
        run, before its counterpart was configured) is downloaded again so it
        gains its content."""
        if self.criteria is None:
            return self.store.known_keys(self.source)
        rows = self.store.conn.execute(
            "SELECT l.key FROM locations l JOIN bodies b ON b.message_rowid = l.message_rowid "
            "WHERE l.source = ?", (self.source,))
        return {row[0] for row in rows}

    def _key(self, uidvalidity: int, uid: int) -> str:
        return f"{self.source}/{uidvalidity}/{uid}"

    def _finish(self, state: FolderState, uidvalidity: int, uidnext: int | None,
                modseq: int | None, highest: int) -> None:
        # Every UID below UIDNEXT (as EXAMINE reported it) was searched.
        last = max(state.last_uid, highest, (uidnext or 1) - 1)
        _save_state(self.store, self.source, self.settings.account, self.folder.name,
                    FolderState(uidvalidity, last, uidnext, modseq, self.fingerprint))

    def _fetch(self, todo: list[int], uidvalidity: int, parser: _Parser,
               progress: FolderProgress | None) -> None:
        if not todo:
            return
        sizes: dict[int, int] = {}
        for uid, data in self.client.fetch(todo, ["RFC822.SIZE"]).items():
            sizes[int(uid)] = int(data.get(b"RFC822.SIZE", 0))
        many = len(todo) >= POOL_THRESHOLD
        # While workers parse a batch, the next one is read from the network;
        # batches are still stored in order, one transaction each.
        pending: deque[tuple[list[int], dict[int, bytes], Callable[[], list[_Parsed]]]] = deque()
        done = 0
        for batch in _size_batches(todo, sizes, self.settings.batch_size):
            response = self.client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            raws: dict[int, bytes] = {}
            items: list[tuple[int, bytes, str | None]] = []
            for uid in batch:
                data = response.get(uid)
                raw = data.get(b"BODY[]") if data else None
                if isinstance(raw, bytes):  # else expunged since the SEARCH
                    raws[uid] = raw
                    items.append((uid, raw, internaldate_iso(data.get(b"INTERNALDATE"))))
                    self.bytes += len(raw)
            pending.append((batch, raws, parser.submit(items, many)))
            if len(pending) > parser.depth:
                done += self._store(*pending.popleft(), uidvalidity)
                if progress:
                    progress(self.folder.name, done, len(todo))
        while pending:
            done += self._store(*pending.popleft(), uidvalidity)
            if progress:
                progress(self.folder.name, done, len(todo))

    def _store(self, batch: list[int], raws: dict[int, bytes],
               parsed: Callable[[], list[_Parsed]], uidvalidity: int) -> int:
        records: list[Record] = []
        for item in parsed():
            if self.criteria is not None and not item.relevant:
                # The server matches substrings ("notfrancetravail.fr"); only
                # mail that really involves a counterpart is kept.
                self.result.matched -= 1
                continue
            location = Location(self._key(uidvalidity, item.uid), "imap", self.source,
                                self.folder.name, folder=self.folder.name, uid=item.uid)
            records.append(Record(location, item.headers,
                                  raws[item.uid] if item.keep else None, item.body))
        # The folder's progress moves with the batch, in its transaction:
        # every UID up to the batch's highest was looked at and kept or
        # dropped, so a killed run resumes right after it.
        highest = max(batch)

        def progress(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE imap_state SET last_uid = ? WHERE source = ? AND last_uid < ?",
                         (highest, self.source, highest))

        new, known = self.store.add_records(records, within=progress)
        self.result.fetched += len(batch)
        self.result.new += new
        self.result.known += known
        return len(batch)


@dataclass(slots=True)
class _Parsed:
    uid: int
    headers: ParsedHeaders
    relevant: bool
    keep: bool
    body: ParsedBody | None


def _parse_items(config: Config, filtered: bool,
                 items: Sequence[tuple[int, bytes, str | None]]) -> list[_Parsed]:
    """The local-import parse of fetched messages: headers for all, the full
    parse for those kept (counterpart mail, broken mail). Runs in a worker."""
    classifier = PartyClassifier(config)
    out: list[_Parsed] = []
    for uid, raw, delivered in items:
        headers = parse_headers(raw, delivered_hint=delivered)
        relevant = classifier.involves_counterpart(headers.from_addr, headers.recipients())
        keep = relevant or not headers.has_headers or bool(headers.problems)
        if filtered and not relevant:
            keep = False  # dropped by the caller: not worth a full parse
        out.append(_Parsed(uid, headers, relevant, keep, parse_body(raw) if keep else None))
    return out


def _init_worker() -> None:
    close_inherited_locks()
    # Ctrl-C is the fetching process's to handle: it stops the pool itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # Die with the fetching process (kill -9 included): no orphan workers.
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class _Parser:
    """Parses fetched batches: inline for small folders, in a pool of worker
    processes (started once per run, on first need) for large ones."""

    def __init__(self, config: Config, filtered: bool, workers: int | None = None) -> None:
        self.config = config
        self.filtered = filtered
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.depth = max(1, self.workers)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, items: list[tuple[int, bytes, str | None]], many: bool
               ) -> Callable[[], list[_Parsed]]:
        if self._pool is None and many and self.workers > 1:
            context = multiprocessing.get_context(forking.start_method())
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_init_worker)
        if self._pool is None:
            result = _parse_items(self.config, self.filtered, items)
            return lambda: result
        # Small chunks keep every worker busy on one batch while the next
        # batch is read from the network.
        pool = self._pool
        futures = [pool.submit(_parse_items, self.config, self.filtered, items[i:i + CHUNK])
                   for i in range(0, len(items), CHUNK)]
        return lambda: [parsed for future in futures for parsed in future.result()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def fetch_imap(
    store: Store,
    settings: ImapSettings,
    config: Config,
    *,
    credentials: PasswordProvider | None = None,
    progress: FolderProgress | None = None,
    workers: int | None = None,
) -> FetchSummary:
    """Fetch into ``store`` the messages of the account that involve a
    counterpart (every message with ``settings.filter`` false).

    ``credentials`` returns the secret to log in with (default: token command,
    environment, secure keyring, prompt). ``progress(folder, done, total)`` is
    called as each folder advances. ``workers`` processes parse large
    folders (default: up to 2). Raises :class:`ImapError` or
    :class:`CredentialsError` with one clear line; what was stored before the
    error stays stored, and the next run goes on from there.
    """
    started = time.perf_counter()
    terms = watched_terms(config)
    if settings.filter and not terms:
        raise ImapError("imap.no_counterparts")
    criteria = search_criteria(terms) if settings.filter else None
    fingerprint = criteria_fingerprint(config, settings.filter)
    summary = FetchSummary(settings.account)
    if settings.plaintext_warning:
        summary.warnings.append("imap.warning.plaintext")
    parser = _Parser(config, settings.filter, workers)
    with store.writing():
        try:
            with connect(settings, credentials) as client, _server_errors(settings):
                if client.has_capability("CONDSTORE") and client.has_capability("ENABLE"):
                    # Makes EXAMINE report HIGHESTMODSEQ, kept with the state.
                    client.enable("CONDSTORE")
                folders = choose_folders(list_folders(client), client.capabilities(),
                                         settings.folders)
                for folder in folders:
                    sync = _FolderSync(store, client, settings, folder, fingerprint, criteria)
                    summary.folders.append(sync.result)
                    try:
                        sync.run(parser, progress)
                    finally:
                        summary.bytes += sync.bytes
        finally:
            parser.close()
            store.conn.execute("DROP TRIGGER IF EXISTS temp.analyzer_imap_progress")
    summary.seconds = time.perf_counter() - started
    return summary


# -- discovery on the server ------------------------------------------------


@dataclass
class Candidate:
    """An address that mentions a counterpart by name but is not configured yet."""

    address: str
    name: str
    domain: str
    messages: int = 0
    mentions: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    first_date: str | None = None
    last_date: str | None = None
    subjects: tuple[str, ...] = ()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _text_search(client: IMAPClient, name: str) -> list[int]:
    if name.isascii():
        return list(client.search(["TEXT", name]))
    from imapclient import exceptions as imap_exc

    try:
        return list(client.search(["TEXT", name], charset="UTF-8"))
    except imap_exc.IMAPClientError:
        # No UTF-8 SEARCH on this server ([BADCHARSET]): the name without accents.
        folded = _ascii(name)
        return list(client.search(["TEXT", folded])) if folded.strip() else []


def discover_on_server(
    settings: ImapSettings,
    config: Config,
    password_provider: PasswordProvider | None = None,
) -> list[Candidate]:
    """Addresses, found on the server without downloading any message, that
    exchanged mail mentioning a counterpart by name but that no counterpart
    covers yet: a contractor writing from a domain not configured, an
    advisor's webmail. SEARCH TEXT for the names, then only the headers
    (From, To, Cc, Subject, Date) of the matches. Most frequent first.
    """
    names = sorted({cp.name for cp in config.counterparts})
    if not names:
        raise ImapError("imap.no_counterparts")
    classifier = PartyClassifier(config)
    found: dict[str, Candidate] = {}
    with connect(settings, password_provider) as client, _server_errors(settings):
        folders = choose_folders(list_folders(client), client.capabilities(), settings.folders)
        for folder in folders:
            client.select_folder(folder.name, readonly=True)
            # One SEARCH per name (not one OR of all): it tells which names
            # each message mentions without reading its body.
            mentions: dict[int, list[str]] = {}
            for name in names:
                for uid in _text_search(client, name):
                    mentions.setdefault(uid, []).append(name)
            uids = sorted(mentions)
            for start in range(0, len(uids), settings.batch_size):
                batch = uids[start:start + settings.batch_size]
                for uid, data in client.fetch(batch, [HEADER_FIELDS]).items():
                    raw = next((v for k, v in data.items()
                                if isinstance(k, bytes) and k.startswith(b"BODY[HEADER")
                                and isinstance(v, bytes)), None)
                    if raw is not None:
                        _note_candidates(found, raw, folder.name, mentions.get(uid, []),
                                         classifier)
    return sorted(found.values(), key=lambda c: (-c.messages, c.address))


def _note_candidates(found: dict[str, Candidate], raw: bytes, folder: str,
                     mentions: Sequence[str], classifier: PartyClassifier) -> None:
    headers = parse_headers(raw)
    if classifier.is_me(headers.from_addr):
        people = [*headers.to, *headers.cc]  # my own mail: who I wrote to
    else:
        people = [(headers.from_name, headers.from_addr)]
    for display, address in people:
        if not address or classifier.is_me(address) \
                or classifier.counterpart_of(address) is not None:
            continue
        cand = found.get(address)
        if cand is None:
            cand = found[address] = Candidate(address, display,
                                              address.rpartition("@")[2])
        cand.messages += 1
        cand.name = cand.name or display
        cand.mentions = tuple(dict.fromkeys((*cand.mentions, *mentions)))
        cand.folders = tuple(sorted({*cand.folders, folder}))
        when = headers.date_utc
        if when is not None:
            cand.first_date = min(filter(None, (cand.first_date, when)))
            cand.last_date = max(filter(None, (cand.last_date, when)))
        if headers.subject and headers.subject not in cand.subjects and len(cand.subjects) < 3:
            cand.subjects = (*cand.subjects, headers.subject)


__all__ = [
    "BATCH",
    "Candidate",
    "FetchSummary",
    "Folder",
    "FolderResult",
    "ImapSettings",
    "choose_folders",
    "connect",
    "criteria_fingerprint",
    "discover_on_server",
    "fetch_imap",
    "internaldate_iso",
    "is_loopback",
    "search_criteria",
    "server_trouble",
    "settings_from_config",
    "watched_terms",
]
