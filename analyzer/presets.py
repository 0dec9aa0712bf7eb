"""Counterpart presets: the public services `analyzer init` offers, as data.

The presets live in ``presets.toml`` beside this module (one file, documented
in its header, corrected by pull request). Each becomes a
:class:`analyzer.config.Counterpart` whose ``id`` is the preset's id, so
figures aggregate on the same id whoever wrote the configuration.

Example::

    >>> france_travail = get_preset("france-travail")
    >>> france_travail.counterpart().domains
    ('francetravail.fr', 'pole-emploi.fr', 'pole-emploi.net')
    >>> get_preset("other").blank
    True
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from analyzer.config import COUNTERPART_KINDS, Counterpart, CounterpartKind, parse_config
from analyzer.errors import ConfigError, UsageError

BLANK_ID = "other"


@dataclass(frozen=True)
class Preset:
    """One entry of ``presets.toml``; ``blank`` for the "another organisation" entry."""

    id: str
    name: str
    kind: CounterpartKind
    domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    label_fr: str = ""
    label_en: str = ""
    sources: tuple[str, ...] = ()

    @property
    def blank(self) -> bool:
        """True for the entry the user fills in (no domain, no address)."""
        return not self.domains and not self.addresses

    def label(self, lang: str) -> str:
        """How the set-up lists it, in ``lang``.

        >>> get_preset("ants").label("en")
        'ANTS (vehicle registration, driving licence, identity papers)'
        """
        return self.label_en if lang == "en" else self.label_fr

    def counterpart(self, name: str | None = None, kind: str | None = None,
                    domains: Iterable[str] = (), addresses: Iterable[str] = ()) -> Counterpart:
        """The preset as a configured counterpart; arguments extend it (the
        blank entry needs a name and at least one domain or address).

        >>> get_preset("other").counterpart("Cabinet Exemple", domains=["exemple.fr"])
        Counterpart(name='Cabinet Exemple', kind='contractor', domains=('exemple.fr',), \
addresses=(), id='')
        """
        # Organisations typed in by users get no shared id: two people's
        # "other" are different firms, aggregated on their names' slugs.
        raw = {"name": name or self.name, "kind": kind or self.kind,
               "id": "" if self.blank else self.id,
               "domains": list(dict.fromkeys([*self.domains, *domains])),
               "addresses": list(dict.fromkeys([*self.addresses, *addresses]))}
        # parse_config is the one place that validates a counterpart.
        return parse_config({"counterpart": [raw]}).counterparts[0]


def _preset(raw: Any, index: int) -> Preset:
    where = f"presets.toml: preset[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError("config.invalid", path=where, key="preset", expected="a table")
    fields = {"id", "name", "kind", "domains", "addresses", "label_fr", "label_en", "sources"}
    for key in raw:
        if key not in fields:
            raise ConfigError("config.invalid", path=where, key=key,
                              expected="one of " + ", ".join(sorted(fields)))
    kind = raw.get("kind")
    if kind not in COUNTERPART_KINDS:
        raise ConfigError("config.invalid", path=where, key="kind",
                          expected="'agency' or 'contractor'")
    preset = Preset(str(raw.get("id", "")), str(raw.get("name", "")), kind,
                    tuple(raw.get("domains", ())), tuple(raw.get("addresses", ())),
                    str(raw.get("label_fr", "")), str(raw.get("label_en", "")),
                    tuple(raw.get("sources", ())))
    if not preset.id or not preset.label_fr or not preset.label_en:
        raise ConfigError("config.invalid", path=where, key="id",
                          expected="an id, a label_fr and a label_en")
    if not preset.blank:
        preset.counterpart()  # the same checks as a hand-written configuration
    return preset


def parse_presets(text: str) -> tuple[Preset, ...]:
    """Presets from the text of a presets file, validated; ids are unique.

    >>> [p.id for p in parse_presets('[[preset]]\\nid = "x"\\nname = "X"\\n'
    ...     'kind = "agency"\\ndomains = ["x.fr"]\\nlabel_fr = "X"\\nlabel_en = "X"\\n')]
    ['x']
    """
    raw = tomllib.loads(text).get("preset", [])
    presets = tuple(_preset(item, i) for i, item in enumerate(raw))
    ids = [p.id for p in presets]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError("config.invalid", path="presets.toml", key="id",
                          expected=f"ids used once (got {', '.join(duplicates)} twice)")
    return presets


@cache
def presets() -> tuple[Preset, ...]:
    """The presets shipped with the package, in the order the set-up lists them."""
    text = resources.files("analyzer").joinpath("presets.toml").read_text("utf-8")
    return parse_presets(text)


def get_preset(preset_id: str) -> Preset:
    """The preset ``preset_id``; a :class:`UsageError` naming the known ids otherwise.

    >>> get_preset("pole-emploi")
    Traceback (most recent call last):
    ...
    analyzer.errors.UsageError: Unknown service 'pole-emploi'. Known: france-travail, caf, \
assurance-maladie, dgfip, ants, other.
    """
    for preset in presets():
        if preset.id == preset_id:
            return preset
    raise UsageError("presets.unknown", id=preset_id,
                     known=", ".join(p.id for p in presets()))


def counterparts_for(preset_ids: Iterable[str]) -> list[Counterpart]:
    """The counterparts of non-blank presets, in the order given, each once.

    >>> [c.id for c in counterparts_for(["caf", "france-travail", "caf"])]
    ['caf', 'france-travail']
    """
    chosen = [get_preset(i) for i in dict.fromkeys(preset_ids)]
    return [p.counterpart() for p in chosen if not p.blank]


__all__ = ["BLANK_ID", "Preset", "counterparts_for", "get_preset", "parse_presets", "presets"]
