"""The ``consent-tracker`` command line: thin commands over :mod:`tracker.service`, one function each, that
resolve the settings once from their options, call one use case and print what it returns.

One grammar: an option has the name of the parameter it sets (``--delay`` ↔ the ``delay`` setting,
``--archive-rate`` ↔ ``archive_rate``, ``--since/--until`` ↔ ``since/until``); a repeatable option is named for one
item of the list it fills (``--agent`` ↔ ``agents``, ``--list`` ↔ ``lists``, ``--change`` ↔ ``changes``). Older
spellings stay as hidden aliases (``schedule --site-list``, ``backfill --rate``, ``changes --type``).

Library errors (:class:`tracker.errors.TrackerError`) become a one-line message and exit code 2 in one place
(``_user_errors``, wrapped around every command where it is registered, and ``main``); an error naming its
``parameter`` is said with the option's name (``_option``). Fetched content is printed as plain text, never as
Rich markup, so a robots.txt cannot style the terminal.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
import typer.core

from tracker import __version__
from tracker.cli.agents import agents_list, agents_sync
from tracker.cli.backfilling import backfill_cmd
from tracker.cli.categorizing import categories_assign, categories_import, categories_report
from tracker.cli.claims import claims_cmd
from tracker.cli.common import FormatOpt, Table, Text, fail, out, print_csv
from tracker.cli.crawling import crawl_cmd, crawl_status, worker_cmd
from tracker.cli.database import db_copy, db_migrate
from tracker.cli.forecasting import forecast_cmd
from tracker.cli.history import export_latest, import_archive_cmd, site_cmd, trends_cmd, weights_import
from tracker.cli.presenting import dashboard_cmd, report_cmd
from tracker.cli.publishing import publish_cmd
from tracker.cli.robots import robots_cmd
from tracker.cli.serving import serve_cmd
from tracker.cli.starting import up_cmd
from tracker.cli.tracked import sites_add, sites_list, sites_remove
from tracker.cli.watching import changes_cmd, schedule_cmd
from tracker.config import settings
from tracker.errors import TrackerError
from tracker.records.vocabulary import OutputFormat

__all__ = ["app", "main"]

#: The top-level commands in the order of the workflow (set up, collect, read, write out, model, serve, maintain):
#: ``--help`` lists them so; a command left out of this list comes after these, in registration order.
WORKFLOW = (
    "up",
    "sites",
    "crawl",
    "backfill",
    "import-archive",
    "trends",
    "site",
    "changes",
    "export",
    "report",
    "publish",
    "forecast",
    "claims",
    "dashboard",
    "serve",
    "schedule",
    "worker",
    "agents",
    "categories",
    "weights",
    "db",
    "robots",
    "settings",
)


def _metavar(option: Any) -> str:
    """What an option's value is called in ``--help``: its name (``--agent AGENT``, ``--max-age MAX_AGE``), never
    its Python type (``<str>``, ``<list[str]>``, ``<int range>``)."""
    return max(option.opts, key=len).lstrip("-").replace("-", "_").upper()


def _name_values(command: Any) -> None:
    """Give every option of a command (and of its subcommands) a metavar that names its value, unless it has one
    or offers a choice (``<table|json|csv>`` lists the values it takes)."""
    for param in command.params:
        if param.param_type_name != "option" or param.metavar is not None or param.is_flag or param.count:
            continue
        if getattr(param.type, "choices", None) is None:
            param.metavar = _metavar(param)
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)


class _WorkflowOrder(typer.core.TyperGroup):
    """A command group that lists its commands in the order of the workflow (:data:`WORKFLOW`), and whose options
    name their values (:func:`_name_values`)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _name_values(command)
        return command

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(WORKFLOW)}
        return sorted(names, key=lambda n: (rank.get(n, len(WORKFLOW)), names.index(n)))


app = typer.Typer(
    cls=_WorkflowOrder,
    name="consent-tracker",
    help="Measure how the web's consent to AI data collection changes: robots.txt and licensing signals "
    "per AI user agent, over time.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
agents_app = typer.Typer(help="The AI user-agent registry.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
export_app = typer.Typer(help="Export data for analysis.", no_args_is_help=True)
app.add_typer(export_app, name="export")
sites_app = typer.Typer(help="The tracked sites: a fixed panel and moving top-N lists.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
weights_app = typer.Typer(help="Token weights per site.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")
crawl_app = typer.Typer(
    help="Crawl a site list into the history (or see how a crawl run is going).", invoke_without_command=True
)
app.add_typer(crawl_app, name="crawl")
db_app = typer.Typer(
    help="The database itself: migrations, and copies between SQLite and PostgreSQL.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
categories_app = typer.Typer(help="What kind of site each is, from several sources.", no_args_is_help=True)
app.add_typer(categories_app, name="categories")


#: The parameters whose option is not simply ``--`` and the name (a repeatable option is named for one item).
_OPTIONS = {"agents": "--agent", "lists": "--list", "changes": "--change", "signals": "--signal", "overrides": "--set"}


def _option(parameter: str) -> str:
    """The option that sets a service parameter: the one place the CLI's spelling of parameters lives."""
    return _OPTIONS.get(parameter, "--" + parameter.replace("_", "-"))


def _message(e: TrackerError) -> str:
    """An error's message as the CLI's user reads it: a parameter named as its option."""
    text = str(e)
    if e.parameter and text.startswith(e.parameter):
        return _option(e.parameter) + text[len(e.parameter) :]
    return text


def _damage(e: Exception) -> str | None:
    """Why the database is damaged, if that is what the error says (SQLAlchemy's error types are looked up only if
    SQLAlchemy was loaded: a command that never opened a store pays nothing for them)."""
    import sqlite3

    orm = sys.modules.get("sqlalchemy.exc")
    if not isinstance(e, (sqlite3.DatabaseError, *((orm.DatabaseError,) if orm else ()))):
        return None
    reason = str(getattr(e, "orig", None) or e).splitlines()[0]
    return reason if "malformed" in reason or "not a database" in reason else None


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """The one place library errors become messages: one line on standard error, exit code 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TrackerError as e:
            fail(_message(e))
        except Exception as e:
            # A damaged SQLite file fails wherever a query first reads a bad page: say so once, with the way out.
            reason = _damage(e)
            if reason is None:
                raise
            from tracker import service

            db = service.database_file(str(settings.get("db", kwargs.get("db")))) or "the database"
            fail(
                f'{db} is damaged ({reason}): recover what is left with `sqlite3 {db} ".recover" | '
                f"sqlite3 recovered.db`, then use --db recovered.db"
            )

    return run


for _group, _name, _command in (
    (app, "robots", robots_cmd),
    (app, "import-archive", import_archive_cmd),
    (app, "trends", trends_cmd),
    (app, "site", site_cmd),
    (crawl_app, "status", crawl_status),
    (app, "worker", worker_cmd),
    (app, "backfill", backfill_cmd),
    (app, "up", up_cmd),
    (app, "changes", changes_cmd),
    (app, "schedule", schedule_cmd),
    (app, "forecast", forecast_cmd),
    (app, "dashboard", dashboard_cmd),
    (app, "serve", serve_cmd),
    (app, "report", report_cmd),
    (app, "publish", publish_cmd),
    (export_app, "latest", export_latest),
    (agents_app, "list", agents_list),
    (agents_app, "sync", agents_sync),
    (sites_app, "add", sites_add),
    (sites_app, "list", sites_list),
    (sites_app, "remove", sites_remove),
    (categories_app, "import", categories_import),
    (categories_app, "assign", categories_assign),
    (categories_app, "report", categories_report),
    (weights_app, "import", weights_import),
    (db_app, "migrate", db_migrate),
    (db_app, "copy", db_copy),
    (app, "claims", claims_cmd),
):
    _group.command(_name)(_user_errors(_command))
crawl_app.callback()(_user_errors(crawl_cmd))


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"consent-tracker {__version__}")
        raise typer.Exit(0)


@app.command("settings")
@_user_errors
def _settings_cmd(fmt: FormatOpt = OutputFormat.table) -> None:
    """List every setting: its environment variable, effective value and help."""
    values = settings.resolve().values()
    if fmt is OutputFormat.json:
        print(json.dumps(values, indent=1, default=str))
        return
    if fmt is OutputFormat.csv:
        print_csv(
            [
                {"setting": name, "environment_variable": s.env, "value": str(values[name]), "help": s.help}
                for name, s in settings.SETTINGS.items()
            ]
        )
        return
    table = Table()
    for col in ("setting", "environment variable", "value", "help"):
        table.add_column(col, overflow="fold")
    for name, s in settings.SETTINGS.items():
        table.add_row(Text(name), Text(s.env), Text(str(values[name])), Text(s.help))
    out.print(table)


def main() -> None:
    """Entry point of the ``consent-tracker`` script: a library error anywhere is one line and exit code 2."""
    try:
        app()
    except TrackerError as e:
        try:
            fail(_message(e))
        except typer.Exit as done:
            raise SystemExit(done.exit_code) from None
