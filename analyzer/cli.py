"""The command line: a thin layer over the library.

Each command calls one library function. Library errors (:class:`AnalyzerError`)
become one short line on stderr in the user's language with exit code 1
(2 for bad usage); a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

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
        except (click.ClickException, click.exceptions.Exit, click.Abort):
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


@cli.command("report")
@paths_argument(required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as one self-contained HTML file.")
@click.pass_obj
def report_command(settings: Settings, paths: tuple[Path, ...], html_file: Path | None
                   ) -> None:
    """Print the report of a mailbox (PATH...) or of the store."""
    from analyzer.analysis import Analysis
    from analyzer.paths import cache_store_for, default_store
    from analyzer.report import render_html, render_terminal, summarize
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
    with Analysis(Store.open(store_path), config) as analysis:
        figures = summarize(analysis.messages(), config)
    config_name = str(config.path) if config.path else None
    render_terminal(figures, settings.lang, _console(), title=title, store=str(store_path),
                    config=config_name)
    if html_file is not None:
        html_file.write_text(render_html(figures, settings.lang, title=title), "utf-8")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="analyzer")


