from __future__ import annotations

import pytest

from analyzer.config import parse_config
from analyzer.parties import PartyClassifier

CONFIG = parse_config({
    "me": {"addresses": ["julie.moreau@exemple-perso.fr", "j.moreau@exemple-perso.fr"]},
    "counterpart": [
        {"name": "France Travail", "kind": "agency",
         "domains": ["pole-emploi.fr", "francetravail.fr"]},
        {"name": "Cabinet Avenir", "kind": "contractor", "domains": ["cabinet-avenir.fr"],
         "addresses": ["avenir.relation@gmail.com"]},
        {"name": "Agence locale", "kind": "agency",
         "addresses": ["coach.special@francetravail.fr"]},
    ],
})


@pytest.mark.parametrize(
    ("address", "party", "counterpart"),
    [
        ("julie.moreau@exemple-perso.fr", "me", None),
        ("Julie.Moreau+pe@Exemple-Perso.fr", "me", None),
        ("j.moreau@exemple-perso.fr", "me", None),
        ("conseiller.123@pole-emploi.fr", "agency", "France Travail"),
        ("ne-pas-repondre@agence.francetravail.fr", "agency", "France Travail"),
        ("coach.special@francetravail.fr", "agency", "Agence locale"),
        ("x@notfrancetravail.fr", "other", None),
        ("avenir.relation@gmail.com", "contractor", "Cabinet Avenir"),
        ("someone@gmail.com", "other", None),
        ("", "other", None),
    ],
)
def test_party_of_address(address: str, party: str, counterpart: str | None) -> None:
    pc = PartyClassifier(CONFIG)
    assert pc.party_of(address) == party
    found = pc.counterpart_of(address)
    assert (found.name if found else None) == counterpart


@pytest.mark.parametrize(
    ("sender", "recipients", "party", "counterpart"),
    [
        ("julie.moreau@exemple-perso.fr", ["contact@francetravail.fr"], "me", "France Travail"),
        ("julie.moreau@exemple-perso.fr", ["ami@exemple.fr", "rdv@cabinet-avenir.fr"], "me",
         "Cabinet Avenir"),
        ("julie.moreau@exemple-perso.fr", ["ami@exemple.fr"], "me", None),
        ("conseiller@pole-emploi.fr", ["julie.moreau@exemple-perso.fr"], "agency",
         "France Travail"),
        ("ami@exemple.fr", ["julie.moreau@exemple-perso.fr", "x@pole-emploi.fr"], "other", None),
    ],
)
def test_classify_message(sender: str, recipients: list[str], party: str,
                          counterpart: str | None) -> None:
    found = PartyClassifier(CONFIG).classify(sender, recipients)
    assert (found.party, found.counterpart.name if found.counterpart else None) == (
        party, counterpart)


def test_involves_counterpart() -> None:
    pc = PartyClassifier(CONFIG)
    assert pc.involves_counterpart("ami@exemple.fr", ["x@pole-emploi.fr"]) is True
    assert pc.involves_counterpart("ami@exemple.fr", ["julie.moreau@exemple-perso.fr"]) is False
