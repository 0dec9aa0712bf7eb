"""The command line: a thin layer over the library.

Each command calls one library function. Library errors (:class:`AnalyzerError`)
become one short line on stderr in the user's language with exit code 1
(2 for bad usage); a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from analyzer.config import Config, find_config, load_config
from analyzer.errors import AnalyzerError, UsageError
from analyzer.i18n import LANGUAGES, default_language, translate

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A one-line error for the user (no "Error:" prefix: the text says it all)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


@dataclass
class Settings:
    store: str | None
    config: str | None
    lang: str
    debug: bool

    def t(self, key: str, **params: Any) -> str:
        return translate(key, self.lang, **params)

    def store_path(self, default: Callable[[], Path]) -> Path:
        return Path(self.store) if self.store else default()

    def load_config(self, mailboxes: tuple[Path, ...] = ()) -> Config:
        path = find_config(self.config, mailboxes)
        if path is None:
            click.echo(self.t("config.none"), err=True)
            return Config()
        return load_config(path)


class AnalyzerGroup(click.Group):
    """Turns library errors into short translated messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except AnalyzerError as exc:
            settings = ctx.find_object(Settings)
            if settings is not None and settings.debug:
                traceback.print_exc()
            lang = settings.lang if settings else default_language()
            raise CliError(exc.render(lang), 2 if isinstance(exc, UsageError) else 1) from exc
        except Exception as exc:
            settings = ctx.find_object(Settings)
            if settings is not None and settings.debug:
                raise
            lang = settings.lang if settings else default_language()
            raise CliError(translate("error.unexpected", lang,
                                     detail=type(exc).__name__)) from exc


@click.group(cls=AnalyzerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", envvar="ANALYZER_STORE", metavar="PATH",
              help="SQLite store (default: in the user's data directory).")
@click.option("--config", "config", envvar="ANALYZER_CONFIG", metavar="PATH",
              help="TOML configuration; an empty value means no configuration.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of messages and reports (default: from the locale).")
@click.option("--debug", is_flag=True, help="Show technical details of errors.")
@click.version_option(package_name="analyzer")
@click.pass_context
def cli(ctx: click.Context, store: str | None, config: str | None, lang: str | None,
        debug: bool) -> None:
    """Rebuild helpdesk cases from your own mailbox and measure who made whom wait."""
    ctx.obj = Settings(store, config, lang or default_language(), debug)


def paths_argument(required: bool) -> Callable[[F], F]:
    """The PATH... argument shared by commands that read mailboxes."""
    return click.argument(
        "paths", nargs=-1, required=required,
        type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path),
    )


@contextmanager
def _progress(settings: Settings) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task(settings.t("import.progress"), total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _import(settings: Settings, store_path: Path, paths: tuple[Path, ...], config: Config
            ) -> Any:
    from analyzer.importer import import_paths
    from analyzer.store import Store

    with Store.open(store_path) as store, _progress(settings) as progress:
        return import_paths(store, list(paths), config, progress=progress)


def _console() -> Console:
    """Standard output; 100 columns when it is not a terminal, so files and
    tests get the same layout everywhere (rich adds colour only on terminals)."""
    return Console() if sys.stdout.isatty() else Console(width=100)


def _print_import_summary(settings: Settings, summary: Any, err: bool,
                          details: bool = True) -> None:
    def echo(text: str) -> None:
        click.echo(text, err=err)

    echo(settings.t("import.summary.header", seen=summary.read, new=summary.new,
                    known=summary.duplicates + summary.unchanged, relevant=summary.relevant))
    echo(settings.t("import.summary.sources", sources=summary.sources,
                    unchanged=summary.unchanged_sources))
    lists = [("import.summary.skipped", summary.skipped)] if details else []
    lists.append(("import.summary.broken", summary.broken))
    for key, items in lists:
        if not items:
            continue
        echo(settings.t(key, count=len(items)))
        for path, reason in items[:20]:
            shown = settings.t(f"import.reason.{reason}") if key.endswith("skipped") else reason
            echo(f"  {path} ({shown})")
        if len(items) > 20:
            echo(settings.t("import.summary.more", count=len(items) - 20))


@cli.command("import")
@paths_argument(required=True)
@click.pass_obj
def import_command(settings: Settings, paths: tuple[Path, ...]) -> None:
    """Import mbox files, Maildir/MH folders and message files into the store."""
    from analyzer.paths import default_store

    config = settings.load_config(paths)
    summary = _import(settings, settings.store_path(default_store), paths, config)
    _print_import_summary(settings, summary, err=False)


def _open_analysis(settings: Settings, paths: tuple[Path, ...]) -> tuple[Any, Path, str]:
    """The Analysis a reading command works on: the mailbox PATH... imported
    into its own cache (or ``--store``), or the store itself. Returns the
    analysis, the store path and a title."""
    from analyzer.analysis import Analysis
    from analyzer.paths import cache_store_for, default_store
    from analyzer.store import Store

    config = settings.load_config(paths)
    if paths:
        store_path = settings.store_path(lambda: cache_store_for(paths))
        summary = _import(settings, store_path, paths, config)
        if summary.broken or summary.new:
            _print_import_summary(settings, summary, err=True, details=False)
        title = ", ".join(p.name or str(p) for p in paths)
    else:
        store_path = settings.store_path(default_store)
        title = str(store_path)
    return Analysis(Store.open(store_path), config), store_path, title


@cli.command("report")
@paths_argument(required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as one self-contained HTML file.")
@click.pass_obj
def report_command(settings: Settings, paths: tuple[Path, ...], html_file: Path | None
                   ) -> None:
    """Print the report of a mailbox (PATH...) or of the store."""
    from analyzer.report import render_html, render_terminal, summarize

    analysis, store_path, title = _open_analysis(settings, paths)
    with analysis:
        figures = summarize(analysis.messages(), analysis.config)
        config_name = str(analysis.config.path) if analysis.config.path else None
    render_terminal(figures, settings.lang, _console(), title=title, store=str(store_path),
                    config=config_name)
    if html_file is not None:
        html_file.write_text(render_html(figures, settings.lang, title=title), "utf-8")


def csv_option(f: F) -> F:
    """--csv: machine-readable output on stdout (spreadsheet-safe)."""
    return click.option("--csv", "as_csv", is_flag=True,
                        help="Print CSV instead of a table.")(f)


def _by_time(frame: Any) -> Any:
    return frame.sort_values(["sent_at", "message_id"], na_position="last")


@cli.command("threads")
@paths_argument(required=False)
@csv_option
@click.pass_obj
def threads_command(settings: Settings, paths: tuple[Path, ...], as_csv: bool) -> None:
    """Threads rebuilt from the reply headers: message_id,thread_id."""
    from analyzer.csvsafe import write_rows

    analysis, _, _ = _open_analysis(settings, paths)
    with analysis:
        messages = _by_time(analysis.messages())
    if as_csv:
        write_rows(click.get_text_stream("stdout"), ["message_id", "thread_id"],
                   messages[["message_id", "thread_id"]].itertuples(index=False))
        return
    counts = messages.groupby("thread_id").size()
    click.echo(settings.t("threads.summary", messages=len(messages), threads=len(counts),
                          largest=int(counts.max()) if len(counts) else 0))


@cli.command("cases")
@paths_argument(required=False)
@csv_option
@click.option("--explain", "explain", metavar="CASE", help="Explain why CASE is one case.")
@click.option("--join", "join", nargs=2, metavar="CASE CASE",
              help="Record that two cases are one (kept across re-imports).")
@click.option("--split", "split", nargs=2, metavar="MESSAGE_ID MESSAGE_ID",
              help="Record that two messages belong to different cases.")
@click.option("--corrections", "corrections_file", metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Record the joins and splits of a TOML corrections file.")
@click.pass_obj
def cases_command(settings: Settings, paths: tuple[Path, ...], as_csv: bool,
                  explain: str | None, join: tuple[str, str] | None,
                  split: tuple[str, str] | None, corrections_file: Path | None) -> None:
    """Cases rebuilt across tickets: a table, CSV, an explanation, or a correction."""
    from analyzer.cases import case_table, explain_case
    from analyzer.corrections import apply_file, join_cases, split_messages
    from analyzer.csvsafe import write_rows

    analysis, _, _ = _open_analysis(settings, paths)
    with analysis:
        if join or split or corrections_file:
            if join:
                join_cases(analysis, *join)
            if split:
                split_messages(analysis, *split)
            if corrections_file:
                apply_file(analysis, corrections_file)
            analysis.refresh()
            click.echo(settings.t("cases.corrected"))
        build = analysis.build()
    if as_csv:
        rows = _by_time(build.messages)
        write_rows(click.get_text_stream("stdout"),
                   ["message_id", "case_id", "ticket_id", "party", "automated"],
                   ((r.message_id, r.case_id, r.ticket_id, r.party,
                     "true" if r.automated else "false") for r in rows.itertuples()))
        return
    tz = analysis.config.timezone
    if explain:
        found = explain_case(build, explain)
        if found is None:
            raise UsageError("cases.unknown", case=explain)
        _print_explanation(settings, found, tz)
        return
    _print_cases(settings, case_table(build), tz)


def _print_cases(settings: Settings, table: Any, tz: str) -> None:
    from rich.table import Table

    from analyzer.report import format_date

    console = _console()
    if table.empty:
        console.print(settings.t("cases.none"))
        return
    out = Table()
    for key in ("cases.col.case", "report.col.counterpart", "report.col.messages",
                "cases.col.tickets", "report.col.first", "report.col.last", "cases.col.subject"):
        out.add_column(settings.t(key), overflow="fold")
    for row in table.itertuples():
        out.add_row(row.case_id, row.counterpart, str(row.messages), str(row.tickets),
                    format_date(_local(row.first_message_at, tz), settings.lang),
                    format_date(_local(row.last_message_at, tz), settings.lang),
                    row.subject)
    console.print(out)


def _local(moment: Any, tz: str) -> Any:
    import pandas as pd

    return None if pd.isna(moment) else moment.tz_convert(tz).to_pydatetime()


def _print_explanation(settings: Settings, found: Any, tz: str) -> None:
    from rich.markup import escape

    console = _console()
    t = settings.t
    messages = sum(len(c) for c in found.conversations)
    console.print(t("cases.explain.title", case=found.case_id,
                    counterpart=escape(found.counterpart), messages=messages,
                    conversations=len(found.conversations)), style="bold")
    first_of = {}
    for number, conv in enumerate(found.conversations, 1):
        first = conv.iloc[0]
        first_of[first["message_id"]] = number
        tickets = ", ".join(sorted({str(x) for x in conv["ticket_id"].dropna()})) or "—"
        console.print(t("cases.explain.conversation", number=number, tickets=escape(tickets),
                        subject=escape(first["subject"])))
        for row in conv.itertuples():
            when = _local(row.sent_at, tz)
            stamp = when.strftime("%d/%m/%Y %H:%M") if when else "—"
            who = t(f"report.party.{row.party}")
            flag = t("cases.explain.automated") if row.automated else ""
            console.print(f"    {stamp}  {who:<11} {escape(row.subject)}{flag}")
    if found.links.empty:
        console.print(t("cases.explain.single"))
        return
    console.print(t("cases.explain.links"), style="bold")
    convo_of = {}
    for number, conv in enumerate(found.conversations, 1):
        for mid in conv["message_id"]:
            convo_of[mid] = number
    for link in found.links.itertuples():
        console.print(t("cases.explain.link", later=convo_of.get(link.to_message_id, "?"),
                        earlier=convo_of.get(link.from_message_id, "?"),
                        signal=t(f"cases.signal.{link.signal}"),
                        detail=escape(t(f"cases.detail.{link.signal}", **link.params))))


@cli.command("discover")
@paths_argument(required=False)
@csv_option
@click.pass_obj
def discover_command(settings: Settings, paths: tuple[Path, ...], as_csv: bool) -> None:
    """Senders the configuration does not name who look like counterparts."""
    from analyzer.csvsafe import write_rows
    from analyzer.discover import discover

    analysis, _, _ = _open_analysis(settings, paths)
    with analysis:
        table = discover(analysis.messages(), analysis.config)
    if as_csv:
        write_rows(click.get_text_stream("stdout"), list(table.columns),
                   table.itertuples(index=False))
        return
    if table.empty:
        click.echo(settings.t("discover.none"))
        return
    from rich.table import Table

    out = Table()
    for key in ("discover.col.address", "discover.col.name", "report.col.messages",
                "discover.col.reasons", "discover.col.examples"):
        out.add_column(settings.t(key), overflow="fold")
    for row in table.itertuples():
        reasons = ", ".join(settings.t(f"discover.reason.{r}") for r in row.reasons.split(","))
        out.add_row(row.address, row.name, str(row.messages), reasons, row.examples)
    _console().print(out)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="analyzer")
    except BrokenPipeError:
        # The reader went away (``analyzer cases --csv | head``): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)




# -- fetch (IMAP) -------------------------------------------------------------


@contextmanager
def _fetch_progress(settings: Settings) -> Iterator[Callable[[str, int, int], None] | None]:
    """One progress bar per folder on stderr, only when stderr is a terminal.

    The display starts with the first folder, after login: a password prompt
    must not be drawn over by the bars."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID

    bar = Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                   console=Console(stderr=True), transient=True)
    tasks: dict[str, TaskID] = {}

    def update(folder: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if folder not in tasks:
            tasks[folder] = bar.add_task(settings.t("imap.progress", folder=folder),
                                         total=total)
        bar.update(tasks[folder], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


def _print_fetch_summary(settings: Settings, summary: Any) -> None:
    click.echo(settings.t("imap.summary.header", account=summary.account,
                          folders=len(summary.folders), matched=summary.matched,
                          new=summary.new, known=summary.known))
    for folder in summary.folders:
        line = settings.t("imap.summary.folder", folder=folder.name, matched=folder.matched,
                          new=folder.new, known=folder.known)
        if folder.rescan in ("uidvalidity", "criteria"):
            line += settings.t(f"imap.summary.rescan.{folder.rescan}")
        click.echo(line)


@cli.command("fetch")
@click.option("--all", "fetch_all", is_flag=True,
              help="Fetch every message, not only those exchanged with a counterpart.")
@click.pass_obj
def fetch_command(settings: Settings, fetch_all: bool) -> None:
    """Fetch from the IMAP account ([imap] in the configuration) the mail
    exchanged with the counterparts, into the store."""
    from dataclasses import replace

    from analyzer.credentials import Secret
    from analyzer.imap import ImapSettings, default_credentials, fetch_imap, settings_from_config
    from analyzer.paths import default_store
    from analyzer.store import Store

    config = settings.load_config()
    imap_settings = settings_from_config(config)
    if fetch_all:
        imap_settings = replace(imap_settings, filter=False)
    if imap_settings.plaintext_warning:
        click.echo(settings.t("imap.warning.plaintext", host=imap_settings.host), err=True)

    def credentials(chosen: ImapSettings) -> Secret:
        return default_credentials(chosen, settings.lang)

    with Store.open(settings.store_path(default_store)) as store, \
            _fetch_progress(settings) as progress:
        summary = fetch_imap(store, imap_settings, config, credentials=credentials,
                             progress=progress)
    _print_fetch_summary(settings, summary)
