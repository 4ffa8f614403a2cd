"""What every command shares: the consoles, the error exit, the common options, printing series as data."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine

from tracker import settings
from tracker.agents import AgentRegistry, load_registry
from tracker.report import csv_safe
from tracker.vocabulary import OutputFormat

__all__ = [
    "AgentsFileOpt",
    "DbOpt",
    "FormatOpt",
    "err",
    "fail",
    "open_db",
    "out",
    "parse_day",
    "print_rows_as_data",
    "registry",
    "warn",
]

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

AgentsFileOpt = Annotated[
    str | None, typer.Option("--agents-file", help="Agent registry JSON [env CONSENT_TRACKER_AGENTS_FILE].")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="How to print.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database path or URL [env CONSENT_TRACKER_DB].")]


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit 2."""
    err.print(Text(f"error: {message}", style="red"))
    raise typer.Exit(2)


def warn(message: str) -> None:
    """Print a one-line warning on standard error."""
    err.print(Text(f"warning: {message}", style="yellow"))


def registry(agents_file: str | None) -> AgentRegistry:
    """The agent registry the settings name."""
    return load_registry(settings.get("agents-file", agents_file) or None)


def open_db(db: str | None, *, create: bool = True) -> Engine:
    """The database the settings name; read commands pass ``create=False`` so a typo is an error."""
    from tracker.store import open_store

    return open_store(settings.get("db", db), create=create)


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2024-01-31, not {value!r}")


def print_rows_as_data(rows: list[Any], fmt: OutputFormat, extra: dict[str, Any] | None = None) -> bool:
    """Print series rows as JSON or formula-safe CSV (True), or say there are none (True); False for a table."""
    if fmt is OutputFormat.json:
        print(json.dumps({**(extra or {}), "rows": [r.as_dict() for r in rows]}, indent=1))
        return True
    if fmt is OutputFormat.csv:
        w = csv.writer(sys.stdout)
        if rows:
            w.writerow(list(rows[0].as_dict()))
        for r in rows:
            w.writerow([csv_safe(v) for v in r.as_dict().values()])
        return True
    if not rows:
        out.print("no observations in that range")
        return True
    return False
