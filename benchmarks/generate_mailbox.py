"""Write a synthetic ticket-system mailbox of a given size, for benchmarks.

The mailbox comes with ``analyzer.toml`` and ``truth.json`` (see
:mod:`analyzer.synthetic`). About a tenth of the messages belong to cases, as
in a real citizen's mailbox; ``--worst-case`` makes every message belong to one.

``--sizes realistic`` (the default) gives the messages the sizes of today's
mail; the scenario generator alone writes bare ones (1.4 kB on average, no
attachment above 10 kB), which ``--sizes small`` keeps. What it adds, drawn
from each message's own Message-ID so the scenario and its truth are unchanged:

- the trace a mailbox provider leaves on received mail: relay hops
  (``Received``), SPF, DKIM, ARC and authentication results, about 3-5 kB,
  and a DKIM signature on sent mail;
- an HTML part where today's senders send one: newsletters, shops' and
  banks' notices as styled table layouts (median about 30 kB), personal
  mail as the short HTML copy webmail clients add;
- attachments (the same 5% of messages) of the sizes of scanned documents,
  PDFs and photos: log-normal, median 120 kB, about 2% above 1 MB.

The mean comes to about 30 kB a message, within published figures for
today's mailboxes (10 kB in an office inbox to 50-60 kB with Office
documents; see the README's performance section). Mail exchanged with a
counterpart gets the trace and attachment sizes only, so the analyzer reads
the same text in it either way.

Example::

    python benchmarks/generate_mailbox.py /tmp/bench --messages 20000 --format maildir --seed 1
    python benchmarks/generate_mailbox.py /tmp/bench.mbox --messages 100000 --format mbox \\
        --worst-case

For ``--format mbox``, OUT is the mbox file when it ends in ``.mbox``, otherwise
a directory that receives ``mailbox.mbox``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import random
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from typing import Any


def _synthetic() -> ModuleType:
    # Run from a checkout without installing: put the repository on the path.
    try:
        return importlib.import_module("analyzer.synthetic")
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        return importlib.import_module("analyzer.synthetic")


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SIGNED = ("From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:"
           "Content-Transfer-Encoding:List-Unsubscribe")


def _b64(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_B64, k=n))


def _folded(value: str, width: int = 72) -> str:
    # Signatures are long base64 runs that relays fold into short lines.
    return "\n\t".join(value[i:i + width] for i in range(0, len(value), width))


def _trace(m: Any, rng: random.Random) -> tuple[tuple[str, str], ...]:
    """The headers a sender's DKIM and a provider's relays add (RFC 5321
    trace, RFC 6376 DKIM, RFC 8617 ARC, RFC 8601 results), with documentation
    addresses (RFC 5737) and random signatures."""
    domain = m.sender.email.rsplit("@", 1)[1]
    when = format_datetime(m.received_at)
    dkim = ("DKIM-Signature", _folded(
        f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s{rng.randint(1, 9)}; "
        f"t={int(m.sent_at.timestamp())}; h={_SIGNED}; bh={_b64(rng, 43)}=; "
        f"b={_b64(rng, 342)}=="))
    if m.folder == "Sent":
        return (dkim,)
    owner = m.owner.rsplit("@", 1)[1]
    ip = f"198.51.100.{rng.randint(1, 254)}"
    hops = tuple(
        ("Received", f"from relay{hop}.{domain} (relay{hop}.{domain} "
                     f"[192.0.2.{rng.randint(1, 254)}])"
                     f"\n\tby mx{hop}.{domain} with ESMTPS id {_b64(rng, 14)}"
                     f"\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256)"
                     f"\n\tfor <{m.owner}>; {when}")
        for hop in range(rng.randint(1, 4)))
    results = (f"mx.{owner}; dkim=pass header.i=@{domain} header.s=s1 "
               f"header.b={_b64(rng, 8)}; spf=pass ({owner}: domain of {m.sender.email} "
               f"designates {ip} as permitted sender) smtp.mailfrom={m.sender.email}; "
               f"dmarc=pass (p=NONE sp=NONE dis=NONE) header.from={domain}")
    arc = (
        ("ARC-Seal", _folded(f"i=1; a=rsa-sha256; t={int(m.received_at.timestamp())}; cv=none; "
                             f"d={owner}; s=arc-2024; b={_b64(rng, 342)}==")),
        ("ARC-Message-Signature", _folded(
            f"i=1; a=rsa-sha256; c=relaxed/relaxed; d={owner}; s=arc-2024; h={_SIGNED}; "
            f"bh={_b64(rng, 43)}=; b={_b64(rng, 342)}==")),
        ("ARC-Authentication-Results", f"i=1; {results}"),
    )
    return (*hops, *arc,
            ("Received-SPF", f"pass ({owner}: domain of {m.sender.email} designates {ip} as "
                             f"permitted sender) client-ip={ip};"),
            ("Authentication-Results", results), dkim,
            ("X-Received", f"by 2002:a17:{rng.randint(100, 999)}:{_b64(rng, 4)} with SMTP id "
                           f"{_b64(rng, 24)}; {when}"))


_CSS = "".join(
    f".c{i} {{ font-family: Helvetica, Arial, sans-serif; font-size: {12 + i % 6}px; "
    f"line-height: 1.{4 + i % 3}; color: #{(i * 2654435761) % 0xFFFFFF:06x}; "
    f"padding: {i % 4 * 4}px {i % 5 * 4}px; }}\n" for i in range(40))


def _bulk_html(m: Any, rng: random.Random) -> str:
    """A newsletter or notice as bulk senders lay them out: a style sheet,
    nested tables with inline styles, tracked links, a long footer."""
    domain = m.sender.email.rsplit("@", 1)[1]
    target = min(150_000, max(8_000, int(rng.lognormvariate(math.log(30_000), 0.6))))
    paragraphs = [p for p in m.text.split("\n\n") if p.strip()] or [m.subject]
    head = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>{_CSS}</style>"
            "</head><body style=\"margin:0;padding:0;background:#f4f4f4\">")
    blocks: list[str] = []
    size = len(head)
    while size < target:
        text = paragraphs[len(blocks) % len(paragraphs)]
        block = (
            "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" "
            "border=\"0\" align=\"center\" style=\"width:600px;background:#ffffff\"><tr>"
            f"<td class=\"c{len(blocks) % 40}\" style=\"padding:16px 24px;font-size:15px;"
            f"color:#333333\"><p style=\"margin:0 0 12px 0\">{text}</p>"
            f"<a href=\"https://click.{domain}/t/{_b64(rng, 48)}\" style=\"color:#0b5cad;"
            f"text-decoration:underline\">En savoir plus</a>"
            f"<img src=\"https://img.{domain}/o/{_b64(rng, 32)}.png\" width=\"552\" "
            "height=\"180\" alt=\"\" style=\"display:block;border:0\"></td></tr></table>\n")
        blocks.append(block)
        size += len(block)
    return head + "".join(blocks) + "</body></html>"


def _personal_html(m: Any) -> str:
    # Webmail clients send an HTML copy of what was typed.
    paragraphs = "".join(f"<div>{p.replace(chr(10), '<br>')}</div><div><br></div>"
                         for p in m.text.split("\n\n"))
    return f"<div dir=\"ltr\">{paragraphs}</div>"


def realistic(m: Any) -> Any:
    """``m`` with today's sizes (see the module's docstring); the same for
    the same message every time."""
    rng = random.Random(zlib.crc32(m.message_id.encode()))
    changes: dict[str, Any] = {"headers": (*_trace(m, rng), *m.headers)}
    if m.truth.case_id is None:
        if m.truth.kind in ("newsletter", "shop", "bank"):
            changes["html"] = _bulk_html(m, rng)
        elif m.html is None:
            changes["html"] = _personal_html(m)
    if m.attachment is not None:
        size = min(6_000_000, max(8_000, int(rng.lognormvariate(math.log(120_000), 1.0))))
        changes["attachment"] = dataclasses.replace(m.attachment, size=size)
    return dataclasses.replace(m, **changes)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface.

    >>> build_parser().parse_args(["out", "--messages", "10", "--worst-case"]).worst_case
    True
    """
    parser = argparse.ArgumentParser(
        description="Write a synthetic helpdesk mailbox with known truth.",
    )
    parser.add_argument("out", type=Path, help="Maildir directory, or mbox file/directory")
    parser.add_argument("--messages", type=int, default=20_000, help="total number of messages")
    parser.add_argument("--format", choices=("maildir", "mbox"), default="maildir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sizes", choices=("realistic", "small"), default="realistic",
                        help="today's message sizes (default), or the bare scenario's")
    share = parser.add_mutually_exclusive_group()
    share.add_argument(
        "--worst-case",
        action="store_true",
        help="every message belongs to a case (counterpart share 1.0)",
    )
    share.add_argument(
        "--counterpart-share",
        type=float,
        default=0.1,
        help="share of messages that belong to cases (default 0.1)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Generate and write the mailbox; print timings on stderr. Returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.messages < 0:
        print("--messages must be >= 0", file=sys.stderr)
        return 2
    synthetic = _synthetic()
    share = 1.0 if args.worst_case else args.counterpart_share
    started = time.perf_counter()
    scenario = synthetic.scale(args.seed, args.messages, share)
    generated = time.perf_counter()
    render: Callable[[Any], bytes] = synthetic.message_bytes
    if args.sizes == "realistic":
        render = lambda m: synthetic.message_bytes(realistic(m))  # noqa: E731
    if args.format == "maildir":
        target = synthetic.write_maildir(scenario, args.out, render)
    else:
        out: Path = args.out
        target_file = out if out.suffix == ".mbox" else out / "mailbox.mbox"
        target = synthetic.write_mbox(scenario, target_file, render)
    written = time.perf_counter()
    in_cases = sum(1 for t in scenario.truth.messages if t.case_id is not None)
    print(
        f"{len(scenario.messages)} messages ({in_cases} in {len(scenario.truth.cases)} cases) "
        f"-> {target}\ngenerate {generated - started:.1f}s, write {written - generated:.1f}s, "
        f"total {written - started:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
