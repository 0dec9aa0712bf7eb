"""Counterpart presets: the shipped data file, its validation, and counterparts from it."""

from __future__ import annotations

import doctest

import pytest

import analyzer.presets
from analyzer.config import parse_config
from analyzer.errors import ConfigError, UsageError
from analyzer.presets import BLANK_ID, counterparts_for, get_preset, parse_presets, presets


def test_shipped_presets_and_their_domains() -> None:
    table = {p.id: (p.name, p.kind, p.domains) for p in presets()}
    assert table == {
        "france-travail": ("France Travail", "agency",
                           ("francetravail.fr", "pole-emploi.fr", "pole-emploi.net")),
        "caf": ("CAF", "agency", ("caf.fr",)),
        "assurance-maladie": ("Assurance Maladie", "agency",
                              ("ameli.fr", "assurance-maladie.fr")),
        "dgfip": ("Impôts (DGFiP)", "agency", ("dgfip.finances.gouv.fr", "impots.gouv.fr")),
        "ants": ("ANTS", "agency", ("ants.gouv.fr",)),
        "other": ("", "contractor", ()),
    }
    # France Travail first: the set-up's default answer.
    assert presets()[0].id == "france-travail"
    assert [p.id for p in presets() if p.blank] == [BLANK_ID]


def test_every_preset_is_documented_in_both_languages() -> None:
    for preset in presets():
        assert preset.label("fr") and preset.label("en") and preset.label("fr") != preset.id
        if not preset.blank:
            assert preset.sources, preset.id


def test_counterparts_keep_the_preset_id_and_load_as_config() -> None:
    chosen = counterparts_for(["caf", "france-travail", "caf", BLANK_ID])
    assert [(c.id, c.canonical_id) for c in chosen] == [("caf", "caf"),
                                                        ("france-travail", "france-travail")]
    config = parse_config({"counterpart": [
        {"id": c.id, "name": c.name, "kind": c.kind, "domains": list(c.domains)}
        for c in chosen]})
    assert config.counterparts == tuple(chosen)


def test_blank_entry_needs_a_name_and_a_domain() -> None:
    blank = get_preset(BLANK_ID)
    firm = blank.counterpart("Cabinet Exemple", "contractor", ["cabinet-exemple.fr"],
                             ["rdv@relais.example"])
    # Typed-in organisations share no id: they aggregate on their own names.
    assert (firm.id, firm.canonical_id) == ("", "cabinet-exemple")
    with pytest.raises(ConfigError):
        blank.counterpart("Cabinet Exemple")


@pytest.mark.parametrize("lang, text", [
    ("fr", "Service inconnu « pole-emploi ». Services connus : france-travail, caf, "
           "assurance-maladie, dgfip, ants, other."),
    ("en", "Unknown service 'pole-emploi'. Known: france-travail, caf, assurance-maladie, "
           "dgfip, ants, other."),
])
def test_unknown_preset_names_the_known_ones(lang: str, text: str) -> None:
    with pytest.raises(UsageError) as raised:
        get_preset("pole-emploi")
    assert raised.value.render(lang) == text


@pytest.mark.parametrize("toml, key", [
    ('[[preset]]\nid = "a"\nname = "A"\nkind = "firm"\ndomains = ["a.fr"]\n'
     'label_fr = "A"\nlabel_en = "A"\n', "kind"),
    ('[[preset]]\nid = "a"\nname = "A"\nkind = "agency"\ndomains = ["not a domain"]\n'
     'label_fr = "A"\nlabel_en = "A"\n', "counterpart[0].domains"),
    ('[[preset]]\nid = "a"\nname = "A"\nkind = "agency"\ndomains = ["a.fr"]\n'
     'label_fr = "A"\n', "id"),
    ('[[preset]]\nid = "a"\nname = "A"\nkind = "agency"\ndomains = ["a.fr"]\n'
     'label_fr = "A"\nlabel_en = "A"\nurl = "x"\n', "url"),
    ('[[preset]]\nid = "a"\nname = "A"\nkind = "agency"\ndomains = ["a.fr"]\n'
     'label_fr = "A"\nlabel_en = "A"\n' * 2, "id"),
])
def test_a_wrong_presets_file_is_refused(toml: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_presets(toml)
    assert raised.value.params["key"] == key


def test_doctests() -> None:
    result = doctest.testmod(analyzer.presets)
    assert (result.failed, result.attempted > 3) == (0, True)
