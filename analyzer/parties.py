"""Who sent a message: ``me``, ``agency``, ``contractor`` or ``other``.

A message's party is its sender's; its counterpart is the organisation on the
other side of the exchange (the sender's for received mail, the first matching
recipient's for mail I sent). Single addresses win over domains, so a
contractor writing from a webmail address is still recognised; a domain also
covers its sub-domains (``agence.francetravail.fr``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from analyzer.config import Config, Counterpart

Party = Literal["me", "agency", "contractor", "other"]
PARTIES: tuple[Party, ...] = ("me", "agency", "contractor", "other")


def _strip_subaddress(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if domain else address


@dataclass(frozen=True)
class Classification:
    party: Party
    counterpart: Counterpart | None


class PartyClassifier:
    """Classifies addresses and messages against one :class:`Config`.

    >>> from analyzer.config import parse_config
    >>> cfg = parse_config({"me": {"addresses": ["me@home.fr"]}, "counterpart": [
    ...     {"name": "France Travail", "kind": "agency", "domains": ["francetravail.fr"]}]})
    >>> pc = PartyClassifier(cfg)
    >>> pc.party_of("Conseiller@Agence.FranceTravail.fr")
    'agency'
    >>> c = pc.classify("me@home.fr", ["x@francetravail.fr"])
    >>> c.party, c.counterpart.name
    ('me', 'France Travail')
    """

    def __init__(self, config: Config) -> None:
        self._me = frozenset(_strip_subaddress(a) for a in config.me)
        self._by_address: dict[str, Counterpart] = {}
        self._by_domain: dict[str, Counterpart] = {}
        for cp in config.counterparts:
            for address in cp.addresses:
                self._by_address.setdefault(address, cp)
            for domain in cp.domains:
                self._by_domain.setdefault(domain, cp)

    def is_me(self, address: str) -> bool:
        return _strip_subaddress(address.lower()) in self._me

    def counterpart_of(self, address: str) -> Counterpart | None:
        """The counterpart an address belongs to, or None."""
        address = address.lower()
        found = self._by_address.get(address)
        if found is not None:
            return found
        domain = address.rpartition("@")[2]
        while domain:
            found = self._by_domain.get(domain)
            if found is not None:
                return found
            domain = domain.partition(".")[2]
        return None

    def party_of(self, address: str) -> Party:
        if self.is_me(address):
            return "me"
        cp = self.counterpart_of(address)
        return cp.kind if cp is not None else "other"

    def classify(self, sender: str, recipients: Iterable[str] = ()) -> Classification:
        """Party of the sender and the counterpart of the exchange."""
        party = self.party_of(sender)
        if party in ("agency", "contractor"):
            return Classification(party, self.counterpart_of(sender))
        if party == "me":
            for address in recipients:
                cp = self.counterpart_of(address)
                if cp is not None:
                    return Classification("me", cp)
        return Classification(party, None)

    def involves_counterpart(self, sender: str, recipients: Iterable[str]) -> bool:
        """True when the sender or any recipient belongs to a counterpart."""
        if self.counterpart_of(sender) is not None:
            return True
        return any(self.counterpart_of(a) is not None for a in recipients)
