"""The history commands: ``import-archive``, ``trends``, ``export latest`` and ``site``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from tracker import service
from tracker.cli.common import (
    AgentsFileOpt,
    DbOpt,
    FormatOpt,
    FromOpt,
    OutputAliasOpt,
    SinceOpt,
    Table,
    Text,
    ToOpt,
    UntilOpt,
    either,
    err,
    fail,
    marked,
    open_db,
    out,
    print_csv,
    print_rows_as_data,
    progress_bar,
    registry,
    resolved,
    simulated,
    warn,
)
from tracker.records.site import AgentVerdict
from tracker.records.vocabulary import SIGNAL_NAMES, ExportFormat, Freq, GroupBy, OutputFormat, Rule, Weighting

__all__ = ["export_latest", "import_archive_cmd", "site_cmd", "trends_cmd", "weights_import"]


def import_archive_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder laid out as <domain>/<YYYY-MM-DD>.txt.")],
    db: DbOpt = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Last date the archive covers (default: its newest file)."),
    ] = None,
    to: ToOpt = None,
) -> None:
    """Import a dated robots.txt archive into the history (idempotent; rerun to resume)."""
    engine = open_db(db)
    until_d = service.parse_month_or_day(either(until, to), "until", end=True)
    with progress_bar("importing", "files", "{task.description}") as bar:
        task = bar.add_task("", total=None)
        report = service.import_archive(
            engine,
            directory,
            until=until_d,
            progress=lambda done, total, host: bar.update(task, completed=done, total=total, description=host),
        )
    out.print(Text(report.summary()))
    for p in report.problems[:50]:
        warn(p)
    if len(report.problems) > 50:
        warn(f"… and {len(report.problems) - 50} more problems")
    # Categories are computed from labels, not at import: say what gives the imported sites theirs.
    out.print(
        Text(
            "next: `consent-tracker categories assign` gives the imported sites their categories "
            "(--category in trends, changes and report, and the dashboard's filter, rest on them)"
        ),
        soft_wrap=True,
    )


def trends_cmd(
    agent: Annotated[
        list[str] | None, typer.Option("--agent", "-a", help="Agent token (repeatable). Default: GPTBot.")
    ] = None,
    freq: Annotated[Freq, typer.Option("--freq", help="The period of each row.")] = Freq.month,
    since: SinceOpt = None,
    until: UntilOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    by: Annotated[GroupBy, typer.Option("--by", help="One row per agent, or per company or purpose.")] = GroupBy.agent,
    rule: Annotated[
        Rule, typer.Option("--rule", help="A group's site counts when any of its agents is blocked, or all of them.")
    ] = Rule.any,
    category: Annotated[str | None, typer.Option("--category", help="Only sites of this category.")] = None,
    list_: Annotated[
        list[str] | None,
        typer.Option("--list", help="Only the sites of this tracked list: a fixed panel or a top-N (repeatable)."),
    ] = None,
    weight: Annotated[
        Weighting, typer.Option("--weight", help="What a site counts for: 1, its tokens, or 1/rank.")
    ] = Weighting.none,
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights", help="CSV with url and *_tokens columns (default: the weights stored by `weights import`)."
        ),
    ] = None,
    weight_column: Annotated[
        str | None, typer.Option("--weight-column", help="Column of --weights to use (default: first *_tokens).")
    ] = None,
    max_age: Annotated[
        int, typer.Option("--max-age", help="Days after its last observation a site stops counting.")
    ] = 90,
    signal: Annotated[
        list[str] | None,
        typer.Option("--signal", "-s", help="Adoption of a signal instead (repeatable): " + ", ".join(SIGNAL_NAMES)),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Restriction over time: per period, how many sites block each agent (named or via '*'), or adopt a signal."""
    since, until = either(since, from_), either(until, to)
    since_d, until_d = service.parse_month_or_day(since, "since"), service.parse_month_or_day(until, "until", end=True)
    options = resolved(db=db, agents_file=agents_file)
    reg = registry(options)
    engine = open_db(options, create=False)
    if signal:
        found = service.signal_trends(
            engine,
            signals=signal,
            freq=freq,
            since=since_d,
            until=until_d,
            category=category,
            max_age=max_age,
        )
        _print_signal_rows(found, fmt, simulated(engine))
        return
    result = service.trends(
        engine,
        reg,
        agents=agent,
        freq=freq,
        since=since_d,
        until=until_d,
        by=by,
        rule=rule,
        category=category,
        lists=list_,
        weight=weight,
        weights=weights,
        weight_column=weight_column,
        max_age=max_age,
    )
    for t in result.unknown_agents:
        warn(f"{t} is not in the agent registry: read as an unnamed product token (see `consent-tracker agents list`)")
    if print_rows_as_data(result.rows, fmt, marked(result.as_dict(), simulated(engine))):
        return
    _print_trend_table(result.rows)
    for d in result.definitions if by is not GroupBy.agent else []:
        out.print(Text(d.text), soft_wrap=True)


#: Trend table columns: (heading, value of a row); the first seven fit an 80-column terminal.
_TREND_COLUMNS: list[tuple[str, Callable[[Any], str]]] = [
    ("period", lambda r: r.period),
    ("agent", lambda r: r.agent),
    ("sites", lambda r: str(r.sites)),
    ("blocked", lambda r: str(r.blocked)),
    ("share", lambda r: f"{r.blocked_share:.1%}"),
    ("named", lambda r: str(r.blocked_named)),
    ("unreachable", lambda r: str(r.unreachable)),
    ("named share", lambda r: f"{r.blocked_named_share:.1%}"),
    ("full", lambda r: str(r.full_block)),
    ("near-full", lambda r: str(r.near_full_block)),
    ("partial", lambda r: str(r.partial_block)),
]


def _print_trend_table(rows: list[Any]) -> None:
    """The series as a table: every column where the terminal is wide, the seven main ones where it is not
    (``--format csv`` or ``json`` always has them all)."""
    from tracker.analysis.trends import DEFINITIONS

    columns = _TREND_COLUMNS if out.width >= 120 else _TREND_COLUMNS[:7]
    table = Table(caption=DEFINITIONS, caption_justify="left")
    for heading, _ in columns:
        table.add_column(heading, justify="left" if heading in ("period", "agent") else "right", no_wrap=True)
    for r in rows:
        table.add_row(*(Text(value(r)) for _, value in columns))
    out.print(table)
    if rows:
        r = rows[-1]
        how = "by site" if r.weighting == "sites" else f"by {r.weighting}, {r.weight_measured_share:.0%} of it measured"
        out.print(Text(f"sample: {r.sample}; weighted {how}"), soft_wrap=True)
    if len(columns) < len(_TREND_COLUMNS):
        out.print(Text("(a narrow terminal: named share and the stance counts are in --format csv or json)"))


def _print_signal_rows(found: service.SignalTrends, fmt: OutputFormat, is_simulated: bool = False) -> None:
    """Adoption rows; a signal never observed here is said to be (never drawn as a zero), and one read from some of
    its resources only says which."""
    rows, coverage, partial = found.rows, found.coverage, found.partial
    if fmt is OutputFormat.json:
        print_rows_as_data(rows, fmt, marked(found.as_dict(), is_simulated))
        return
    if fmt is OutputFormat.csv:
        for c in partial:
            warn(c.message)
        print_rows_as_data(rows, fmt)
        return
    if not rows:
        for c in partial:
            out.print(Text(c.message), soft_wrap=True)
        if not any(c.never for c in coverage):
            out.print("no observations in that range")
        return
    definitions = {r.signal: r.definition for r in rows}
    table = Table(
        caption="; ".join(f"{k}: {v}" for k, v in definitions.items()) + ". Share is over the sites whose "
        "reading is known by then (the signal's first resource observed, or another saying yes).",
        caption_justify="left",
    )
    for col in ("period", "signal", "sites", "adopting", "share"):
        table.add_column(col, justify="left" if col in ("period", "signal") else "right", no_wrap=True)
    for r in rows:
        table.add_row(r.period, r.signal, str(r.sites), str(r.adopting), f"{r.share:.1%}")
    out.print(table)
    for c in partial:
        out.print(Text(c.message), soft_wrap=True)


def export_latest(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="How to write.")] = ExportFormat.jsonl,
    out_: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write to this file (default: stdout).")
    ] = None,
    output: OutputAliasOpt = None,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """One record per site: its current robots.txt status and every registry agent's verdict and stance."""
    output = either(out_, output)
    options = resolved(db=db, agents_file=agents_file)
    reg = registry(options)
    engine = open_db(options, create=False)
    simulated(engine)  # JSON lines and CSV keep their shape; the note is on standard error
    if output is None:
        service.export_latest(engine, reg, sys.stdout, fmt=fmt)
        return
    n = service.export_latest_to(engine, reg, output, fmt=fmt)
    err.print(Text(f"wrote {n} sites to {output}"))


def site_cmd(
    domain: Annotated[str, typer.Argument(help="The site (as crawled or imported, e.g. nytimes.com).")],
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", "-a", help="Agents to show (repeatable). Default: the core panel (as `robots`)."),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Everything known about one site now (each agent's stance, the signals), and what each version changed."""
    from tracker.records.site import adoption_summary, version_summary

    options = resolved(db=db, agents_file=agents_file)
    engine = open_db(options, create=False)
    info = service.site(engine, registry(options), domain, agents=agent)
    is_simulated = simulated(engine)
    if fmt is OutputFormat.json:
        print(json.dumps(marked(info.as_dict(), is_simulated), indent=1, default=str))
        return
    if fmt is OutputFormat.csv:
        # One row per agent: the site's stance table (its history is in `changes --site` and `--format json`).
        print_csv(
            [
                {
                    "site": info.site.domain,
                    "agent": token,
                    **a.as_dict(),
                    "training_optout_sources": ";".join(a.training_optout_sources),
                }
                for token, a in info.agents.items()
            ]
        )
        return
    cur = info.current
    rank = f"rank {info.site.rank:,}" if info.site.rank is not None else "rank not known"
    category = f"category {info.site.category}" if info.site.category else "no category"
    out.print(Text(f"{info.site.domain} ({rank}, {category})"))
    if cur:
        seen = f"seen {cur.fetched_at:%Y-%m-%d %H:%M} UTC" if cur.fetched_at else "when not known"
        http = f"HTTP {cur.http_status}" if cur.http_status is not None else "no HTTP status"
        out.print(Text(f"now: robots.txt {cur.robots_status} ({http}), {seen}"))
        for k, v in cur.signals.as_dict().items():
            if k == "homepage_status" and v is None:
                v = "not fetched"
            elif v is None:
                v = "not observed"
            out.print(Text(f"  {k}: {json.dumps(v) if not isinstance(v, str) else v}"), soft_wrap=True)
        out.print(Text("  adoption: " + adoption_summary(cur.adoption)), soft_wrap=True)
        _print_agents_now(info.agents)
    table = Table(title="history: what each version changed (the first: what it said)")
    for col in ("resource", "from", "until", "status", "what changed"):
        table.add_column(col, overflow="fold")
    for h in info.history:
        said = version_summary(h)
        table.add_row(
            Text(h.kind),
            Text(f"{h.first_seen:%Y-%m-%d}" if h.first_seen else ""),
            Text(f"{h.valid_to:%Y-%m-%d}" if h.valid_to else "now"),
            Text(f"{h.status} {h.http_status or ''}".strip()),
            Text(said),
        )
    out.print(table)


def _print_agents_now(agents: Mapping[str, AgentVerdict]) -> None:
    """Each agent's stance today ("via *": from the '*' group), and its training preference (not observed: no
    homepage fetched and no source saying "no")."""
    table = Table(title="now, per agent ('/': may it fetch '/'; opt-out: of AI training, and the sources saying so)")
    for col in ("agent", "stance", "/", "opt-out"):
        table.add_column(col, overflow="fold")
    for token, a in agents.items():
        optout, sources = a.training_optout, ", ".join(a.training_optout_sources)
        table.add_row(
            Text(token),
            Text(f"{a.stance}{' via *' if a.inherited else ''}"),
            Text("yes" if a.allowed_root else "no"),
            Text("not observed" if optout is None else f"yes: {sources}" if optout else "no"),
        )
    out.print(table)


def weights_import(
    file: Annotated[Path, typer.Argument(help="A url,<corpus>_tokens CSV (e.g. the Consent in Crisis token counts).")],
    column: Annotated[str | None, typer.Option("--column", help="The column (default: the first *_tokens).")] = None,
    fill: Annotated[
        str, typer.Option("--fill", help="For sites without a count: rank (power law), median, or none.")
    ] = "rank",
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
) -> None:
    """Store token counts per site (every host of the file folded into its site), and a documented fallback for the
    sites without one; say where the hosts went and how much weight was measured."""
    if fmt is OutputFormat.csv:
        fail("weights import prints a table or JSON")
    r = service.weights_import(open_db(db), file, column=column, fill=fill)
    if fmt is OutputFormat.json:
        print(json.dumps(r.as_dict(), indent=1))
        return

    def share(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.1%}"

    lines = [
        f"{r.column} of {r.source}: {r.file_hosts:,} hosts, {r.file_weight:,.0f} tokens",
        f"hosts: {r.exact_hosts:,} are a tracked site's own name (or its www.), {r.subdomain_hosts:,} folded in from "
        f"subdomains, {r.unmatched_hosts:,} match no tracked site ({r.invalid_hosts:,} of them not host names)",
        f"unmatched: {r.unmatched_weight:,.0f} tokens, {share(r.unmatched_share)} of the file's",
        f"sites: {r.measured:,} of {r.sites:,} measured, {r.filled:,} filled in ({r.fill}); "
        f"{share(r.measured_share)} of the stored weight is measured",
    ]
    if r.folds:
        lines.append("most hosts folded:")
        lines += [
            f"  {f.domain} ← {f.hosts:,} host{'s' if f.hosts != 1 else ''} ({f.subdomain_hosts:,} from subdomains), "
            f"{f.weight:,.0f} tokens"
            for f in r.folds[:8]
        ]
    for line in lines:
        out.print(Text(line), soft_wrap=True)
