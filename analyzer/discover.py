"""Discovery: senders the config does not name who look like counterparts.

A private firm often writes from an address the citizen has never seen. This
lists, for each unknown sender, why it may be one: its messages sit in a
thread with a counterpart's, mention a counterpart by name, or come from a
"do not reply" address of a public service.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyzer.config import Config
from analyzer.people import fold
from analyzer.schema import tuples

# Public-service domains and do-not-reply local parts (reference notes, §4).
_PUBLIC_DOMAIN = re.compile(
    r"(?:^|\.)(?:gouv\.fr|caf\.fr|ameli\.fr|assurance-maladie\.fr|francetravail\.fr|"
    r"pole-emploi\.fr|pole-emploi\.net|urssaf\.fr|msa\.fr|cnav\.fr|service-public\.fr)$"
)
_NO_REPLY = re.compile(r"^(?:ne-?pas-?repondre|nepasrepondre|no-?reply|noreply|ne-pas-ecrire)")
# Words that tie a message to the agency's world even when the firm is unknown.
_AGENCY_WORDS = ("france travail", "pole emploi", "accompagnement", "prestataire",
                 "conseiller", "demandeur d'emploi", "espace personnel")
EXAMPLES = 3


@dataclass
class Candidate:
    """An unknown sender that may be a counterpart."""

    address: str
    name: str
    messages: int = 0
    reasons: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)


def discover(messages: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Candidate counterparts among senders the config does not name.

    ``messages`` is :meth:`analyzer.analysis.Analysis.messages`. Returns one
    row per candidate sender: ``address, name, messages, reasons, examples``,
    most messages first. Reasons: ``thread`` (in a thread with a
    counterpart), ``mentions`` (names a counterpart or the agency's world),
    ``public-service`` (a public service's domain),
    ``public-service-no-reply`` (its do-not-reply address).
    """
    names = [fold(cp.name) for cp in config.counterparts]
    counterpart_threads = set(messages.loc[messages["counterpart"].notna(), "thread_id"])
    me = set(config.me)
    found: dict[str, Candidate] = {}
    for row in tuples(messages, index=False):
        address = row.from_addr
        if not address or row.party != "other" or address in me:
            continue
        reasons: set[str] = set()
        if row.thread_id in counterpart_threads:
            reasons.add("thread")
        text = fold(f"{row.subject}\n{row.from_name}\n{getattr(row, 'body_text', '') or ''}")
        if any(n and n in text for n in names) or any(w in text for w in _AGENCY_WORDS):
            reasons.add("mentions")
        local, _, domain = address.partition("@")
        if _PUBLIC_DOMAIN.search(domain):
            reasons.add("public-service-no-reply" if _NO_REPLY.match(local)
                        else "public-service")
        if not reasons:
            continue
        cand = found.setdefault(address, Candidate(address, row.from_name))
        cand.messages += 1
        cand.reasons |= reasons
        if len(cand.examples) < EXAMPLES and row.subject not in cand.examples:
            cand.examples.append(row.subject)
    by_domain: dict[str, int] = defaultdict(int)
    for cand in found.values():
        by_domain[cand.address.partition("@")[2]] += cand.messages
    table = pd.DataFrame(
        [(c.address, c.name, c.messages, ",".join(sorted(c.reasons)), " | ".join(c.examples))
         for c in found.values()],
        columns=["address", "name", "messages", "reasons", "examples"],
    )
    return table.sort_values(["messages", "address"], ascending=[False, True]).reset_index(
        drop=True)


def server_candidates(local: pd.DataFrame, found: Sequence[Any]) -> pd.DataFrame:
    """``local`` (from :func:`discover`) merged with the candidates an IMAP
    server search found (:func:`analyzer.imap.discover_on_server`), which add
    the reason ``server-mentions``.

    >>> server_candidates(pd.DataFrame(columns=["address", "name", "messages", "reasons",
    ...                                         "examples"]), []).empty
    True
    """
    rows = {r.address: [r.address, r.name, r.messages, r.reasons, r.examples]
            for r in tuples(local, index=False)}
    for cand in found:
        subjects = " | ".join(list(cand.subjects)[:EXAMPLES])
        if cand.address in rows:
            row = rows[cand.address]
            row[2] = max(int(row[2]), cand.messages)
            row[3] = ",".join(sorted(set(str(row[3]).split(",")) | {"server-mentions"}))
        else:
            rows[cand.address] = [cand.address, cand.name, cand.messages, "server-mentions",
                                  subjects]
    table = pd.DataFrame(list(rows.values()),
                         columns=["address", "name", "messages", "reasons", "examples"])
    return table.sort_values(["messages", "address"], ascending=[False, True]).reset_index(
        drop=True)

