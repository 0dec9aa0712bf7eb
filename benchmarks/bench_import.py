"""Import benchmark: analyzer's pipeline side by side with the tools people
would use instead, in the same run, on the same files.

For each mailbox it measures, each in a fresh process (so peak memory is that
process's own):

- ``analyzer import`` into a new store, then an unchanged re-import, then
  ``analyzer cases --csv`` (threads and cases over the whole store) and
  ``analyzer export`` (the pseudonymised union export: metrics, waits and the
  three tables); the whole pipeline is import + cases + export;
- a plain loop of mail-parser over the same messages (``parse_from_bytes``);
- ``notmuch new`` on a copy of the mailbox (when notmuch is installed).

Usage::

    python benchmarks/bench_import.py --messages 20000 [--format maildir|mbox]
        [--worst-case] [--sizes realistic|small] [--workdir /tmp/bench] [--skip-notmuch]

It prints messages per second, ratios and peak memory (max RSS). Numbers
depend on the machine; the README's performance section says which one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAILPARSER_LOOP = r"""
import sys, mailbox, os
from pathlib import Path
import mailparser
import logging
logging.getLogger("mailparser").setLevel(logging.ERROR)
root = Path(sys.argv[1])
count = 0
if root.is_file():
    for msg in mailbox.mbox(str(root)):
        mailparser.parse_from_bytes(msg.as_bytes()); count += 1
else:
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) not in ("cur", "new"):
            continue
        for name in files:
            mailparser.parse_from_bytes(Path(dirpath, name).read_bytes()); count += 1
print(count)
"""


@dataclass
class Run:
    name: str
    seconds: float
    max_rss_mb: float
    output: str


def timed(name: str, argv: list[str], env: dict[str, str] | None = None,
          cwd: Path | None = None) -> Run:
    """Run ``argv`` in a fresh process; wall time and that process's peak RSS.

    Output goes to temporary files, not pipes, so a chatty child never blocks
    while this process waits for it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if code != 0:
        raise SystemExit(f"{name} failed ({code}):\n{errors[-2000:]}")
    return Run(name, seconds, usage.ru_maxrss / 1024, text)


def generate(out: Path, messages: int, fmt: str, worst: bool, seed: int, sizes: str) -> Path:
    argv = [sys.executable, str(ROOT / "benchmarks" / "generate_mailbox.py"), str(out),
            "--messages", str(messages), "--format", fmt, "--seed", str(seed), "--sizes", sizes]
    if worst:
        argv.append("--worst-case")
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    if fmt == "mbox" and out.is_dir():
        return out / "mailbox.mbox"
    return out


def _volume(mailbox: Path) -> int:
    """Bytes of mail (the sidecar config and truth left out)."""
    if mailbox.is_file():
        return mailbox.stat().st_size
    return sum(f.stat().st_size for f in mailbox.rglob("*")
               if f.is_file() and f.parent.name in ("cur", "new"))


def notmuch_new(mailbox: Path, work: Path) -> Run | None:
    if shutil.which("notmuch") is None:
        return None
    copy = work / "notmuch-mail"
    if mailbox.is_dir():
        shutil.copytree(mailbox, copy)
    else:
        # notmuch indexes Maildir/MH, not mbox files: give it the same
        # messages split one per file.
        import mailbox as mb

        (copy / "cur").mkdir(parents=True)
        for n, msg in enumerate(mb.mbox(str(mailbox))):
            (copy / "cur" / f"{n}.bench:2,").write_bytes(msg.as_bytes())
    os.sync()  # as after generating: the copy's writes are not notmuch's
    config = work / "notmuch-config"
    config.write_text(f"[database]\npath={copy}\n[user]\nname=Bench\n"
                      "primary_email=bench@example.org\n[new]\ntags=inbox\n"
                      "[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n")
    env = {**os.environ, "NOTMUCH_CONFIG": str(config)}
    return timed("notmuch new", ["notmuch", "new", "--quiet"], env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--format", choices=("maildir", "mbox"), default="maildir")
    parser.add_argument("--worst-case", action="store_true")
    parser.add_argument("--sizes", choices=("realistic", "small"), default="realistic",
                        help="message sizes (see generate_mailbox.py)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-notmuch", action="store_true")
    parser.add_argument("--skip-mailparser", action="store_true")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="analyzer-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    mailbox = generate(work / "mail", args.messages, args.format, args.worst_case, args.seed,
                       args.sizes)
    # Gigabytes just written sit in the page cache, dirty: the first fsync
    # of a timed step (SQLite's checkpoint, Xapian's commit) would wait for
    # all of them to reach the disk, and the step would pay for the
    # generator's writes (one import measured 36 s instead of 13).
    os.sync()
    volume = _volume(mailbox)
    print(f"generated {args.messages} messages ({args.format}, {args.sizes} sizes"
          f"{', worst case' if args.worst_case else ''}) in {time.perf_counter() - started:.1f} s:"
          f" {volume / 1e6:.0f} MB, {volume / max(1, args.messages) / 1e3:.1f} kB a message")
    # Beside an mbox file, the generator names the config after it.
    config = mailbox / "analyzer.toml" if mailbox.is_dir() else \
        mailbox.with_name(mailbox.name + ".analyzer.toml")
    store = work / "store.sqlite"
    env = {**os.environ, "ANALYZER_CONFIG": str(config), "ANALYZER_STORE": str(store)}
    analyzer = [sys.executable, "-m", "analyzer"]

    runs: list[Run] = [timed("analyzer import", [*analyzer, "import", str(mailbox)], env=env),
                       timed("analyzer re-import (unchanged)",
                             [*analyzer, "import", str(mailbox)], env=env),
                       timed("analyzer cases --csv", [*analyzer, "cases", "--csv"], env=env),
                       timed("analyzer export", [*analyzer, "export", "--out",
                                                 str(work / "export"), "--key-file",
                                                 str(work / "export.key")], env=env)]
    if not args.skip_mailparser:
        runs.append(timed("mail-parser loop",
                          [sys.executable, "-c", MAILPARSER_LOOP, str(mailbox)]))
    if not args.skip_notmuch:
        found = notmuch_new(mailbox, work)
        if found is not None:
            runs.append(found)

    n = args.messages
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    print(f"{'step':34} {'seconds':>9} {'msg/s':>10} {'peak MB':>9}")
    for run in runs:
        print(f"{run.name:34} {run.seconds:9.2f} {n / run.seconds:10.0f} {run.max_rss_mb:9.0f}")
    pipeline = runs[0].seconds + runs[2].seconds + runs[3].seconds
    print(f"{'pipeline (import + cases + export)':34} {pipeline:9.2f} {n / pipeline:10.0f}")
    by_name = {r.name: r for r in runs}
    for other in ("mail-parser loop", "notmuch new"):
        if other in by_name:
            print(f"pipeline vs {other}: {by_name[other].seconds / pipeline:.2f}x as fast; "
                  f"import alone: {by_name[other].seconds / runs[0].seconds:.2f}x")
    print(f"store size: {store.stat().st_size / 1e6:.1f} MB; workdir {work}")


if __name__ == "__main__":
    main()
