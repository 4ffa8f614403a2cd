"""``consent-tracker dashboard`` and ``consent-tracker report``: what analysts look at and cite."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import (
    AgentsFileOpt,
    DbOpt,
    FromOpt,
    OutputAliasOpt,
    SinceOpt,
    Text,
    ToOpt,
    UntilOpt,
    either,
    fail,
    open_db,
    out,
    registry,
    resolved,
)
from tracker.config import settings
from tracker.dashboard import app_file
from tracker.records.vocabulary import ReportFormat, Weighting

__all__ = ["dashboard_cmd", "dashboard_process", "report_cmd"]


def dashboard_process(db: str, *, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the dashboard of a database."""
    app = app_file()
    if not app.exists():
        fail(f"the dashboard is not installed with this copy ({app} is missing)")
    env = {**os.environ, "CONSENT_TRACKER_DB": db}
    cmd = [
        sys.executable,
        "-m",
        "tracker.dashboard.serve",  # streamlit's command line, with the first pages' figures computed as it starts
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    return cmd, env


def dashboard_cmd(
    db: DbOpt = None,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (127.0.0.1: this machine only; 0.0.0.0: everyone).")
    ] = "127.0.0.1",
) -> None:
    """Serve the dashboard (Streamlit) on this machine; Ctrl-C stops it."""
    cmd, env = dashboard_process(str(settings.get("db", db)), host=host, port=port)
    out.print(Text(f"dashboard of {env['CONSENT_TRACKER_DB']} at http://{host}:{port}/ (Ctrl-C stops it)"))
    sys.stdout.flush()
    # Streamlit takes this process over: signals (Ctrl-C, a service manager's TERM) reach the server itself.
    os.execve(sys.executable, cmd, env)


def _made_at(environ: dict[str, str] | None = None) -> datetime | None:
    """When a report says it was made: ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds
    convention) when set, so that the same database gives the same bytes; otherwise None (now)."""
    epoch = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):
        fail(f"SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC, not {epoch!r}")


def report_cmd(
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="md, html, pdf or csv.")] = ReportFormat.html,
    out_: Annotated[Path, typer.Option("--out", metavar="FOLDER", help="Folder to write into.")] = Path("report"),
    output: OutputAliasOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    list_: Annotated[
        list[str] | None,
        typer.Option("--list", help="Only the sites of this tracked list: a fixed panel or a top-N (repeatable)."),
    ] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only sites of this category.")] = None,
    weight: Annotated[
        Weighting,
        typer.Option(
            "--weight", help="What a site counts for in the by-agent and by-purpose figures: 1, its tokens, or 1/rank."
        ),
    ] = Weighting.none,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Write a trend report to cite: its provenance (made on, data through, sample, sources, version) first, then key
    figures, charts, methodology, and the CSV behind each chart. SOURCE_DATE_EPOCH, when set, is the time it says it
    was made."""
    from tracker import service

    out_ = either(out_, output)
    options = resolved(db=db, agents_file=agents_file)
    files = service.report(
        open_db(options, create=False),
        registry(options),
        out=out_,
        fmt=fmt,
        since=service.parse_month_or_day(either(since, from_), "since"),
        until=service.parse_month_or_day(either(until, to), "until", end=True),
        lists=list_,
        category=category,
        weight=weight,
        made_at=_made_at(),
    )
    out.print(Text(f"wrote {files[0]} and {len(files) - 1} more files in {out_}"))
