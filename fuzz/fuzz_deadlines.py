"""Fuzz the extraction of demanded deadlines.

``python fuzz/fuzz_deadlines.py -atheris_runs=1000000``

Inputs mix fuzzer bytes with the vocabulary of demands (cues, numbers, units,
dates, weekdays), so that the fuzzer reaches date arithmetic quickly.
Invariants: nothing raises; each deadline's phrase is in the text; spans are
positive; a due time is in the sender's time zone (a written year may lie in
the past: that is what the text says); deadlines come in order of appearance,
without overlapping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import _common

from analyzer.deadlines import extract_deadlines

_WORDS = ("sous ", "48h", "dans un délai de ", "15 jours", "ouvrés ", "ouvrables ",
          "avant le ", "31/12", "29/02/2024", "au plus tard ", "le 3 mars ", "d'ici ",
          "vendredi", "demain", "within ", "10 days", "by ", "February 30, 2020 ",
          "huitaine ", "quinzaine ", "dès que possible", "à 12h", " ", "\n> ", "deux ",
          "quarante-huit ", "heures ", "mois ", "semaine ", "deadline: ", "99/99/9999 ",
          "9999999999 jours ", "1e308 jours ")


def check(data: bytes) -> None:
    """One fuzz input: a send time, then a text of words and raw bytes."""
    src = _common.Bytes(data)
    offset = timezone(timedelta(minutes=(src.byte() - 128) * 10 % (24 * 60) - 12 * 60))
    sent = datetime(2000, 1, 1, tzinfo=UTC).astimezone(offset) + timedelta(
        days=src.byte() * 40 + src.byte(), minutes=src.byte())
    parts: list[str] = []
    while src.pos < len(src.data) and len(parts) < 60:
        choice = src.byte()
        parts.append(_WORDS[choice % len(_WORDS)] if choice < 200 else src.text(40))
    text = "".join(parts)
    found = extract_deadlines(text, sent)
    cursor = 0
    for deadline in found:
        # In order of appearance and not overlapping: each phrase is found
        # after the previous one.
        at = text.find(deadline.phrase, cursor)
        assert deadline.phrase.strip() and at >= 0, (deadline, text)
        cursor = at + len(deadline.phrase)
        assert deadline.hours is None or deadline.hours > 0, deadline
        if deadline.due_at is not None:
            assert deadline.due_at.utcoffset() == sent.utcoffset(), deadline


if __name__ == "__main__":
    _common.run(check)
