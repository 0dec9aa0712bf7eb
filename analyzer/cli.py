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


def filter_options(f: F) -> F:
    """--since, --until, --counterpart, --case and --as-of: what the report and
    the export read (see :meth:`analyzer.analysis.Analysis.filtered`)."""
    options = [
        click.option("--since", metavar="DATE",
                     help="Only messages sent from DATE (2020-02-19 or 19/02/2020)."),
        click.option("--until", metavar="DATE",
                     help="Only messages sent until DATE, that day included."),
        click.option("--counterpart", metavar="NAME",
                     help="Only the cases with the counterpart NAME."),
        click.option("--case", "case_id", metavar="CASE", help="Only the case CASE."),
        click.option("--as-of", "as_of", metavar="DATETIME",
                     help="Measure open waits as of DATETIME (default: now); later "
                          "messages are left out."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@dataclass(frozen=True)
class Filters:
    """The values of :func:`filter_options`, as keyword arguments of the library."""

    since: str | None
    until: str | None
    counterpart: str | None
    case: str | None
    as_of: str | None

    def kwargs(self) -> dict[str, str | None]:
        return {"since": self.since, "until": self.until, "counterpart": self.counterpart,
                "case": self.case, "as_of": self.as_of}


@contextmanager
def _progress(settings: Settings) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    # Drawn on each update rather than by rich's refresh thread: the import
    # forks its workers, which is only safe in a single-threaded process
    # (analyzer.forking).
    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True),
                  transient=True, auto_refresh=False) as bar:
        task = bar.add_task(settings.t("import.progress"), total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

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
    """Import mbox files, Maildir/MH folders, message files and Outlook .msg/.pst files."""
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
        # Whose mail it is, rather than where the store lies (printed below it).
        title = ", ".join(config.me) or str(store_path)
    return Analysis(Store.open(store_path), config), store_path, title


@cli.command("report")
@paths_argument(required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as one self-contained HTML file.")
@filter_options
@click.pass_obj
def report_command(settings: Settings, paths: tuple[Path, ...], html_file: Path | None,
                   since: str | None, until: str | None, counterpart: str | None,
                   case_id: str | None, as_of: str | None) -> None:
    """Print the report of a mailbox (PATH...) or of the store."""
    from analyzer.report import render_html, render_terminal, summarize

    filters = Filters(since, until, counterpart, case_id, as_of)
    analysis, store_path, title = _open_analysis(settings, paths)
    with analysis:
        links = analysis.links()
        if as_of is None and until is None:
            figures = summarize(analysis.filtered(**filters.kwargs()), analysis.config,
                                links=links)
        else:
            # Read the data as of then: later messages out, open waits aged to then.
            messages, moment = analysis.metric_input(**filters.kwargs())
            figures = summarize(messages, analysis.config, as_of=moment.to_pydatetime(),
                                links=links)
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
                   zip(messages["message_id"].tolist(), messages["thread_id"].tolist(),
                       strict=True))
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
        header = ["message_id", "case_id", "ticket_id", "party", "automated"]
        # Only the columns written are sorted: moving every message's body
        # text and header lists too costs more than the sort.
        rows = _by_time(build.messages[[*header, "sent_at"]])
        # Whole columns as lists: row tuples of Arrow-backed frames cost more
        # than writing the CSV.
        columns = [rows[c].tolist() for c in ("message_id", "case_id", "ticket_id", "party")]
        automated = ["true" if a else "false" for a in rows["automated"].tolist()]
        write_rows(click.get_text_stream("stdout"), header,
                   zip(*columns, automated, strict=True))
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
@click.option("--imap", "on_server", is_flag=True,
              help="Search the IMAP account too, without downloading the messages.")
@click.pass_obj
def discover_command(settings: Settings, paths: tuple[Path, ...], as_csv: bool,
                     on_server: bool) -> None:
    """Senders the configuration does not name who look like counterparts."""
    from analyzer.csvsafe import write_rows
    from analyzer.discover import discover, server_candidates
    from analyzer.schema import tuples

    analysis, _, _ = _open_analysis(settings, paths)
    with analysis:
        table = discover(analysis.messages(), analysis.config)
        if on_server:
            from analyzer.credentials import Secret
            from analyzer.imap import (
                ImapSettings,
                default_credentials,
                discover_on_server,
                settings_from_config,
            )

            def credentials(chosen: ImapSettings) -> Secret:
                return default_credentials(chosen, settings.lang)

            found = discover_on_server(settings_from_config(analysis.config),
                                       analysis.config, credentials)
            table = server_candidates(table, found)
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
    for row in tuples(table):
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

    # Drawn on each update, with no refresh thread: see _progress.
    bar = Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                   console=Console(stderr=True), transient=True, auto_refresh=False)
    tasks: dict[str, TaskID] = {}

    def update(folder: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if folder not in tasks:
            tasks[folder] = bar.add_task(settings.t("imap.progress", folder=folder),
                                         total=total)
        bar.update(tasks[folder], completed=done, total=total, refresh=True)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


def _print_fetch_summary(settings: Settings, summary: Any, stored: int | None = None) -> None:
    """The fetch's summary; ``stored`` (messages in the store) when it was not the
    first fetch, so that "0 found" is not read as mail gone missing."""
    if stored and summary.matched == 0 and not any(f.rescan for f in summary.folders):
        click.echo(settings.t("imap.summary.nothing_new", account=summary.account,
                              folders=len(summary.folders), stored=stored))
        return
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

    from analyzer.onboarding import disk_errors

    store_path = settings.store_path(default_store)
    with disk_errors(store_path), Store.open(store_path) as store, \
            _fetch_progress(settings) as progress:
        empty_before = store.count_messages() == 0
        summary = fetch_imap(store, imap_settings, config, credentials=credentials,
                             progress=progress)
        stored = store.count_messages()
    _print_fetch_summary(settings, summary, None if empty_before else stored)
    if empty_before and summary.matched == 0 and imap_settings.filter:
        # Nothing at all on a first fetch: most often a mistyped address or
        # the wrong services; say so rather than report an empty success.
        raise AnalyzerError("init.no_messages",
                            services=", ".join(cp.name for cp in config.counterparts),
                            account=imap_settings.account)


# -- export (issues 4 and 6) ----------------------------------------------------


@cli.command("export")
@paths_argument(required=False)
@click.option("--out", "out_dir", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the tables, datapackage.json and README.txt into.")
@click.option("--no-pseudonymize", "no_pseudonymize", is_flag=True,
              help="Write the data in clear (addresses, subjects, ids), for your own use.")
@click.option("--with-subjects", is_flag=True,
              help="Include subjects, scrubbed of addresses, names, phone numbers and "
                   "dossier numbers.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "parquet"]), default="csv",
              show_default=True, help="File format of the tables.")
@click.option("--dialect", type=click.Choice(["csv", "excel-fr"]), default="csv",
              show_default=True,
              help="CSV flavour: excel-fr is UTF-8 with BOM, ';' and decimal comma.")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Pseudonymisation key (default: created once in your data folder).")
@filter_options
@click.pass_obj
def export_command(settings: Settings, paths: tuple[Path, ...], out_dir: Path,
                   no_pseudonymize: bool, with_subjects: bool, fmt: str, dialect: str,
                   key_file: Path | None, since: str | None, until: str | None,
                   counterpart: str | None, case_id: str | None, as_of: str | None) -> None:
    """Export the messages, cases and waits for a union: pseudonymised,
    spreadsheet-safe, with a data dictionary (datapackage.json)."""
    from analyzer.export import check_allowed, write_export

    # Refuse before importing or reading anything: a refused export leaves no trace.
    check_allowed(pseudonymize=not no_pseudonymize, fmt=fmt, dialect=dialect)
    filters = Filters(since, until, counterpart, case_id, as_of)
    analysis, _, _ = _open_analysis(settings, paths)
    with analysis:
        result = write_export(analysis, out_dir, pseudonymize=not no_pseudonymize,
                              with_subjects=with_subjects, key_file=key_file, fmt=fmt,
                              dialect=dialect, lang=settings.lang, since=filters.since,
                              until=filters.until, counterpart=filters.counterpart,
                              case=filters.case, as_of=filters.as_of)
    if no_pseudonymize:
        click.echo(settings.t("export.personal_data"), err=True)
    else:
        click.echo(settings.t("export.pseudonymised_note",
                              fingerprint=result.key_fingerprint), err=True)
    click.echo(settings.t("export.done", messages=result.rows["messages"],
                          cases=result.rows["cases"], waits=result.rows["waits"],
                          path=str(out_dir), files=", ".join(p.name for p in result.files)))


# -- init (guided set-up) -------------------------------------------------------


class _InitSession:
    """What ``analyzer init`` needs while it runs: the language, whether it
    may ask questions, and the password typed once for both the test and the
    first fetch (kept in memory only)."""

    def __init__(self, settings: Settings, interactive: bool) -> None:
        self.settings = settings
        self.interactive = interactive
        self._secret: Any = None
        self.typed = False

    def t(self, key: str, **params: Any) -> str:
        return self.settings.t(key, **params)

    def ask(self, key: str, default: Any = None, convert: Callable[[str], Any] | None = None,
            **params: Any) -> Any:
        """One question from the catalogue, its default shown in brackets."""
        return self.prompt(self.t(key, **params), default, convert,
                           show_default=default not in (None, ""))

    def prompt(self, text: str, default: Any, convert: Callable[[str], Any] | None,
               show_default: bool = False) -> Any:
        """Ask ``text``; a wrong answer is explained in the user's language and
        the question asked again."""
        def value_proc(value: Any) -> Any:
            # click passes the default through here too, unconverted.
            if convert is None:
                return str(value)
            try:
                return convert(str(value))
            except AnalyzerError as exc:
                raise click.BadParameter(exc.render(self.settings.lang)) from None

        return click.prompt(text, default=default, value_proc=value_proc,
                            show_default=show_default, err=True)

    def yes(self, key: str, default: bool = True, **params: Any) -> bool:
        """A yes/no question that understands o/oui/n/non as well as y/yes/n/no;
        the default when nobody may be asked."""
        if not self.interactive:
            return default

        def convert(text: str) -> bool:
            answer = text.strip().lower()
            if not answer:
                return default
            if answer in ("o", "oui", "y", "yes"):
                return True
            if answer in ("n", "non", "no"):
                return False
            raise UsageError("init.yes_no")

        choices = self.t("init.yes_no_default" if default else "init.no_yes_default")
        return bool(self.prompt(f"{self.t(key, **params)} [{choices}]", "", convert))

    def credentials(self, imap_settings: Any) -> Any:
        """The secret: token command, environment, secure keyring, then a
        hidden prompt in the user's language (interactive runs only)."""
        from analyzer.credentials import Secret, get_password, token_from_command
        from analyzer.errors import CredentialsError

        if imap_settings.token_command is not None:
            return token_from_command(imap_settings.token_command)
        if self._secret is not None:
            return self._secret
        try:
            secret = get_password(imap_settings.host, imap_settings.user, interactive=False)
        except CredentialsError:
            if not self.interactive:
                raise
            value = click.prompt(self.t("credentials.prompt", user=imap_settings.user,
                                        host=imap_settings.host),
                                 hide_input=True, prompt_suffix="", err=True)
            secret = Secret("password", value)
            self.typed = True
        self._secret = secret
        return secret

    def offer_keyring(self, imap_settings: Any) -> None:
        """Offer to keep a typed password in the system's secure keyring, so
        that later fetches do not ask again (never in a plain-text file)."""
        from analyzer.credentials import _system_backend, keyring_service, secure_backends

        backend = _system_backend()
        safe = secure_backends(backend) if backend is not None else []
        if not (self.typed and safe and self.yes("init.ask.save_password", True)):
            return
        try:
            safe[0].set_password(keyring_service(imap_settings.host), imap_settings.user,
                                 self._secret.value)
        # A locked or broken keyring only means the password is asked again later.
        except Exception:
            click.echo(self.t("init.keyring_failed"), err=True)
            return
        click.echo(self.t("init.keyring_saved"), err=True)


def _choose_services(session: _InitSession, services: tuple[str, ...],
                     others: tuple[str, ...], other_kind: str | None) -> list[Any]:
    from analyzer.onboarding import other_counterpart, parse_other
    from analyzer.presets import BLANK_ID, get_preset, presets

    shown = presets()
    chosen: list[str] = list(services)
    if not chosen and not others and session.interactive:
        click.echo(session.t("init.services.intro"), err=True)
        for number, preset in enumerate(shown, 1):
            click.echo(f"  {number}. {preset.label(session.settings.lang)}", err=True)

        def convert(text: str) -> list[str]:
            picked = []
            for item in text.replace(",", " ").split():
                if item.isdigit() and 1 <= int(item) <= len(shown):
                    picked.append(shown[int(item) - 1].id)
                else:
                    picked.append(get_preset(item).id)
            if not picked:
                raise UsageError("init.no_service")
            return picked

        chosen = session.ask("init.ask.services", "1", convert)
    elif not chosen and not others:
        chosen = [shown[0].id]  # France Travail, the first audience
    counterparts = []
    for preset_id in dict.fromkeys(chosen):
        preset = get_preset(preset_id)
        if not preset.blank:
            counterparts.append(preset.counterpart())
    kind = other_kind or "contractor"
    counterparts += [parse_other(text, kind) for text in others]
    if BLANK_ID in chosen and not others:
        if not session.interactive:
            raise UsageError("init.other_needs_flag")
        while True:
            name = session.ask("init.ask.other_name", None, _non_empty)
            picked_kind = session.ask("init.ask.other_kind", "2", _kind)
            terms = session.ask("init.ask.other_domains", None)
            try:
                counterparts.append(other_counterpart(name, terms, picked_kind))
            except AnalyzerError as exc:
                click.echo(exc.render(session.settings.lang), err=True)
                continue
            if not session.yes("init.ask.other_more", False):
                break
    if not counterparts:
        raise UsageError("init.no_service")
    return counterparts


def _non_empty(text: str) -> str:
    if not text.strip():
        raise UsageError("init.empty")
    return text.strip()


def _kind(text: str) -> str:
    value = text.strip().lower()
    if value in ("1", "agency"):
        return "agency"
    if value in ("2", "contractor"):
        return "contractor"
    raise UsageError("init.bad_kind")


def _port(text: str) -> int:
    if text.strip().isdigit() and 1 <= int(text) <= 65535:
        return int(text)
    raise UsageError("init.bad_port")


def _tls(text: str) -> str:
    value = text.strip().lower()
    if value in ("implicit", "starttls", "none"):
        return value
    raise UsageError("init.bad_tls")


def _choose_server(session: _InitSession, address: str, flags: dict[str, Any]) -> tuple[
        dict[str, Any], Any]:
    """The [imap] table and the provider (None when typed by hand)."""
    from analyzer.imap import is_loopback
    from analyzer.onboarding import guess_tls
    from analyzer.providers import get_provider, guess_provider, provider_of_host

    provider = get_provider(flags["provider"]) if flags["provider"] else \
        guess_provider(address)
    t = session.t
    imap: dict[str, Any]
    if provider is not None and not flags["imap_host"]:
        imap = provider.imap_table(address)
        click.echo(t("init.provider.found", provider=provider.name, host=provider.host,
                     port=provider.port, tls=t(f"init.tls.{provider.tls}")), err=True)
        click.echo(f"  {provider.howto(session.settings.lang)}", err=True)
        if provider.auth == "bridge" and session.interactive and not flags["imap_port"]:
            imap["port"] = session.ask("init.ask.port", provider.port, _port)
    else:
        host = flags["imap_host"]
        if host is None:
            if not session.interactive:
                raise UsageError("init.server_needed")
            click.echo(t("init.provider.unknown"), err=True)
            host = session.ask("init.ask.host", None, _non_empty)
        provider = provider or provider_of_host(host)
        port = flags["imap_port"] or (session.ask("init.ask.port", 993, _port)
                                      if session.interactive else 993)
        tls = flags["tls"] or (session.ask("init.ask.tls", guess_tls(host, port), _tls)
                               if session.interactive else guess_tls(host, port))
        user = flags["imap_user"] or (session.ask("init.ask.user", address, _non_empty)
                                      if session.interactive else address)
        imap = {"host": host, "port": port, "tls": tls, "user": user}
    for key in ("imap_port", "tls", "imap_user"):
        if flags[key] is not None:
            imap[{"imap_port": "port", "imap_user": "user"}.get(key, key)] = flags[key]
    if imap["tls"] == "none":
        imap["tls"] = False
    ca_file = flags["ca_file"]
    needs_certificate = (provider is not None and provider.auth == "bridge") or \
        is_loopback(str(imap["host"]))
    if ca_file is None and needs_certificate and imap["tls"] and session.interactive:
        ca_file = session.ask("init.ask.ca_file", "", None) or None
    if ca_file:
        imap["ca_file"] = str(Path(ca_file).expanduser().resolve())
    token = flags["token_command"]
    if token is None and provider is not None and provider.auth == "oauth2" \
            and session.interactive:
        token = session.ask("init.ask.token_command", "", None) or None
    if token:
        imap["token_command"] = token
    return imap, provider


@cli.command("init")
@click.option("--address", "addresses", multiple=True, metavar="EMAIL",
              help="Your email address (repeatable).")
@click.option("--service", "services", multiple=True, metavar="PRESET_ID",
              help="A service you deal with, by preset id (repeatable): france-travail, caf, "
                   "assurance-maladie, dgfip, ants.")
@click.option("--other", "others", multiple=True, metavar="NAME=DOMAIN[,ADDRESS...]",
              help="Another organisation that wrote to you (repeatable).")
@click.option("--other-kind", type=click.Choice(["agency", "contractor"]), default=None,
              help="Whether the --other organisations are public bodies or private firms "
                   "(default: contractor).")
@click.option("--provider", metavar="ID",
              help="Your mail provider, when the address does not tell (gmail, outlook, "
                   "yahoo, orange, free, sfr, laposte, icloud, gmx-net, gmx-com, "
                   "proton-bridge).")
@click.option("--imap-host", metavar="HOST", help="IMAP server, when no provider fits.")
@click.option("--imap-port", type=click.IntRange(1, 65535), metavar="PORT")
@click.option("--imap-user", metavar="LOGIN", help="Login name (default: the address).")
@click.option("--tls", type=click.Choice(["implicit", "starttls", "none"]), default=None)
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Certificate of a local bridge or self-signed server (PEM).")
@click.option("--token-command", metavar="COMMAND",
              help="Command printing an OAuth2 access token (Outlook.com).")
@click.option("--config-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the configuration (default: the user's configuration "
                   "folder).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the HTML report of the first fetch.")
@click.option("--yes", "assume_yes", is_flag=True,
              help="Ask nothing: take the flags and defaults, overwrite an existing "
                   "configuration (kept as .bak).")
@click.option("--no-test", is_flag=True, help="Only write the configuration.")
@click.option("--no-fetch", is_flag=True, help="Test the connection but fetch nothing.")
@click.pass_context
def init_command(ctx: click.Context, addresses: tuple[str, ...], services: tuple[str, ...],
                 others: tuple[str, ...], other_kind: str | None, provider: str | None,
                 imap_host: str | None, imap_port: int | None, imap_user: str | None,
                 tls: str | None, ca_file: str | None, token_command: str | None,
                 config_out: Path | None, html_file: Path | None, assume_yes: bool,
                 no_test: bool, no_fetch: bool) -> None:
    """Guided set-up: your address, the services you deal with, your mail
    account; writes the configuration, tests the connection (read-only),
    fetches and shows the first report."""
    from analyzer.config import load_config
    from analyzer.errors import CredentialsError
    from analyzer.imap import settings_from_config
    from analyzer.onboarding import (
        Answers,
        check_disk,
        config_text,
        first_fetch,
        login_hint,
        megabytes,
        parse_addresses,
        probe,
        service_names,
        write_config,
    )
    from analyzer.paths import config_dir, default_store

    settings: Settings = ctx.obj
    session = _InitSession(settings, interactive=not assume_yes)
    t = session.t
    if session.interactive:
        click.echo(t("init.welcome"), err=True)
    path = config_out or (Path(settings.config) if settings.config
                          else config_dir() / "analyzer.toml")
    # Asked first: answering every question to be told nothing is written
    # would waste the user's time.
    if path.exists() and not assume_yes \
            and not session.yes("init.ask.overwrite", False, path=str(path)):
        click.echo(t("init.config_kept", path=str(path)), err=True)
        return
    if addresses:
        mine = parse_addresses(" ".join(addresses))
    elif session.interactive:
        mine = session.ask("init.ask.addresses", None, parse_addresses)
    else:
        raise UsageError("init.address_needed")
    counterparts = _choose_services(session, services, others, other_kind)
    flags = {"provider": provider, "imap_host": imap_host, "imap_port": imap_port,
             "imap_user": imap_user, "tls": tls, "ca_file": ca_file,
             "token_command": token_command}
    imap, found = _choose_server(session, mine[0], flags)

    backup = write_config(path, config_text(Answers(mine, counterparts, imap), settings.lang),
                          overwrite=True)
    click.echo(t("init.written", path=str(path)), err=True)
    if backup is not None:
        click.echo(t("init.backup", path=str(backup)), err=True)
    config = load_config(path)
    imap_settings = settings_from_config(config)
    if found is not None and found.auth == "oauth2" and imap_settings.token_command is None:
        click.echo(t("init.oauth2_later", provider=found.name,
                     howto=found.howto(settings.lang)), err=True)
        return
    if no_test or not session.yes("init.ask.test", True):
        click.echo(t("init.next_steps"), err=True)
        return
    try:
        seen = probe(imap_settings, config, session.credentials)
    except CredentialsError as exc:
        raise login_hint(exc, found) from exc
    click.echo(t("init.test.ok", messages=seen.messages, folders=seen.folders,
                 size=megabytes(seen.bytes)), err=True)
    session.offer_keyring(imap_settings)
    if seen.messages == 0:
        from analyzer.errors import ImapError

        raise ImapError("init.no_messages", services=service_names(counterparts),
                        account=imap_settings.account)
    store_path = settings.store_path(default_store)
    check_disk(store_path, seen.bytes)
    if no_fetch or not session.yes("init.ask.fetch", True):
        click.echo(t("init.next_steps"), err=True)
        return
    with _fetch_progress(settings) as progress:
        summary = first_fetch(store_path, imap_settings, config, session.credentials,
                              progress)
    _print_fetch_summary(settings, summary)
    report_file = html_file or Path(t("init.html_name")).resolve()
    settings.config = str(path)
    ctx.invoke(report_command, paths=(), html_file=report_file)
    click.echo(t("init.html", path=str(report_file)), err=True)


# -- chart and bundle (issue 5) -------------------------------------------------


def _report_summary(settings: Settings, paths: tuple[Path, ...], as_of: str | None) -> Any:
    """The report's figures at ``as_of`` (default: now)."""
    from analyzer.report import summarize

    analysis, _, _ = _open_analysis(settings, paths)
    with analysis:
        messages, moment = analysis.metric_input(as_of=as_of)
        return summarize(messages, analysis.config, as_of=moment.to_pydatetime(),
                         links=analysis.links())


@cli.command("chart")
@click.argument("kind", type=click.Choice(["distribution", "timeline", "asymmetry", "trend"]))
@paths_argument(required=False)
@click.option("--out", "out", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Image to write: FILE.png or FILE.svg.")
@click.option("--case", "case_id", metavar="CASE", help="The case of a timeline.")
@click.option("--as-of", "as_of", metavar="DATETIME",
              help="Measure open waits as of DATETIME (default: now).")
@click.pass_obj
def chart_command(settings: Settings, kind: str, paths: tuple[Path, ...], out: Path,
                  case_id: str | None, as_of: str | None) -> None:
    """Draw one chart of the report to a PNG or SVG file: distribution, timeline
    (with --case), asymmetry or trend."""
    from analyzer import charts

    if out.suffix.lower() not in (".png", ".svg"):
        raise UsageError("chart.bad_format", name=out.name)
    if kind == "timeline" and not case_id:
        raise UsageError("chart.needs_case")
    figures = _report_summary(settings, paths, as_of)
    frames = figures.frames
    lang = settings.lang
    if kind == "distribution":
        fig = charts.delay_distribution(frames.waits, lang=lang)
    elif kind == "asymmetry":
        fig = charts.asymmetry_chart(frames.cases, frames.counterparts, lang=lang)
    elif kind == "trend":
        fig = charts.monthly_chart(frames.monthly, lang=lang)
    else:
        found = [c for c in figures.cases if c.case_id == case_id]
        if not found:
            raise UsageError("chart.unknown_case", case=case_id)
        fig = charts.case_timeline(frames.messages, frames.waits, found[0].case_id,
                                   deadlines=frames.deadlines, as_of=figures.as_of,
                                   timezone=figures.timezone, lang=lang,
                                   title=found[0].subject)
    charts.save_figure(fig, str(out))
    click.echo(settings.t("chart.written", path=str(out)))


@cli.command("bundle")
@click.argument("case_id", metavar="CASE")
@paths_argument(required=False)
@click.option("--out", "out", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Zip file to write.")
@click.option("--as-of", "as_of", metavar="DATETIME",
              help="Measure open waits as of DATETIME (default: now).")
@click.pass_obj
def bundle_command(settings: Settings, case_id: str, paths: tuple[Path, ...], out: Path,
                   as_of: str | None) -> None:
    """Gather the evidence of one case in a zip: original messages (.eml), their
    attachments, the case's report page, a chronology, the documents I sent and
    a SHA-256 manifest."""
    from analyzer.bundle import MANIFEST, write_bundle
    from analyzer.report import summarize

    analysis, _, title = _open_analysis(settings, paths)
    with analysis:
        messages, moment = analysis.metric_input(as_of=as_of)
        figures = summarize(messages, analysis.config, as_of=moment.to_pydatetime(),
                            links=analysis.links())
        written = write_bundle(figures, analysis.store, case_id, out, lang=settings.lang,
                               title=title)
    click.echo(settings.t("bundle.written", path=str(out), files=len(written.files) + 1,
                          manifest=f"{written.folder}/{MANIFEST}"))


# -- cohort (issue 6) -------------------------------------------------------------


@cli.command("cohort")
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write counterparts.csv and delay-distribution.csv into.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the tables as one self-contained HTML page.")
@click.pass_obj
def cohort_command(settings: Settings, folders: tuple[Path, ...], out_dir: Path | None,
                   html_file: Path | None) -> None:
    """Aggregate many members' exports per counterpart (groups of fewer than
    five members hidden, duplicates counted once)."""
    from analyzer.cohort import render_html, run_cohort, write_tables

    result = run_cohort(folders)
    shown = int((~result.counterparts["overall"]).sum())
    click.echo(settings.t("cohort.summary", exports=result.exports,
                          duplicates=result.duplicates, members=result.members, shown=shown,
                          suppressed=result.suppressed, minimum=result.minimum))
    if out_dir is not None:
        written = write_tables(result, out_dir)
        click.echo(settings.t("cohort.written", path=str(out_dir),
                              files=", ".join(p.name for p in written)))
    if html_file is not None:
        html_file.write_text(render_html(result, settings.lang), "utf-8")
        click.echo(settings.t("cohort.html_written", path=str(html_file)))
