"""Fuzz ticket-marker detection, quote cutting and ticket-state wording.

``python fuzz/fuzz_tickets.py -atheris_runs=1000000``

Invariants: nothing raises; refs are de-duplicated and name a known system,
a non-empty number without whitespace and a known source; the primary ticket
is the first ref; a message's own text is a prefix-bounded cut of its body.
"""

from __future__ import annotations

import _common

from analyzer.tickets import (
    BODY_SCAN_LIMIT,
    SYSTEMS,
    detect_previous_ticket_mentions,
    detect_tickets,
    own_text,
    primary_ticket,
    ticket_key,
    ticket_state,
)

_HEADER_NAMES = ("x-redmine-issue-id", "rt-ticket", "x-rt-ticket", "x-jira-fingerprint",
                 "x-zendesk-from-account-id", "x-freshdesk-ticket", "x-mailer")
_SOURCES = {"subject", "header", "message_id", "references", "body"}


def check(data: bytes) -> None:
    """One fuzz input: subject, headers, Message-ID, References, then body."""
    src = _common.Bytes(data)
    subject = src.text(400)
    headers = {_HEADER_NAMES[src.byte() % len(_HEADER_NAMES)]: src.text(80)
               for _ in range(src.byte() % 3)}
    message_id = src.text(120)
    references = [src.text(120) for _ in range(src.byte() % 4)]
    body = src.rest().decode("utf-8", "replace")
    refs = detect_tickets(subject, headers, message_id, references, body)
    keys = [(r.system, r.number, r.source) for r in refs]
    assert len(keys) == len(set(keys)), keys
    for ref in refs:
        assert ref.system in SYSTEMS, ref
        assert ref.source in _SOURCES, ref
        assert ref.number and not any(c.isspace() for c in ref.number), ref
        ticket_key(ref)
    primary = primary_ticket(refs)
    assert primary == (refs[0] if refs else None)
    own = own_text(body)
    assert len(own) <= BODY_SCAN_LIMIT
    for mention in detect_previous_ticket_mentions(body):
        assert mention
    ticket_state(subject, body)


if __name__ == "__main__":
    _common.run(check)
