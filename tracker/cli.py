"""The ``consent-tracker`` command line: thin commands over the library, one function each.

Domain errors become CLI errors here and only here (exit code 2, a one-line message on stderr).
Fetched content is printed as plain text, never as Rich markup, so a robots.txt cannot style the terminal.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracker import __version__, settings
from tracker.agents import CORE_PANEL, UPSTREAM_URL, RegistryError, load_registry, merge_upstream
from tracker.crawl import RobotsFetch, fetch_from_body, fetch_robots, make_client, robots_report

app = typer.Typer(
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

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

_DOMAIN = re.compile(r"^(?=.{1,253}$)([^\s/:.]{1,63}\.)+[^\s/:.]{2,63}\.?(:\d{1,5})?$")


class CliError(Exception):
    """An error to report to the user as one line, exiting 2."""


def _fail(message: str) -> None:
    err.print(Text(f"error: {message}", style="red"))
    raise typer.Exit(2)


def _registry(agents_file: str | None) -> Any:
    path = settings.get("agents-file", agents_file) or None
    try:
        return load_registry(path)
    except RegistryError as e:
        _fail(str(e))


AgentsFileOpt = Annotated[
    str | None,
    typer.Option("--agents-file", help="Agent registry JSON [env CONSENT_TRACKER_AGENTS_FILE]."),
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"consent-tracker {__version__}")
        raise typer.Exit(0)


@app.command("robots")
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
    fmt: FormatOpt = "table",
    agents_file: AgentsFileOpt = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds per connect/read [env CONSENT_TRACKER_TIMEOUT]."),
    ] = None,
    user_agent: Annotated[
        str | None, typer.Option("--user-agent", help="User-Agent header [env CONSENT_TRACKER_USER_AGENT].")
    ] = None,
    allow_private: Annotated[
        bool | None,
        typer.Option(
            "--allow-private/--no-allow-private",
            help="Allow private and loopback addresses [env CONSENT_TRACKER_ALLOW_PRIVATE].",
        ),
    ] = None,
    ca_bundle: Annotated[
        str | None, typer.Option("--ca-bundle", help="CA certificates (PEM) to verify TLS with.")
    ] = None,
) -> None:
    """Show each agent's stance in a robots.txt, and whether it may fetch each URL."""
    if fmt not in ("table", "json", "csv"):
        _fail(f"--format must be table, json or csv, not {fmt!r}")
    registry = _registry(agents_file)
    tokens = list(agent or [])
    if all_agents:
        tokens += [a.token for a in registry]
    if not tokens:
        tokens = list(CORE_PANEL)
    tokens = list(dict.fromkeys(tokens))
    agents = []
    for t in tokens:
        a = registry.get(t)
        extra: dict[str, object] = (
            {"company": a.company, "purpose": a.purpose} if a else {"company": None, "purpose": None}
        )
        agents.append((a.token if a else t, extra))
    fetch = _load_target(target, timeout, user_agent, allow_private, ca_bundle)
    report = robots_report(fetch, agents, list(url or ["/"]))
    if fmt == "json":
        out.print_json(json.dumps(report)) if sys.stdout.isatty() else print(json.dumps(report, indent=1))
    elif fmt == "csv":
        _print_csv(report)
    else:
        _print_robots_table(report)


def _load_target(
    target: str,
    timeout: float | None,
    user_agent: str | None,
    allow_private: bool | None,
    ca_bundle: str | None,
) -> RobotsFetch:
    if target == "-":
        return fetch_from_body("<stdin>", sys.stdin.buffer.read())
    path = Path(target)
    if path.is_file():
        try:
            return fetch_from_body(str(path), path.read_bytes())
        except OSError as e:
            _fail(f"cannot read {path}: {e.strerror or e}")
    if path.exists():
        _fail(f"{target} is not a regular file")
    if "://" not in target and not _DOMAIN.match(target):
        if "/" in target or target.endswith(".txt"):
            _fail(f"no such file: {target}")
        _fail(f"{target!r} is neither a file nor a domain or URL")

    async def run() -> RobotsFetch:
        verify: bool | str = ca_bundle if ca_bundle else True
        async with make_client(user_agent=user_agent, timeout=timeout, verify=verify) as client:
            return await fetch_robots(client, target, allow_private=allow_private)

    try:
        return asyncio.run(run())
    except (ValueError, settings.SettingError) as e:
        _fail(str(e))
    raise AssertionError("unreachable")  # pragma: no cover


def _yes(v: bool) -> Text:
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


def _print_robots_table(report: dict) -> None:
    f = report["fetch"]
    head = Text(f"{report['target']}: {f['status']}")
    if f["http_status"] is not None:
        head.append(f" (HTTP {f['http_status']})")
    if f["redirects"]:
        head.append(f", {len(f['redirects'])} redirect(s) to {f['final_url']}")
    head.append(f", {f['bytes']} bytes")
    if f["truncated"]:
        head.append(", truncated at 500 KiB")
    if f["error"]:
        head.append(f", {f['error']}")
    out.print(head)
    p = report["parse"]
    out.print(
        Text(
            f"{p['groups']} groups, {p['rules']} rules, {p['ignored_lines']} ignored lines"
            + (", Cloudflare-managed block" if p["cloudflare_managed"] else "")
        )
    )
    table = Table(show_lines=False)
    table.add_column("agent", no_wrap=True)
    table.add_column("purpose", no_wrap=True)
    table.add_column("stance", no_wrap=True)
    table.add_column("via", no_wrap=True)
    urls = report["agents"][0]["urls"] if report["agents"] else []
    for u in urls:
        table.add_column(Text(u["url"]), overflow="fold", no_wrap=True, max_width=24)
    table.add_column("deciding rules", overflow="fold")
    for a in report["agents"]:
        via = {"specific": "named", "wildcard": "*", "none": "-"}[a["source"]]
        if a["lenient_named"] and not a["named"]:
            via += " (lenient: named)"
        cells: list[Text] = [
            Text(a["agent"]),
            Text(a["purpose"] or "?"),
            Text(a["stance"], style=_STANCE_STYLE.get(a["stance"], "")),
            Text(via),
        ]
        cells += [_yes(v["allowed"]) for v in a["urls"]]
        cells.append(Text("; ".join(a["deciding_rules"])))
        table.add_row(*cells)
    out.print(table)
    for r in p["records"]:
        if r["key"] in ("content-signal", "content-usage", "license", "crawl-delay"):
            out.print(Text(f"line {r['line']}: {r['key']}: {r['value']}"))


def _print_csv(report: dict) -> None:
    w = csv.writer(sys.stdout)
    w.writerow(["target", "fetch_status", "agent", "purpose", "stance", "source", "url", "allowed", "rule"])
    for a in report["agents"]:
        for v in a["urls"]:
            w.writerow(
                [
                    _csv_safe(report["target"]),
                    report["fetch"]["status"],
                    _csv_safe(a["agent"]),
                    a["purpose"] or "",
                    a["stance"],
                    a["source"],
                    _csv_safe(v["url"]),
                    v["allowed"],
                    _csv_safe(v["rule"] or ""),
                ]
            )


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formula injection (see tracker.report.csv_safe)."""
    from tracker.report import csv_safe

    return str(csv_safe(value))


@agents_app.command("list")
def agents_list(
    purpose: Annotated[str | None, typer.Option("--purpose", help="training, search, user or control.")] = None,
    company: Annotated[str | None, typer.Option("--company", help="Only this company's agents.")] = None,
    fmt: FormatOpt = "table",
    agents_file: AgentsFileOpt = None,
) -> None:
    """List the AI user agents the tracker knows, grouped by company."""
    registry = _registry(agents_file)
    rows = registry.select(purpose=purpose, company=company)
    if fmt == "json":
        print(json.dumps([a.to_json() for a in rows], indent=1, ensure_ascii=False))
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(["token", "company", "purpose", "ai", "obeys_robots", "docs"])
        for a in rows:
            w.writerow([_csv_safe(a.token), _csv_safe(a.company), a.purpose, a.ai, a.obeys_robots, a.docs or ""])
        return
    if fmt != "table":
        _fail(f"--format must be table, json or csv, not {fmt!r}")
    table = Table(title=f"{len(rows)} agents")
    for col in ("company", "token", "purpose", "AI", "obeys robots.txt", "docs"):
        table.add_column(col, overflow="fold")
    for company_name, agents in registry.companies().items():
        for a in agents:
            if a in rows:
                table.add_row(
                    Text(company_name), Text(a.token), Text(a.purpose), Text("yes" if a.ai else "no (control)"),
                    Text(a.obeys_robots), Text(a.docs or ""),
                )  # fmt: skip
    out.print(table)


@agents_app.command("sync")
def agents_sync(
    source: Annotated[
        str, typer.Option("--source", help="URL or local path of ai.robots.txt's robots.json.")
    ] = UPSTREAM_URL,
    agents_file: AgentsFileOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds to wait.")] = None,
) -> None:
    """Refresh the registry from the ai.robots.txt project, keeping our own purposes and notes."""
    path = Path(settings.get("agents-file", agents_file) or load_registry_path())
    registry = _registry(str(path))
    raw = _read_source(source, timeout)
    try:
        upstream = json.loads(raw)
        merged, added, updated = merge_upstream(registry, upstream)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        _fail(f"{source} is not JSON: {e}")
    except RegistryError as e:
        _fail(f"{source}: {e}")
    out.print(Text(f"{len(added)} new agents, {len(updated)} updated, {len(merged)} in all"))
    for t in added:
        a = merged.get(t)
        out.print(Text(f"  + {t} ({a.purpose if a else '?'})"))
    if dry_run:
        out.print("dry run: nothing written")
        return
    merged.save(path)
    out.print(Text(f"wrote {path}"))


def load_registry_path() -> str:
    """The registry file the tracker uses by default."""
    from tracker.agents import default_registry_path

    return str(default_registry_path())


def _read_source(source: str, timeout: float | None) -> bytes:
    if "://" not in source:
        try:
            return Path(source).read_bytes()
        except OSError as e:
            _fail(f"cannot read {source}: {e.strerror or e}")
    try:
        with httpx.Client(
            headers={"User-Agent": settings.user_agent()},
            timeout=float(settings.get("timeout", timeout)),
            follow_redirects=True,
        ) as client:
            r = client.get(source)
            r.raise_for_status()
            return r.content
    except httpx.HTTPError as e:
        _fail(
            f"cannot fetch {source} ({type(e).__name__}: {e}). Offline? "
            "Download robots.json elsewhere and pass it with --source PATH."
        )
    raise AssertionError("unreachable")  # pragma: no cover


DbOpt = Annotated[str | None, typer.Option("--db", help="Database path or URL [env CONSENT_TRACKER_DB].")]


def _engine(db: str | None) -> Any:
    from tracker.store import StoreError, open_store

    try:
        return open_store(settings.get("db", db))
    except StoreError as e:
        _fail(str(e))


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} must be a date like 2024-01-31, not {value!r}")
    return None


@app.command("import-archive")
def import_archive_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder laid out as <domain>/<YYYY-MM-DD>.txt.")],
    db: DbOpt = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last date the archive covers (default: its newest file).")
    ] = None,
) -> None:
    """Import a dated robots.txt archive into the history (idempotent; rerun to resume)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tracker.archive import ArchiveError, import_archive

    engine = _engine(db)
    until_d = _date(until, "--until")
    with Progress(
        TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TextColumn("files"), TimeRemainingColumn(),
        TextColumn("{task.description}"), console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, host: str) -> None:
            bar.update(task, completed=done, total=total, description=host)

        try:
            report = import_archive(engine, directory, until=until_d, progress=progress)
        except ArchiveError as e:
            _fail(str(e))
    out.print(
        Text(
            f"imported {report.files} files of {report.domains} domains "
            f"({report.first_date} → {report.last_date}): {report.new_versions} new versions, "
            f"{report.duplicates} already recorded; {report.html_bodies} HTML pages and {report.empty_bodies} empty "
            f"bodies recorded as such (not as rules); run #{report.run_id}"
        )
    )
    for p in report.problems[:50]:
        err.print(Text(f"warning: {p}", style="yellow"))
    if len(report.problems) > 50:
        err.print(Text(f"warning: … and {len(report.problems) - 50} more problems", style="yellow"))


@app.command("trends")
def trends_cmd(
    agent: Annotated[
        list[str] | None, typer.Option("--agent", "-a", help="Agent token (repeatable). Default: GPTBot.")
    ] = None,
    freq: Annotated[str, typer.Option("--freq", help="month, week or day.")] = "month",
    from_: Annotated[str | None, typer.Option("--from", help="First date (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last date (YYYY-MM-DD).")] = None,
    by: Annotated[str, typer.Option("--by", help="agent, company or purpose.")] = "agent",
    category: Annotated[str | None, typer.Option("--category", help="Only sites of this category.")] = None,
    weight: Annotated[str, typer.Option("--weight", help="none, tokens or rank (1/rank).")] = "none",
    weights: Annotated[
        Path | None, typer.Option("--weights", help="CSV with url and *_tokens columns (for --weight tokens).")
    ] = None,
    weight_column: Annotated[
        str | None, typer.Option("--weight-column", help="Column of --weights to use (default: first *_tokens).")
    ] = None,
    max_age: Annotated[
        int, typer.Option("--max-age", help="Days after its last observation a site stops counting.")
    ] = 90,
    signal: Annotated[
        list[str] | None,
        typer.Option(
            "--signal",
            "-s",
            help="Adoption of a signal instead (repeatable): "
            + ", ".join(
                [
                    "content_signal",
                    "content_usage",
                    "rsl_license",
                    "noai",
                    "noimageai",
                    "tdm_meta",
                    "tdmrep",
                    "ai_txt",
                    "llms_txt",
                    "tos_ai_training",
                    "tos_scraping",
                ]
            ),
        ),
    ] = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Restriction over time: per period, how many sites block each agent (named or via '*'), or adopt a signal."""
    from tracker.trends import DEFINITIONS, TrendError, load_weights, restriction_series, signal_series

    if freq not in ("month", "week", "day"):
        _fail(f"--freq must be month, week or day, not {freq!r}")
    if by not in ("agent", "company", "purpose"):
        _fail(f"--by must be agent, company or purpose, not {by!r}")
    if weight not in ("none", "tokens", "rank"):
        _fail(f"--weight must be none, tokens or rank, not {weight!r}")
    if fmt not in ("table", "json", "csv"):
        _fail(f"--format must be table, json or csv, not {fmt!r}")
    start, stop = _date(from_, "--from"), _date(to, "--to")
    registry = _registry(agents_file)
    engine = _engine(db)
    if signal:
        try:
            srows = signal_series(engine, signal, freq=freq, start=start, stop=stop, category=category,  # type: ignore[arg-type]
                                  max_age_days=max_age)  # fmt: skip
        except TrendError as e:
            _fail(str(e))
        _print_signal_rows(srows, fmt)
        return
    try:
        table_weights = None
        label = weight
        if weight == "tokens":
            if weights is None:
                _fail("--weight tokens needs --weights FILE (a CSV with url and *_tokens columns)")
            assert weights is not None
            table_weights = load_weights(weights, weight_column)
            label = f"tokens:{weight_column or 'first *_tokens column'} of {weights.name}"
        tokens = list(agent or ([] if by != "agent" else ["GPTBot"]))
        rows = restriction_series(
            engine, registry, tokens, freq=freq, start=start, stop=stop, by=by, category=category,  # type: ignore[arg-type]
            weight=weight, weights=table_weights, weight_label=label, max_age_days=max_age,  # type: ignore[arg-type]
        )  # fmt: skip
    except TrendError as e:
        _fail(str(e))
    if _print_rows_as_data(rows, fmt, {"definitions": DEFINITIONS}):
        return
    table = Table(caption=DEFINITIONS, caption_justify="left")
    for col in ("period", "agent", "sites", "blocked", "share", "named", "named share", "full", "near-full",
                "partial", "unreachable"):  # fmt: skip
        table.add_column(col, justify="right" if col not in ("period", "agent") else "left", no_wrap=True)
    for r in rows:
        table.add_row(
            r.period, Text(r.agent), str(r.sites), str(r.blocked), f"{r.blocked_share:.1%}", str(r.blocked_named),
            f"{r.blocked_named_share:.1%}", str(r.full_block), str(r.near_full_block), str(r.partial_block),
            str(r.unreachable),
        )  # fmt: skip
    out.print(table)
    if weight != "none":
        out.print(Text(f"shares weighted by {label}"))


export_app = typer.Typer(help="Export data for analysis.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("latest")
def export_latest(
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")] = None,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """One record per site: its current robots.txt status and every registry agent's verdict and stance."""
    from tracker.report import write_latest

    if fmt not in ("jsonl", "csv"):
        _fail(f"--format must be jsonl or csv, not {fmt!r}")
    registry = _registry(agents_file)
    engine = _engine(db)
    if output is None:
        write_latest(engine, registry, sys.stdout, fmt)
        return
    tmp = output.with_suffix(output.suffix + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            n = write_latest(engine, registry, fh, fmt)
        tmp.replace(output)
    except OSError as e:
        _fail(f"cannot write {output}: {e.strerror or e}")
    err.print(Text(f"wrote {n} sites to {output}"))


@app.command("site")
def site_cmd(
    domain: Annotated[str, typer.Argument(help="The site (as crawled or imported, e.g. nytimes.com).")],
    agent: Annotated[
        list[str] | None, typer.Option("--agent", "-a", help="Agents to show (repeatable). Default: core panel.")
    ] = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Everything known about one site now, and what changed when."""
    from tracker.report import site_history

    registry = _registry(agents_file)
    engine = _engine(db)
    tokens = list(agent or [t for t in CORE_PANEL if t != "*"][:8])
    info = site_history(engine, registry, domain.strip().lower(), tokens)
    if info is None:
        _fail(f"{domain} is not in the database (crawl or import it first)")
    assert info is not None
    if fmt == "json":
        print(json.dumps(info, indent=1, default=str))
        return
    cur = info["current"]
    out.print(Text(f"{info['site']['domain']} (rank {info['site']['rank']}, category {info['site']['category']})"))
    if cur:
        out.print(Text(f"now: robots.txt {cur['robots_status']} (HTTP {cur['http_status']}), seen {cur['fetched_at']}"))
        for k, v in cur["signals"].items():
            out.print(Text(f"  {k}: {json.dumps(v) if not isinstance(v, str) else v}"))
    table = Table(title="history")
    for col in ("resource", "from", "until", "status", "what it said"):
        table.add_column(col, overflow="fold")
    for h in info["history"]:
        said = ", ".join(f"{a} {s}" for a, s in h.get("agents", {}).items()) if h["kind"] == "robots" else (
            json.dumps(h.get("signals")) if h.get("signals") else "")  # fmt: skip
        table.add_row(
            Text(h["kind"]), Text(h["from"][:10]), Text((h["until"] or "now")[:10]),
            Text(f"{h['status']} {h['http_status'] or ''}".strip()), Text(said),
        )  # fmt: skip
    out.print(table)


@app.command("crawl")
def crawl_cmd(
    sites: Annotated[
        Path | None,
        typer.Option("--sites", help="CSV with a 'domain' column (optional rank, category), or one domain a line."),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="Only the first N sites of the list, by rank.")] = None,
    db: DbOpt = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Sites crawled at once.")] = 100,
    delay: Annotated[float, typer.Option("--delay", help="Seconds between two requests to the same host.")] = 0.1,
    retries: Annotated[
        int, typer.Option("--retries", help="Extra tries for transient failures (5xx, 429, network).")
    ] = 1,
    resources: Annotated[
        str, typer.Option("--resources", help="Comma-separated: robots,homepage,tdmrep,ai_txt,llms_txt,terms,rsl.")
    ] = "robots,homepage,tdmrep,ai_txt,llms_txt,terms,rsl",
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last unfinished crawl of this list.")] = False,
    connect_to: Annotated[
        list[str] | None, typer.Option("--connect-to", help="HOST:PORT:ADDR:PORT, as curl (repeatable).")
    ] = None,
    ca_bundle: Annotated[str | None, typer.Option("--ca-bundle", help="CA certificates (PEM) for TLS.")] = None,
    allow_private: Annotated[
        bool | None,
        typer.Option("--allow-private/--no-allow-private", help="Allow private and loopback addresses."),
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per connect and per read.")] = None,
    total_timeout: Annotated[float, typer.Option("--total-timeout", help="Seconds for one fetch in all.")] = 30.0,
    user_agent: Annotated[str | None, typer.Option("--user-agent", help="User-Agent header.")] = None,
) -> None:
    """Crawl a site list: robots.txt and the other signals of every site, into the history."""
    from tracker.crawl import ConnectTo
    from tracker.crawler import RESOURCES, CrawlConfig, CrawlProgress, run_crawl
    from tracker.sites import parse_site_list

    if sites is None:
        _fail("--sites FILE is required (a CSV with a 'domain' column, or one domain per line)")
    assert sites is not None
    try:
        parsed = parse_site_list(sites.read_text(encoding="utf-8", errors="replace"))
    except OSError as e:
        _fail(f"cannot read {sites}: {e.strerror or e}")
    for problem in parsed.problems[:20]:
        err.print(Text(f"warning: {sites.name} {problem}", style="yellow"))
    if len(parsed.problems) > 20:
        err.print(Text(f"warning: … and {len(parsed.problems) - 20} more lines skipped", style="yellow"))
    entries = parsed.top(top) if top else parsed.sites
    if not entries:
        _fail(f"no valid domains in {sites}")
    kinds = tuple(k.strip() for k in resources.split(",") if k.strip())
    unknown = [k for k in kinds if k not in RESOURCES]
    if unknown or "robots" not in kinds or ("terms" in kinds and "homepage" not in kinds):
        _fail(f"--resources must include robots (and homepage for terms), and only: {', '.join(RESOURCES)}")
    if concurrency < 1 or delay < 0 or retries < 0:
        _fail("--concurrency must be ≥ 1, --delay and --retries ≥ 0")
    try:
        mappings = [ConnectTo.parse(c) for c in connect_to or []]
        config = CrawlConfig(
            concurrency=concurrency, per_host_delay=delay, retries=retries, resources=kinds,
            timeout=float(settings.get("timeout", timeout)), total_timeout=total_timeout, user_agent=user_agent,
            ca_bundle=ca_bundle, allow_private=bool(settings.get("allow-private", allow_private)),
            connect_to=mappings,
        )  # fmt: skip
    except ValueError as e:
        _fail(str(e))
    engine = _engine(db)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("crawling"), BarColumn(), MofNCompleteColumn(), TextColumn("sites"),
        TextColumn("{task.fields[rate]:.0f}/s"), TimeRemainingColumn(), TextColumn("{task.fields[errors]}"),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=len(entries), rate=0.0, errors="")

        def progress(p: CrawlProgress) -> None:
            errs = ", ".join(f"{k} {v}" for k, v in p.errors.most_common(3))
            bar.update(task, completed=p.done + p.skipped, rate=p.rate, errors=errs)

        try:
            summary = asyncio.run(
                run_crawl(engine, entries, config, source=str(sites.resolve()), resume=resume, progress=progress)
            )
        except KeyboardInterrupt:
            err.print(Text("interrupted: what was fetched is saved; run again with --resume to finish", style="yellow"))
            raise typer.Exit(130) from None
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.robots_status.items(), key=lambda kv: -kv[1]))
    out.print(
        Text(
            f"crawl #{summary.run_id} {summary.status}: {summary.done} sites in {summary.seconds:.1f} s "
            f"({summary.done / summary.seconds if summary.seconds else 0:.0f}/s)"
            + (f", {summary.skipped} already done before resuming" if summary.skipped else "")
            + f"; {summary.new_versions} new versions, {summary.unchanged} unchanged; robots.txt: {statuses}"
        ),
        soft_wrap=True,
    )
    if summary.errors:
        out.print(Text("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.errors.items()))), soft_wrap=True)


def _print_rows_as_data(rows: list[Any], fmt: str, extra: dict[str, Any] | None = None) -> bool:
    """Print series rows as JSON or formula-safe CSV (True), or say there are none (True); False for a table."""
    if fmt == "json":
        print(json.dumps({**(extra or {}), "rows": [r.as_dict() for r in rows]}, indent=1))
        return True
    if fmt == "csv":
        w = csv.writer(sys.stdout)
        if rows:
            w.writerow(list(rows[0].as_dict()))
        for r in rows:
            w.writerow([_csv_safe(v) if isinstance(v, str) else v for v in r.as_dict().values()])
        return True
    if not rows:
        out.print("no observations in that range")
        return True
    return False


def _print_signal_rows(rows: list[Any], fmt: str) -> None:
    if _print_rows_as_data(rows, fmt):
        return
    definitions = {r.signal: r.definition for r in rows}
    table = Table(caption="; ".join(f"{k}: {v}" for k, v in definitions.items()) + ". Share is over the sites whose "
                  "resource was observed by then.", caption_justify="left")  # fmt: skip
    for col in ("period", "signal", "sites", "adopting", "share"):
        table.add_column(col, justify="left" if col in ("period", "signal") else "right", no_wrap=True)
    for r in rows:
        table.add_row(r.period, r.signal, str(r.sites), str(r.adopting), f"{r.share:.1%}")
    out.print(table)


@app.command("settings")
def settings_cmd(fmt: FormatOpt = "table") -> None:
    """List every setting: its environment variable, effective value and help."""
    try:
        values = settings.resolve_all()
    except settings.SettingError as e:
        _fail(str(e))
    if fmt == "json":
        print(json.dumps({k: v for k, v in values.items()}, indent=1, default=str))
        return
    table = Table()
    for col in ("setting", "environment variable", "value", "help"):
        table.add_column(col, overflow="fold")
    for name, s in settings.SETTINGS.items():
        table.add_row(Text(name), Text(s.env), Text(str(values[name])), Text(s.help))
    out.print(table)


def main() -> None:
    """Entry point of the ``consent-tracker`` script."""
    try:
        app()
    except settings.SettingError as e:
        err.print(Text(f"error: {e}", style="red"))
        sys.exit(2)
