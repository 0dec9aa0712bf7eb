"""Benchmark: analyzer's IMAP fetch against mbsync (isync), same server, same run.

Not a test. Starts the test suite's Dovecot (tests/dovecot.py), fills one
account with a synthetic mailbox (``analyzer.synthetic.scale``: about 10,000
messages, a tenth of them exchanged with counterparts; mail from the citizen
goes to Sent, the rest to INBOX), then times, over implicit TLS:

- ``analyzer fetch`` (the real use: only counterpart mail) into a new store;
- ``analyzer fetch --all`` (mbsync's work: every message) into a new store;
- ``mbsync`` pulling the whole account into a new Maildir (with its default
  fsync per message, and with ``FSync no``);
- a second run of each, with nothing new on the server (a second after the
  first: mbsync sleeps when its Maildir changed less than a second ago).

Each timing is the median of ``--repeat`` runs of the command line, startup
included, as a user would run it. Usage::

    python3 benchmarks/bench_imap.py [--messages 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.dovecot import Dovecot

ROOT = Path(__file__).resolve().parent.parent


def _fill(server: Dovecot, user: str, messages: int, seed: int) -> tuple[str, int, int]:
    """Append the synthetic mailbox; returns (config TOML, total, counterpart)."""
    from analyzer.config import parse_config
    from analyzer.parse import parse_headers
    from analyzer.parties import PartyClassifier
    from analyzer.synthetic import message_bytes, scale

    scenario = scale(seed, messages, 0.1)
    config = parse_config(tomllib.loads(scenario.config_toml))
    classifier = PartyClassifier(config)
    folders: dict[str, list[dict[str, object]]] = {"INBOX": [], "Sent": []}
    counterpart = 0
    for item in scenario.messages:
        raw = message_bytes(item)
        headers = parse_headers(raw)
        counterpart += classifier.involves_counterpart(headers.from_addr, headers.recipients())
        folder = "Sent" if classifier.is_me(headers.from_addr) else "INBOX"
        folders[folder].append({"msg": raw, "date": item.sent_at.astimezone(UTC)})
    client = server.connect(user)
    try:
        for folder, items in folders.items():
            for start in range(0, len(items), 500):
                client.multiappend(folder, items[start:start + 500])
    finally:
        client.logout()
    return scenario.config_toml, len(scenario.messages), counterpart


def _time(command: Sequence[str], env: dict[str, str] | None = None,
          before: Callable[[], None] | None = None) -> float:
    if before is not None:
        before()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def _mbsync_config(work: Path, server: Dovecot, user: str, password: str, fsync: bool) -> Path:
    path = work / f"mbsyncrc-{'fsync' if fsync else 'nofsync'}"
    path.write_text(
        ("" if fsync else "FSync no\n\n")
        # mbsync checks DNS names only, not IP addresses, against the certificate.
        + "IMAPAccount bench\nHost localhost\n"
        f"Port {server.tls_port}\nUser {user}\nPass {password}\n"
        f"SSLType IMAPS\nCertificateFile {server.ca_file}\n\n"
        "IMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {work}/maildir/\nInbox {work}/maildir/INBOX\n"
        "SubFolders Verbatim\n\n"
        "Channel bench\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync Pull\n"
        "SyncState *\nExpunge None\nCopyArrivalDate yes\n", "utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.dovecot import PASSWORD, running_dovecot

    mbsync = shutil.which("mbsync")
    if mbsync is None:
        sys.exit("mbsync not found: run scripts/install-test-deps.sh")
    work = Path(tempfile.mkdtemp(prefix="anlz-bench-"))
    try:
        with running_dovecot() as server:
            user = server.add_user()
            started = time.perf_counter()
            config_toml, total, counterpart = _fill(server, user, args.messages, args.seed)
            print(f"mailbox: {total} messages ({counterpart} with a counterpart), "
                  f"filled in {time.perf_counter() - started:.1f} s")
            config = work / "analyzer.toml"
            config.write_text(
                config_toml + f'\n[imap]\nhost = "{server.host}"\nport = {server.tls_port}\n'
                f'user = "{user}"\ntls = "implicit"\nca_file = "{server.ca_file}"\n', "utf-8")
            env = {**os.environ, "ANALYZER_IMAP_PASSWORD": PASSWORD, "ANALYZER_CONFIG": ""}
            store = work / "s.sqlite"

            def analyzer(*extra: str) -> list[str]:
                return [sys.executable, "-m", "analyzer", "--store", str(store), "--config",
                        str(config), "fetch", *extra]

            def fresh_store() -> None:
                for suffix in ("", "-wal", "-shm", ".lock"):
                    Path(f"{store}{suffix}").unlink(missing_ok=True)

            def pause() -> None:
                # mbsync sleeps when its Maildir changed less than a second ago
                # (a timestamp guard); a real second run comes later than that.
                time.sleep(1.1)

            def fresh_maildir() -> None:
                shutil.rmtree(work / "maildir", ignore_errors=True)
                (work / "maildir").mkdir()

            results: dict[str, list[float]] = {}
            rcs = {fs: _mbsync_config(work, server, user, PASSWORD, fs) for fs in (True, False)}
            for _ in range(args.repeat):
                for name, extra in (("analyzer (counterparts)", ()),
                                    ("analyzer --all", ("--all",))):
                    results.setdefault(name, []).append(
                        _time(analyzer(*extra), env, fresh_store))
                    results.setdefault(f"{name}, 2nd run", []).append(
                        _time(analyzer(*extra), env, pause))
                for fsync, rc in rcs.items():
                    name = "mbsync" + ("" if fsync else " (FSync no)")
                    command = [mbsync, "-q", "-c", str(rc), "bench"]
                    results.setdefault(name, []).append(_time(command, before=fresh_maildir))
                    results.setdefault(f"{name}, 2nd run", []).append(
                        _time(command, before=pause))
            counts = {"analyzer (counterparts)": counterpart}
            print(f"\nmedian of {args.repeat} run(s), command line with startup, TLS, "
                  f"{os.cpu_count()} CPU(s):")
            for name, runs in results.items():
                seconds = _median(runs)
                moved = 0 if "2nd" in name else counts.get(name, total)
                rate = f"{moved / seconds:8.0f} msg/s" if moved else " " * 14
                print(f"  {name:32s} {seconds:7.2f} s  {rate}  ({moved} messages)")
            mb = _median(results["mbsync"])
            mb_nofsync = _median(results["mbsync (FSync no)"])
            filtered = _median(results["analyzer (counterparts)"])
            everything = _median(results["analyzer --all"])
            print("\nratios (mbsync time / analyzer time, above 1 = analyzer faster):")
            print(f"  counterparts only vs mbsync:            {mb / filtered:5.1f}x "
                  f"({mb_nofsync / filtered:.1f}x vs FSync no)")
            print(f"  every message (--all) vs mbsync:        {mb / everything:5.1f}x "
                  f"({mb_nofsync / everything:.1f}x vs FSync no)")
            second = _median(results["analyzer (counterparts), 2nd run"])
            print(f"  2nd run vs mbsync 2nd run:              "
                  f"{_median(results['mbsync, 2nd run']) / second:5.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
