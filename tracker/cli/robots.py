"""``consent-tracker robots``: one robots.txt, every agent's stance and verdicts."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tracker import service
from tracker.cli.common import (
    AgentsFileOpt,
    AllowPrivateOpt,
    CaBundleOpt,
    FormatOpt,
    Table,
    Text,
    out,
    resolved,
    visible_data,
)
from tracker.records.csv_safety import csv_safe
from tracker.records.robots import RobotsReport
from tracker.records.vocabulary import VIA, OutputFormat

if TYPE_CHECKING:
    from rich.text import Text as RichText

__all__ = ["robots_cmd"]

#: Below this width the deciding rules go under the table instead of into a squeezed column.
WIDE = 140


def robots_cmd(
    target: Annotated[
        str, typer.Argument(help="A robots.txt file, '-' for standard input, a domain, or a URL on the host.")
    ],
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", "-a", help="Agent token to evaluate (repeatable). Default: the core panel."),
    ] = None,
    url: Annotated[
        list[str] | None, typer.Option("--url", "-u", help="URL or path to check (repeatable). Default: '/'.")
    ] = None,
    all_agents: Annotated[bool, typer.Option("--all-agents", help="Evaluate every registry agent.")] = False,
    fmt: FormatOpt = OutputFormat.table,
    agents_file: AgentsFileOpt = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds per connect/read [env CONSENT_TRACKER_TIMEOUT].")
    ] = None,
    user_agent: Annotated[
        str | None, typer.Option("--user-agent", help="User-Agent header [env CONSENT_TRACKER_USER_AGENT].")
    ] = None,
    allow_private: AllowPrivateOpt = None,
    ca_bundle: CaBundleOpt = None,
) -> None:
    """Show each agent's stance in a robots.txt, and whether it may fetch each URL."""
    options = resolved(agents_file=agents_file, timeout=timeout, user_agent=user_agent, allow_private=allow_private)
    report = service.robots(
        "<stdin>" if target == "-" else target,
        options,
        agents=agent,
        all_agents=all_agents,
        urls=url,
        body=sys.stdin.buffer.read() if target == "-" else None,
        ca_bundle=ca_bundle,
    )
    if fmt is OutputFormat.json:
        data = report.as_dict()
        out.print_json(json.dumps(data)) if sys.stdout.isatty() else print(json.dumps(data, indent=1))
    elif fmt is OutputFormat.csv:
        _print_csv(report)
    else:
        _print_table(visible_data(report))  # fetched text never drives the terminal


def _yes(v: bool) -> RichText:
    return Text("yes", style="green") if v else Text("no", style="red")


_STANCE_STYLE = {
    "full_block": "bold red",
    "near_full_block": "red",
    "partial_block": "yellow",
    "allowed": "green",
    "explicit_allow": "bold green",
    "no_robots": "cyan",
    "unreachable": "magenta",
}


def _heading(report: RobotsReport) -> list[RichText]:
    f = report.fetch
    head = Text(f"{report.target}: {f.status}")
    if f.http_status is not None:
        head.append(f" (HTTP {f.http_status})")
    if f.redirects:
        head.append(f", {len(f.redirects)} redirect(s) to {f.final_url}")
    head.append(f", {f.bytes} bytes")
    if f.truncated:
        head.append(", truncated at 500 KiB")
    if f.error:
        head.append(f", {f.error}")
    p = report.parse
    parse = Text(f"{p.groups} groups, {p.rules} rules, {p.ignored_lines} ignored lines")
    if p.cut_line:
        parse.append(f", line {p.cut_line} cut by the 500 KiB limit and dropped")
    if p.cloudflare_managed:
        parse.append(", Cloudflare-managed block")
    return [head, parse]


def _print_table(report: RobotsReport) -> None:
    for line in _heading(report):
        out.print(line, soft_wrap=True)
    wide = out.width >= WIDE
    table = Table(show_lines=False)
    for col in ("agent", "purpose", "stance", "via"):
        table.add_column(col, no_wrap=True)
    urls = report.agents[0].urls if report.agents else ()
    for u in urls:
        table.add_column(Text(u.url), overflow="fold", no_wrap=True, max_width=24)
    if wide:
        table.add_column("deciding rules", overflow="fold")
    for a in report.agents:
        via: str = VIA.get(a.source, a.source)  # type: ignore[call-overload]  # the views' and the release's words
        if a.lenient_named and not a.named:
            via += " (lenient: named)"
        cells: list[RichText] = [
            Text(a.agent),
            Text(a.purpose or "?"),
            Text(a.stance, style=_STANCE_STYLE.get(a.stance, "")),
            Text(via),
        ]
        cells += [_yes(v.allowed) for v in a.urls]
        if wide:
            cells.append(Text("; ".join(a.deciding_rules)))
        table.add_row(*cells)
    out.print(table)
    if not wide:
        # A narrow terminal or a pipe: one line per agent, never cut, rather than a column four characters wide.
        for a in report.agents:
            if a.deciding_rules:
                out.print(Text(f"{a.agent}: " + "; ".join(a.deciding_rules)), soft_wrap=True)
    for r in report.parse.records:
        if r.key in ("content-signal", "content-usage", "license", "crawl-delay"):
            out.print(Text(f"line {r.line}: {r.key}: {r.value}"), soft_wrap=True)


def _print_csv(report: RobotsReport) -> None:
    w = csv.writer(sys.stdout)
    w.writerow(["target", "fetch_status", "agent", "purpose", "stance", "source", "url", "allowed", "rule"])
    for a in report.agents:
        for v in a.urls:
            w.writerow(
                [
                    csv_safe(report.target),
                    report.fetch.status,
                    csv_safe(a.agent),
                    a.purpose or "",
                    a.stance,
                    a.source,
                    csv_safe(v.url),
                    v.allowed,
                    csv_safe(v.rule or ""),
                ]
            )
