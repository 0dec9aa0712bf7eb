"""Fuzz the lean header pass and the header-value parsers it relies on.

``python fuzz/fuzz_headers.py -atheris_runs=1000000``

Invariants: nothing raises; every message gets a non-empty id without
whitespace or angle brackets; a message without a usable Message-ID gets a
synthetic id that is the same for the same bytes; header work is bounded
(at most ``MAX_HEADERS`` fields).
"""

from __future__ import annotations

import _common

from analyzer.msgids import parse_id_list, parse_in_reply_to, parse_message_id
from analyzer.parse import (
    MAX_HEADERS,
    SYNTHETIC_DOMAIN,
    decode_words,
    header_fields,
    parse_addresses,
    parse_headers,
    split_header_block,
    to_utc_iso,
)


def check(data: bytes) -> None:
    """One fuzz input: a whole raw message."""
    headers = parse_headers(data)
    ident = headers.message_id
    assert ident and ident == ident.strip(), ident
    if headers.synthetic_id:
        assert ident.endswith("@" + SYNTHETIC_DOMAIN), ident
        assert parse_headers(data).message_id == ident
    assert headers.size == len(data)
    block, body_start = split_header_block(data)
    assert 0 <= body_start <= len(data)
    fields, _ = header_fields(block)
    assert len(fields) <= MAX_HEADERS
    text = data.decode("utf-8", "replace")
    decode_words(text)
    for _, addr in parse_addresses(text):
        assert "@" in addr and addr == addr.lower()
    stamp = to_utc_iso(text)
    assert stamp is None or (len(stamp) == 20 and stamp.endswith("Z"))
    parse_message_id(text)
    for found in (*parse_id_list(text), *parse_in_reply_to(text)):
        assert found and "<" not in found and ">" not in found
        assert not any(c.isspace() for c in found)


if __name__ == "__main__":
    _common.run(check)
