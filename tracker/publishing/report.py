"""A trend report a policy analyst can cite: key figures, charts, methodology and the data behind each chart.

``write_report(engine, registry, out_dir, fmt)`` writes ``report.md`` or ``report.html`` (with its charts as SVG or
PNG beside it), ``report.pdf`` (the HTML printed by headless Chromium), or only the CSVs — always with one CSV per
chart. Fetched content never enters the report; numbers come from tracker.analysis.headlines, tracker.analysis.trends
and
tracker.analysis.forecast, so the report and the dashboard say the same. Deterministic for the same database: no
clock in
the text but the data's own dates, a seeded forecast.
"""

from __future__ import annotations

import csv
import html
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker import __version__
from tracker.analysis.latest import csv_safe
from tracker.errors import ReportError
from tracker.rules.agents import AgentRegistry
from tracker.rules.vocabulary import GroupBy
from tracker.store import catalog

__all__ = ["SIMULATED_NOTE", "ReportError", "ReportFormat", "write_report"]

#: Said first in every report (and on every dashboard page) built from the demo's database.
SIMULATED_NOTE = (
    "SIMULATED DATA: this database was filled by `consent-tracker up --demo` from a made-up web on "
    "this machine; no figure here describes real sites."
)

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
MAIN_AGENTS = ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot", "Bytespider", "PerplexityBot")


class ReportFormat(StrEnum):
    """What ``report`` writes."""

    md = "md"
    html = "html"
    pdf = "pdf"
    csv = "csv"


@dataclass(frozen=True, slots=True)
class _Figure:
    name: str
    title: str
    chart: Any  # None: a table, not a chart
    rows: list[dict[str, Any]]
    notes: tuple[str, ...] = ()  # said under the chart (the events its dashed lines mark)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if rows:
            w.writerow(list(rows[0]))
            for r in rows:
                w.writerow([csv_safe(v) for v in r.values()])


def _figures(
    engine: Engine, registry: AgentRegistry, since: date | None, category: str | None
) -> tuple[list[_Figure], dict[str, Any]]:
    from tracker.analysis.forecast import forecast, load_params
    from tracker.analysis.forecast.model import RUNOUT_SCENARIOS
    from tracker.analysis.headlines import headline, load_events
    from tracker.analysis.trends import restriction_series
    from tracker.publishing.charts import fan_chart, gap_chart, restriction_chart, trend_chart

    h = headline(engine, registry, category=category, since=since)
    if h.empty:
        raise ReportError("no observations in the database for this range: crawl, backfill or import-archive first")
    events = load_events()
    agents = [a for a in MAIN_AGENTS if registry.get(a)]
    by_agent = restriction_series(engine, registry, agents, category=category, since=since)
    by_purpose = restriction_series(engine, registry, [], by=GroupBy.purpose, category=category, since=since)
    # The default parameters, as the `forecast` command and the dashboard use them: one answer everywhere.
    result = forecast(engine, registry, load_params())
    first, last = h.series[0].period_end, h.series[-1].period_end
    marked = tuple(
        f"Dashed line {e.day.isoformat()}: {e.label} ({e.source})" for e in events if first <= e.day.isoformat() <= last
    )
    figures = [
        _Figure(
            "training",
            "Sites restricting training agents",
            trend_chart(h.series, title="Sites restricting training agents", events=events),
            [r.as_dict() for r in h.series],
            marked,
        ),
        _Figure(
            "agents",
            "Restriction by agent",
            trend_chart(by_agent, title="Restriction by agent", events=events),
            [r.as_dict() for r in by_agent],
            marked,
        ),
        _Figure(
            "purposes",
            "Restriction by purpose",
            trend_chart(by_purpose, title="Restriction by purpose"),
            [r.as_dict() for r in by_purpose],
        ),
    ]
    if result["restricted_share"]:
        rs = result["restricted_share"]
        rows = [
            {"date": o["period_end"], "kind": "measured", "p10": None, "median": o["share"], "p90": None}
            for o in rs["observed"]
        ] + [
            {"date": f"{p['month']}-15", "kind": "forecast", "p10": p["p10"], "median": p["median"], "p90": p["p90"]}
            for p in rs["path"]
        ]
        figures.append(
            _Figure("restriction", "The restricted share r(t), measured and forecast", restriction_chart(result), rows)
        )
    figures += [
        _Figure(
            "runout",
            "When the real data runs out",
            fan_chart(result),
            [
                {"scenario": label, **{k: result[key][k] for k in _RUNOUT_COLUMNS}}
                for key, label in RUNOUT_SCENARIOS.items()
                if result.get(key)
            ],
        ),
        _Figure(
            "gap",
            "Synthetic share of the training mix",
            gap_chart(result),
            [
                {
                    "year": g["year"],
                    **{
                        f"{part}_{k}": v
                        for part in ("demand_tokens", "usable_tokens", "synthetic_tokens", "synthetic_share")
                        for k, v in g[part].items()
                    },
                }
                for g in result["gap"]
            ],
        ),
    ]
    from tracker.analysis.claims import compare

    claims = compare(engine, registry)
    figures.append(_Figure("claims", "Published figures, side by side", None, [c.as_row() for c in claims]))
    return figures, {"headline": h, "forecast": result, "by_agent": by_agent, "claims": claims}


_RUNOUT_COLUMNS = ("median", "p10", "p90", "median_month", "p10_month", "p90_month")
#: The forecast's definitions, in the order the methodology lists them.
_FORECAST_TERMS = {
    "demand": "Demand",
    "projection": "Projection",
    "usable_stock": "Usable stock",
    "run_out": "Run-out",
    "gap": "Gap",
    "monte_carlo": "Monte Carlo",
}


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _text(facts: dict[str, Any], category: str | None) -> dict[str, Any]:
    from tracker.analysis.forecast.model import RUNOUT_SCENARIOS, runout_text
    from tracker.analysis.forecast.restriction import backtest_summary

    h = facts["headline"]
    now, before, every = h.by_sites, h.by_sites_year_ago, h.all_agents
    f = facts["forecast"]
    horizon = f["params"]["end"]
    rows = facts["by_agent"]
    last_agents = [r for r in rows if r.period == rows[-1].period] if rows else []
    key = [
        f"{_pct(now.blocked_share)} of the {now.sites:,} sites observed at the end of {now.period} restrict AI "
        f"training in robots.txt — at least one of the {len(h.definition.agents)} training agents and training "
        f"controls is kept from '/' ({_pct(now.blocked_named_share)} by a group naming the agent, the rest through "
        "'User-agent: *')" + (f", against {_pct(before.blocked_share)} in {before.period}." if before else "."),
    ]
    if every is not None:
        key.append(f"{_pct(every.blocked_share)} restrict every one of them (rule: all).")
    key += [
        f"{r.agent}: {_pct(r.blocked_share)} of sites restrict it ({r.blocked_named:,} by name)." for r in last_agents
    ]
    if h.by_tokens is not None:
        t = h.by_tokens
        key.append(
            f"Weighted by their tokens ({t.weighting}; {_pct(t.weight_measured_share)} of the weight measured), "
            f"{_pct(t.blocked_share)} of the text is restricted."
        )
    rs = f["restricted_share"]
    for k, label in RUNOUT_SCENARIOS.items():
        if f.get(k):
            level = ""
            if k == "exhaustion_restriction_held":
                level = f" ({_pct(f[k]['restricted_share'])}, weighted by {rs['definition']['weighting']})"
            key.append(f"Run-out, {label}{level}: {runout_text(f[k], horizon=horizon)}.")
    if f.get("preferences") and not f["preferences"]["available"]:
        key.append(f"No use-preference scenario: {f['preferences']['reason']}.")
    gap = {g["year"]: g for g in f["gap"]}
    for year in sorted(gap)[:10]:
        g = gap[year]
        if g["synthetic_share"]["p90"] > 0:
            ss = g["synthetic_share"]
            key.append(
                f"Synthetic share of the largest dataset in {year}: {ss['median']:.0%} (80%: "
                f"{ss['p10']:.0%}–{ss['p90']:.0%})."
            )
            break
    method = [
        f"Sample: {now.sample}{', category ' + category if category else ''}; {now.sites:,} sites at the end; "
        f"monthly state as of each month's end, {h.series[0].period} → {now.period}.",
        h.definition.text,
        "robots.txt is read exactly as Google's reference parser reads it (RFC 9309): consent-tracker passes all 145 "
        "assertions of google/robotstxt's robots_test.cc and the 400 cases of robotstxt-spec-test.",
        "History comes from live crawls, dated archives and Wayback Machine captures (one per month; a month without a "
        "capture inherits the previous one); unreachable robots.txt files are counted apart, never as allowed or "
        "blocked.",
        *[f"{label}: {f['definitions'][k]}." for k, label in _FORECAST_TERMS.items()],
        "The forecast's restricted share covers every site of the database (not only the sample or category above).",
    ]
    if f["restricted_share"]:
        rs = f["restricted_share"]
        if rs["definition"]["text"] != h.definition.text:  # e.g. token-weighted, where the headline counts sites
            method.append(f"The forecast's restricted share (not the headline's): {rs['definition']['text']}")
        method.append(f"Restricted share forecast: {rs['description']}")
        method += (
            [f"Backtest on this series, {line}." for line in backtest_summary(rs["backtest"])]
            if rs.get("backtest")
            else []
        )
    elif not f["sample"]["measured"]:
        method.append(f"Forecast: {f['sample']['note']}.")
    return {"key": key, "method": method, "period": now.period}


_CLAIM_COLUMNS = ("claim", "source", "as of", "theirs", "ours", "on", "sites", "Δ")


def _claims_markdown(claims: list[Any]) -> list[str]:
    """The claims as a Markdown table (cells escaped), then what each of ours rests on or lacks."""

    def cell(v: str) -> str:
        return v.replace("|", "\\|").replace("\n", " ")

    lines = [
        "Each figure analysts quote, beside ours under the same definition on our own sample (Δ: ours minus "
        "theirs); where ours cannot be computed, what is missing.",
        "",
        "| " + " | ".join(_CLAIM_COLUMNS) + " |",
        "|" + " --- |" * len(_CLAIM_COLUMNS),
    ]
    for c in claims:
        cells = c.cells()
        lines.append("| " + " | ".join(cell(cells[k]) for k in _CLAIM_COLUMNS) + " |")
    lines += ["", *[f"- {cell(c.claim.id)}: {cell(c.cells()['ours rests on'])}" for c in claims]]
    return lines


def _claims_html(claims: list[Any]) -> str:
    """The claims as an HTML table (every cell escaped), then what each of ours rests on or lacks."""
    head = "".join(f"<th>{html.escape(k)}</th>" for k in _CLAIM_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c.cells()[k])}</td>" for k in _CLAIM_COLUMNS) + "</tr>" for c in claims
    )
    notes = "".join(f"<li>{html.escape(c.claim.id)}: {html.escape(c.cells()['ours rests on'])}</li>" for c in claims)
    return (
        "<p>Each figure analysts quote, beside ours under the same definition on our own sample (Δ: ours minus "
        f"theirs); where ours cannot be computed, what is missing.</p><table>{head and '<tr>' + head + '</tr>'}"
        f"{rows}</table><ul class=notes>{notes}</ul>"
    )


def _figures_json(engine: Engine, facts: dict[str, Any], category: str | None, since: date | None) -> dict[str, Any]:
    """Every figure the report prints, with what it rests on: written as figures.json beside the report."""
    from datetime import UTC, datetime

    h = facts["headline"]
    now = h.by_sites
    f = facts["forecast"]

    def row(r: Any) -> dict[str, Any] | None:
        return (
            None
            if r is None
            else {
                "period": r.period,
                "period_end": r.period_end,
                "share": r.blocked_share,
                "named_share": r.blocked_named_share,
                "sites": r.sites,
                "blocked": r.blocked,
                "unreachable": r.unreachable,
                "weighting": r.weighting,
                "weight_measured_share": r.weight_measured_share,
            }
        )

    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tracker_version": __version__,
        "simulated": catalog.is_simulated(engine),
        "data_through": now.period_end,
        "sample": {
            "list": now.sample,
            "category": category,
            "since": since.isoformat() if since else None,
            "sites": now.sites,
            "from": h.series[0].period_end,
            "to": now.period_end,
        },
        "weighting": {
            "headline": now.weighting,
            "tokens": h.by_tokens.weighting if h.by_tokens else None,
            "tokens_measured_share": h.by_tokens.weight_measured_share if h.by_tokens else None,
        },
        "definitions": {
            "restricts_training": h.definition.as_dict(),
            "restricts_training_all": h.all_agents_definition.as_dict() if h.all_agents_definition else None,
            "restricts_training_tokens": h.tokens_definition.as_dict() if h.tokens_definition else None,
            "forecast": f["definitions"],
        },
        "parameters": f["params"],
        "figures": {
            "restricts_training": row(now),
            "restricts_training_year_ago": row(h.by_sites_year_ago),
            "restricts_training_all": row(h.all_agents),
            "restricts_training_tokens": row(h.by_tokens),
            "restricts_training_tokens_year_ago": row(h.by_tokens_year_ago),
            "by_agent": [
                row(r) | {"agent": r.agent}  # type: ignore[operator]
                for r in facts["by_agent"]
                if r.period == facts["by_agent"][-1].period
            ],
            "forecast": f,
            "claims": [c.as_dict() for c in facts["claims"]],
        },
    }


def write_report(
    engine: Engine,
    registry: AgentRegistry,
    out_dir: str | Path,
    fmt: ReportFormat | str = ReportFormat.html,
    *,
    since: date | None = None,
    category: str | None = None,
    chromium: str | None = None,
) -> list[Path]:
    """Write the report; return the files written."""
    from tracker.rules.vocabulary import CATEGORIES

    if category is not None and category not in CATEGORIES:
        raise ReportError(f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
    fmt = ReportFormat(fmt)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"cannot create {out}: {e.strerror or e}") from None
    figures, facts = _figures(engine, registry, since, category)
    text = _text(facts, category)
    numbers = _figures_json(engine, facts, category, since)
    (out / "figures.json").write_text(json.dumps(numbers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if catalog.is_simulated(engine):
        text["key"] = [SIMULATED_NOTE, *text["key"]]
        (out / "SIMULATED.txt").write_text(SIMULATED_NOTE + "\n", encoding="utf-8")
    written: list[Path] = [out / "figures.json"]
    for fig in figures:
        path = out / f"{fig.name}.csv"
        _write_csv(path, fig.rows)
        written.append(path)
    if fmt is ReportFormat.csv:
        return written
    image = "png" if fmt is ReportFormat.md else "svg"
    for fig in figures:
        if fig.chart is None:
            continue
        path = out / f"{fig.name}.{image}"
        # Text is measured when the chart is drawn (vl-convert) and shown by whatever reads the file: name the font
        # both use (Debian's fonts-dejavu-core, which Chromium picks for sans-serif), or wide labels are clipped.
        chart = fig.chart.configure(font="DejaVu Sans")
        chart.save(str(path), format=image, **({"scale_factor": 1.5} if image == "png" else {}))
        written.append(path)
    title = ("[SIMULATED DATA] " if catalog.is_simulated(engine) else "") + (
        f"AI crawling consent: restriction trends to {text['period']}"
    )
    if fmt is ReportFormat.md:
        md = [f"# {title}", "", f"_consent-tracker {__version__}_", "", "## Key figures", ""]
        md += [f"- {line}" for line in text["key"]]
        for fig in figures:
            if fig.chart is None:
                md += [
                    "",
                    f"## {fig.title}",
                    "",
                    *_claims_markdown(facts["claims"]),
                    "",
                    f"Data: [{fig.name}.csv]({fig.name}.csv)",
                ]
                continue
            md += [
                "",
                f"## {fig.title}",
                "",
                f"![{fig.title}]({fig.name}.png)",
                "",
                *[f"- {n}" for n in fig.notes],
                *([""] if fig.notes else []),
                f"Data: [{fig.name}.csv]({fig.name}.csv)",
            ]
        md += ["", "## Methodology", ""] + [f"- {line}" for line in text["method"]]
        path = out / "report.md"
        path.write_text("\n".join(md) + "\n", encoding="utf-8")
        return [path, *written]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in text["key"])
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=meta>consent-tracker {__version__}</p>",
        "<h2>Key figures</h2>",
        f"<ul>{items}</ul>",
    ]
    for fig in figures:
        if fig.chart is None:
            body += [
                f"<h2>{html.escape(fig.title)}</h2>",
                _claims_html(facts["claims"]),
                f'<p class=data>Data: <a href="{fig.name}.csv">{fig.name}.csv</a></p>',
            ]
            continue
        svg = (out / f"{fig.name}.svg").read_text(encoding="utf-8")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in fig.notes)
        body += [
            f"<h2>{html.escape(fig.title)}</h2>",
            f"<figure>{svg}</figure>",
            *([f"<ul class=notes>{notes}</ul>"] if notes else []),
            f'<p class=data>Data: <a href="{fig.name}.csv">{fig.name}.csv</a></p>',
        ]
    body += ["<h2>Methodology</h2>", "<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in text["method"]) + "</ul>"]
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>" + html.escape(title) + "</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;max-width:760px;margin:2em auto;color:#222}h1{font-size:1.6em}"
        "figure{margin:0}svg{max-width:100%;height:auto}.meta,.data,.notes{color:#666;font-size:.9em}"
        "table{border-collapse:collapse;font-size:.85em}td,th{border-bottom:1px solid #ddd;padding:3px 6px;"
        "text-align:left;vertical-align:top}"
        "</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    written.insert(0, path)
    if fmt is ReportFormat.pdf:
        pdf = out / "report.pdf"
        _print_pdf(path, pdf, chromium)
        written.insert(0, pdf)
    return written


def _print_pdf(html_path: Path, pdf: Path, chromium: str | None) -> None:
    exe = chromium or next((p for p in CHROMIUM_PATHS if Path(p).exists()), None) or shutil.which("chromium")
    if not exe:
        raise ReportError(
            "a PDF is printed by headless Chromium, and none is installed (apt-get install chromium); "
            "--format html gives the same report"
        )
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html_path.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not pdf.exists():
        raise ReportError(f"Chromium could not print the PDF: {proc.stderr.strip()[-300:]}")
