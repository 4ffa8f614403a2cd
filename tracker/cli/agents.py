"""``consent-tracker agents list|sync``: the AI user-agent registry."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer

from tracker import service
from tracker.cli.common import AgentsFileOpt, FormatOpt, Table, Text, out, registry, resolved
from tracker.records.csv_safety import csv_safe
from tracker.records.vocabulary import OutputFormat, Purpose
from tracker.rules.agents import UPSTREAM_URL

__all__ = ["agents_list", "agents_sync"]


def agents_list(
    purpose: Annotated[Purpose | None, typer.Option("--purpose", help="training, search, user or control.")] = None,
    company: Annotated[str | None, typer.Option("--company", help="Only this company's agents.")] = None,
    fmt: FormatOpt = OutputFormat.table,
    agents_file: AgentsFileOpt = None,
) -> None:
    """List the AI user agents the tracker knows, grouped by company."""
    reg = registry(agents_file)
    rows = service.agents(reg, purpose=purpose, company=company)
    if fmt is OutputFormat.json:
        print(json.dumps(rows.as_json(), indent=1, ensure_ascii=False))
        return
    if fmt is OutputFormat.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["token", "company", "purpose", "ai", "obeys_robots", "docs"])
        for a in rows:
            w.writerow([csv_safe(a.token), csv_safe(a.company), a.purpose, a.ai, a.obeys_robots, a.docs or ""])
        return
    table = Table(title=f"{len(rows)} agents")
    for col in ("company", "token", "purpose", "AI", "obeys robots.txt", "docs"):
        table.add_column(col, overflow="fold")
    for company_name, agents in reg.companies().items():
        for a in agents:
            if a in rows:
                table.add_row(
                    Text(company_name),
                    Text(a.token),
                    Text(a.purpose),
                    Text("yes" if a.ai else "no (control)"),
                    Text(a.obeys_robots),
                    Text(a.docs or ""),
                )
    out.print(table)


def agents_sync(
    source: Annotated[
        str, typer.Option("--source", help="URL or local path of ai.robots.txt's robots.json.")
    ] = UPSTREAM_URL,
    agents_file: AgentsFileOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds to wait.")] = None,
) -> None:
    """Refresh the registry from the ai.robots.txt project, keeping our own purposes and notes."""
    synced = service.agents_sync(
        resolved(agents_file=agents_file, timeout=timeout),
        source=source,
        dry_run=dry_run,
        hint="it with --source PATH",
    )
    merged = synced.merged
    out.print(Text(f"{len(synced.added)} new agents, {len(synced.updated)} updated, {len(merged)} in all"))
    for t in synced.added:
        a = merged.get(t)
        out.print(Text(f"  + {t} ({a.purpose if a else '?'})"))
    if synced.written is None:
        out.print("dry run: nothing written")
        return
    out.print(Text(f"wrote {synced.written}"))
