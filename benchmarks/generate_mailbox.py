"""Write a synthetic ticket-system mailbox of a given size, for benchmarks.

The mailbox comes with ``analyzer.toml`` and ``truth.json`` (see
:mod:`analyzer.synthetic`). About a tenth of the messages belong to cases, as
in a real citizen's mailbox; ``--worst-case`` makes every message belong to one.

Example::

    python benchmarks/generate_mailbox.py /tmp/bench --messages 20000 --format maildir --seed 1
    python benchmarks/generate_mailbox.py /tmp/bench.mbox --messages 100000 --format mbox \\
        --worst-case

For ``--format mbox``, OUT is the mbox file when it ends in ``.mbox``, otherwise
a directory that receives ``mailbox.mbox``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType


def _synthetic() -> ModuleType:
    # Run from a checkout without installing: put the repository on the path.
    try:
        return importlib.import_module("analyzer.synthetic")
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        return importlib.import_module("analyzer.synthetic")


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
    if args.format == "maildir":
        target = synthetic.write_maildir(scenario, args.out)
    else:
        out: Path = args.out
        target_file = out if out.suffix == ".mbox" else out / "mailbox.mbox"
        target = synthetic.write_mbox(scenario, target_file)
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
