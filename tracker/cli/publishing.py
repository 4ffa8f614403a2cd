"""``consent-tracker publish``: a dated release of the database as files (tracker.publishing.release)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracker import service
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
    err,
    open_db,
    registry,
    resolved,
)

__all__ = ["publish_cmd"]


def publish_cmd(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FOLDER", help="The folder to write the release into (empty, or --replace). Required."
        ),
    ] = None,
    output: OutputAliasOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    list_: Annotated[
        list[str] | None,
        typer.Option("--list", help="Only the sites of this tracked list: a fixed panel or a top-N (repeatable)."),
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", "-a", help="Agents of agent_states (repeatable). Default: the core panel."),
    ] = None,
    with_bodies: Annotated[
        bool, typer.Option("--with-bodies", help="Add every robots.txt version's text (robots_txt).")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the previous release in --out.")] = False,
    max_age: Annotated[
        int, typer.Option("--max-age", help="Days after its last observation a site stops counting.")
    ] = 90,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Write a dated release of the database: Parquet tables with CSV twins, the forecast, a Frictionless Data
    Package, a README and SHA256SUMS — the same database, the same bytes."""
    since, until = either(since, from_), either(until, to)
    out = either(out, output)
    if out is None:
        raise typer.BadParameter("the folder to write the release into is required", param_hint="--out")
    since_d, until_d = service.parse_month_or_day(since, "since"), service.parse_month_or_day(until, "until", end=True)
    options = resolved(db=db, agents_file=agents_file)
    release = service.publish(
        open_db(options, create=False),
        registry(options),
        out=out,
        since=since_d,
        until=until_d,
        lists=list_,
        agents=agent,
        with_bodies=with_bodies,
        replace=replace,
        max_age=max_age,
    )
    tables = ", ".join(f"{name} {n:,}" for name, n in release.rows.items())
    err.print(
        Text(
            f"wrote {len(release.files)} files ({release.bytes:,} bytes) to {release.out}: data through "
            f"{release.data_through}; rows: {tables}"
        ),
        soft_wrap=True,
    )
    print(f"sha256:{release.checksum}  {release.out / 'SHA256SUMS'}")  # what to cite the release by
