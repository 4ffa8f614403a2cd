"""``consent-tracker claims``: published figures beside ours under the same definition
(tracker.analysis.claims.compare)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tracker import service
from tracker.cli.common import (
    AgentsFileOpt,
    DbOpt,
    FormatOpt,
    Table,
    Text,
    marked,
    open_db,
    out,
    print_csv,
    registry,
    resolved,
    simulated,
)
from tracker.records.vocabulary import OutputFormat

__all__ = ["claims_cmd"]


def claims_cmd(
    claims: Annotated[
        Path | None, typer.Option("--claims", help="A claims CSV (default: the project's tracker/data/claims.csv).")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Published figures (Originality.ai, Consent in Crisis, Reuters Institute, Cloudflare Radar, Epoch AI) beside
    ours under the same definition and sample, or what is missing to compute ours."""
    options = resolved(db=db, agents_file=agents_file)
    engine = open_db(options, create=False)
    comparisons = service.claims(engine, registry(options), claims=claims)
    is_simulated = simulated(engine)
    if fmt is OutputFormat.json:
        print(json.dumps(marked({"comparisons": [c.as_dict() for c in comparisons]}, is_simulated), indent=1))
        return
    if fmt is OutputFormat.csv:
        print_csv([c.as_row().as_dict() for c in comparisons])
        return
    table = Table(
        caption="Δ: ours minus theirs, each of ours computed under the claim's definition on our own sample "
        "(--format json or csv: every definition and sample in full).",
        caption_justify="left",
    )
    for heading in ("claim", "theirs", "as of", "ours", "on", "sites", "Δ"):
        table.add_column(heading, justify="left" if heading in ("claim", "as of", "on") else "right", no_wrap=True)
    for c in comparisons:
        cells = c.cells()
        table.add_row(
            *(Text(t) for t in (cells.claim, cells.theirs, cells.as_of, cells.ours, cells.on, cells.sites, cells.delta))
        )
    out.print(table)
    out.print(Text("Theirs, and what ours rests on (or what is missing):"))
    for c in comparisons:
        rests = c.cells().rests_on
        ours = rests if c.missing else f"ours: {rests}"
        out.print(Text(f"- {c.claim.id}: {c.claim.source}, {c.claim.url} — {ours}"), soft_wrap=True)
    definitions: dict[str, list[str]] = {}
    for c in comparisons:
        definitions.setdefault(c.definition.text, []).append(c.claim.id)
    out.print(Text("How ours is counted:"))
    for text, ids in definitions.items():
        out.print(Text(f"- {', '.join(ids)}: {text}"), soft_wrap=True)
