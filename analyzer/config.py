"""The TOML configuration: who is me, who the counterparts are, the IMAP account.

Minimal shape::

    [me]
    addresses = ["julie.moreau@exemple-perso.fr"]

    [[counterpart]]
    name = "France Travail"
    kind = "agency"            # agency | contractor
    domains = ["pole-emploi.fr", "francetravail.fr"]
    addresses = []             # single addresses, when a whole domain is too broad

Optional: ``id`` on a counterpart (a stable canonical id, e.g. a preset's), an
``[analysis]`` table (``country = "FR"`` for working days, ``timezone =
"Europe/Paris"`` for dates shown to the user) and an ``[imap]`` table read by
the fetcher.

Lookup order (first found wins): ``--config``, ``$ANALYZER_CONFIG`` (an empty
value means "no config"), ``analyzer.toml`` in the mailbox given to
``report``, ``./analyzer.toml``, then the user's config directory.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analyzer.errors import ConfigError

CounterpartKind = Literal["agency", "contractor"]
COUNTERPART_KINDS: tuple[str, ...] = ("agency", "contractor")
CONFIG_FILENAME = "analyzer.toml"

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Counterpart:
    """An organisation the user deals with: the agency or a private contractor."""

    name: str
    kind: CounterpartKind
    domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    id: str = ""

    @property
    def canonical_id(self) -> str:
        """The id aggregated on across members: the configured ``id`` or a slug of the name."""
        return self.id or slugify(self.name)


@dataclass(frozen=True)
class Config:
    """Who is who, read from one TOML file (``path`` is None for the empty config)."""

    me: tuple[str, ...] = ()
    counterparts: tuple[Counterpart, ...] = ()
    country: str = "FR"
    timezone: str = "Europe/Paris"
    imap: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def fingerprint(self) -> str:
        """A short text that changes whenever the set of watched addresses changes."""
        parts = [",".join(sorted(self.me))]
        for cp in sorted(self.counterparts, key=lambda c: c.name):
            parts.append(f"{cp.name}|{cp.kind}|{','.join(sorted(cp.domains))}|"
                         f"{','.join(sorted(cp.addresses))}")
        return ";".join(parts)


def slugify(text: str) -> str:
    """A lower-case ASCII id for ``text``.

    >>> slugify("Pôle emploi / France Travail")
    'pole-emploi-france-travail'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _fail(path: Path | None, key: str, expected: str) -> ConfigError:
    return ConfigError("config.invalid", path=str(path or "<config>"), key=key, expected=expected)


def _string_list(
    value: Any, path: Path | None, key: str, pattern: re.Pattern[str], what: str
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, key, f"a list of {what}")
    cleaned = []
    for item in value:
        norm = item.strip().lower()
        if not pattern.match(norm):
            raise _fail(path, key, f"a list of {what} (got {item!r})")
        cleaned.append(norm)
    return tuple(cleaned)


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate a decoded TOML document into a :class:`Config`.

    >>> cfg = parse_config({"me": {"addresses": ["Me@Example.org"]},
    ...     "counterpart": [{"name": "CAF", "kind": "agency", "domains": ["caf.fr"]}]})
    >>> cfg.me, cfg.counterparts[0].domains
    (('me@example.org',), ('caf.fr',))
    """
    known = {"me", "counterpart", "analysis", "imap"}
    for key in data:
        if key not in known:
            raise _fail(path, key, "one of the tables [me], [[counterpart]], [analysis], [imap]")
    me_table = data.get("me", {})
    if not isinstance(me_table, dict):
        raise _fail(path, "me", "a table with an 'addresses' list")
    me = _string_list(me_table.get("addresses", []), path, "me.addresses", _ADDRESS,
                      "email addresses")

    raw_cps = data.get("counterpart", [])
    if not isinstance(raw_cps, list):
        raise _fail(path, "counterpart", "an array of tables [[counterpart]]")
    counterparts: list[Counterpart] = []
    seen_names: set[str] = set()
    for i, raw in enumerate(raw_cps):
        where = f"counterpart[{i}]"
        if not isinstance(raw, dict):
            raise _fail(path, where, "a table")
        for key in raw:
            if key not in {"name", "kind", "domains", "addresses", "id"}:
                raise _fail(path, f"{where}.{key}", "one of name, kind, domains, addresses, id")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(path, f"{where}.name", "a non-empty string")
        if name in seen_names:
            raise _fail(path, f"{where}.name", f"a name not used twice (got {name!r})")
        seen_names.add(name)
        kind = raw.get("kind", "agency")
        if kind not in COUNTERPART_KINDS:
            raise _fail(path, f"{where}.kind", "'agency' or 'contractor'")
        domains = _string_list(raw.get("domains", []), path, f"{where}.domains", _DOMAIN,
                               "domain names")
        addresses = _string_list(raw.get("addresses", []), path, f"{where}.addresses", _ADDRESS,
                                 "email addresses")
        if not domains and not addresses:
            raise _fail(path, f"{where}.domains", "at least one domain or address")
        cp_id = raw.get("id", "")
        if not isinstance(cp_id, str):
            raise _fail(path, f"{where}.id", "a string")
        counterparts.append(Counterpart(name.strip(), kind, domains, addresses, cp_id))

    analysis = data.get("analysis", {})
    if not isinstance(analysis, dict):
        raise _fail(path, "analysis", "a table")
    country = analysis.get("country", "FR")
    if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
        raise _fail(path, "analysis.country", "a two-letter country code such as \"FR\"")
    timezone = analysis.get("timezone", "Europe/Paris")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise _fail(path, "analysis.timezone",
                    "an IANA time zone name such as \"Europe/Paris\"") from None
    imap = data.get("imap", {})
    if not isinstance(imap, dict):
        raise _fail(path, "imap", "a table")
    return Config(me, tuple(counterparts), country.upper(), timezone, dict(imap), path)


def load_config(path: Path) -> Config:
    """Read and validate the TOML file at ``path``.

    Raises :class:`ConfigError` naming the file, the key and what was expected.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config.not_found", path=str(path)) from None
    except OSError as exc:
        raise ConfigError("config.unreadable", path=str(path), detail=exc.strerror) from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("config.syntax", path=str(path), detail=str(exc)) from None
    return parse_config(data, path)


def find_config(
    explicit: str | None = None,
    mailboxes: Sequence[Path] = (),
    *,
    env: dict[str, str] | None = None,
    user_config_dir: Path | None = None,
    cwd: Path | None = None,
) -> Path | None:
    """The configuration file to use, by precedence, or None for no config.

    ``explicit`` is the ``--config`` value (an empty string means no config).
    """
    environ = os.environ if env is None else env
    if explicit is not None:
        return Path(explicit) if explicit else None
    if "ANALYZER_CONFIG" in environ:
        value = environ["ANALYZER_CONFIG"]
        return Path(value) if value else None
    for mailbox in mailboxes:
        candidate = mailbox / CONFIG_FILENAME
        if mailbox.is_dir() and candidate.is_file():
            return candidate
    local = (cwd or Path.cwd()) / CONFIG_FILENAME
    if local.is_file():
        return local
    if user_config_dir is None:
        from analyzer.paths import config_dir

        user_config_dir = config_dir()
    user = user_config_dir / CONFIG_FILENAME
    return user if user.is_file() else None
