"""A trend report a policy analyst can cite: key figures, charts, methodology and the data behind each chart.

``write_report(engine, registry, out_dir, fmt)`` writes ``report.md`` or ``report.html`` (with its charts as SVG or
PNG beside it), ``report.pdf`` (the HTML printed by headless Chromium), or only the CSVs — always with one CSV per
chart. Fetched content never enters the report; numbers come from tracker.insights, tracker.trends and
tracker.forecast, so the report and the dashboard say the same. Deterministic for the same database: no clock in
the text but the data's own dates, a seeded forecast.
"""

from __future__ import annotations

import csv
import html
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
from tracker.agents import AgentRegistry
from tracker.errors import TrackerError
from tracker.report import csv_safe
from tracker.store import catalog
from tracker.vocabulary import GroupBy

__all__ = ["SIMULATED_NOTE", "ReportError", "ReportFormat", "write_report"]

#: Said first in every report (and on every dashboard page) built from the demo's database.
SIMULATED_NOTE = ("SIMULATED DATA: this database was filled by `consent-tracker up --demo` from a made-up web on "
                  "this machine; no figure here describes real sites.")

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
MAIN_AGENTS = ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot", "Bytespider", "PerplexityBot")


class ReportError(TrackerError):
    """The report cannot be written (no data, no Chromium for a PDF, an unwritable folder)."""


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
    chart: Any
    rows: list[dict[str, Any]]


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if rows:
            w.writerow(list(rows[0]))
            for r in rows:
                w.writerow([csv_safe(v) for v in r.values()])


def _figures(engine: Engine, registry: AgentRegistry, since: date | None, category: str | None) -> tuple[
    list[_Figure], dict[str, Any]]:  # fmt: skip
    from tracker.charts import fan_chart, gap_chart, trend_chart
    from tracker.forecast import forecast, load_params
    from tracker.insights import headline, load_events
    from tracker.trends import restriction_series

    h = headline(engine, registry, category=category, since=since)
    if h.empty:
        raise ReportError("no observations in the database for this range: crawl, backfill or import-archive first")
    events = load_events()
    agents = [a for a in MAIN_AGENTS if registry.get(a)]
    by_agent = restriction_series(engine, registry, agents, category=category, since=since)
    by_purpose = restriction_series(engine, registry, [], by=GroupBy.purpose, category=category, since=since)
    result = forecast(engine, registry, load_params(overrides=["draws=40000"]))
    figures = [
        _Figure("training", "Sites restricting training agents", trend_chart(h.series, title="Sites restricting "
                "training agents", events=events), [r.as_dict() for r in h.series]),
        _Figure("agents", "Restriction by agent", trend_chart(by_agent, title="Restriction by agent", events=events),
                [r.as_dict() for r in by_agent]),
        _Figure("purposes", "Restriction by purpose", trend_chart(by_purpose, title="Restriction by purpose"),
                [r.as_dict() for r in by_purpose]),
        _Figure("runout", "When the real data runs out", fan_chart(result),
                [{"scenario": k, **(v or {})} for k, v in result.items() if k.startswith("exhaustion") and v]),
        _Figure("gap", "Synthetic share of the training mix", gap_chart(result),
                [{"year": g["year"], **{f"tokens_{k}": v for k, v in g["synthetic_tokens"].items()},
                  **{f"share_{k}": v for k, v in g["synthetic_share"].items()}} for g in result["gap"]]),
    ]  # fmt: skip
    return figures, {"headline": h, "forecast": result, "by_agent": by_agent}


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _text(facts: dict[str, Any], category: str | None) -> dict[str, Any]:
    h = facts["headline"]
    now, before = h.by_sites, h.by_sites_year_ago
    f = facts["forecast"]
    s = f["sample"]
    rows = facts["by_agent"]
    last_agents = [r for r in rows if r.period == rows[-1].period] if rows else []
    key = [
        f"{_pct(now.blocked_share)} of the {now.sites:,} sites observed at the end of {now.period} restrict AI "
        f"training agents in robots.txt ({_pct(now.blocked_named_share)} naming an agent, the rest through "
        "'User-agent: *')" + (f", against {_pct(before.blocked_share)} in {before.period}." if before else "."),
        *[f"{r.agent}: {_pct(r.blocked_share)} of sites restrict it ({r.blocked_named:,} by name)."
          for r in last_agents],
    ]  # fmt: skip
    if h.by_tokens is not None:
        t = h.by_tokens
        key.append(f"Weighted by their tokens ({t.weighting}; {_pct(t.weight_measured_share)} of the weight measured), "
                   f"{_pct(t.blocked_share)} of the text is restricted.")  # fmt: skip
    e0, e1 = f["exhaustion"], f["exhaustion_consent_adjusted"]
    key.append(f"Epoch AI's model gives a run-out of public human text at a median of {e0['median']:.1f} "
               f"(80%: {e0['p10']:.1f}–{e0['p90']:.1f})"
               + (f"; minus the restriction we measure, {e1['median']:.1f} ({e1['p10']:.1f}–{e1['p90']:.1f})."
                  if e1 and e1.get("median") else "."))  # fmt: skip
    method = [
        f"Sample: {now.sample}{', category ' + category if category else ''}; {now.sites:,} sites at the end; "
        f"monthly state as of each month's end, {h.series[0].period} → {now.period}.",
        f"Weighting: {now.weighting} (each site counts once) unless said otherwise.",
        h.definition,
        "robots.txt is read exactly as Google's reference parser reads it (RFC 9309): consent-tracker passes all 145 "
        "assertions of google/robotstxt's robots_test.cc and the 400 cases of robotstxt-spec-test.",
        "History comes from live crawls, dated archives and Wayback Machine captures (one per month; a month without a "
        "capture inherits the previous one); unreachable robots.txt files are counted apart, never as allowed or "
        "blocked.",
        f"Forecast: {f['definitions']['projection']}; restriction fitted on {s.get('from', '—')} → {s.get('to', '—')}"
        f" ({s.get('weighting', '—')}); {f['params']['draws']:,} draws, seed {f['params']['seed']}.",
    ]  # fmt: skip
    return {"key": key, "method": method, "period": now.period}


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
    fmt = ReportFormat(fmt)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"cannot create {out}: {e.strerror or e}") from None
    figures, facts = _figures(engine, registry, since, category)
    text = _text(facts, category)
    if catalog.is_simulated(engine):
        text["key"] = [SIMULATED_NOTE, *text["key"]]
        (out / "SIMULATED.txt").write_text(SIMULATED_NOTE + "\n", encoding="utf-8")
    written: list[Path] = []
    for fig in figures:
        path = out / f"{fig.name}.csv"
        _write_csv(path, fig.rows)
        written.append(path)
    if fmt is ReportFormat.csv:
        return written
    image = "png" if fmt is ReportFormat.md else "svg"
    for fig in figures:
        path = out / f"{fig.name}.{image}"
        fig.chart.save(str(path), format=image, **({"scale_factor": 1.5} if image == "png" else {}))
        written.append(path)
    title = ("[SIMULATED DATA] " if catalog.is_simulated(engine) else "") + (
        f"AI crawling consent: restriction trends to {text['period']}")
    if fmt is ReportFormat.md:
        md = [f"# {title}", "", f"_consent-tracker {__version__}_", "", "## Key figures", ""]
        md += [f"- {line}" for line in text["key"]]
        for fig in figures:
            md += ["", f"## {fig.title}", "", f"![{fig.title}]({fig.name}.png)", "",
                   f"Data: [{fig.name}.csv]({fig.name}.csv)"]  # fmt: skip
        md += ["", "## Methodology", ""] + [f"- {line}" for line in text["method"]]
        path = out / "report.md"
        path.write_text("\n".join(md) + "\n", encoding="utf-8")
        return [path, *written]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in text["key"])
    body = [f"<h1>{html.escape(title)}</h1>", f"<p class=meta>consent-tracker {__version__}</p>",
            "<h2>Key figures</h2>", f"<ul>{items}</ul>"]
    for fig in figures:
        svg = (out / f"{fig.name}.svg").read_text(encoding="utf-8")
        body += [f"<h2>{html.escape(fig.title)}</h2>", f"<figure>{svg}</figure>",
                 f'<p class=data>Data: <a href="{fig.name}.csv">{fig.name}.csv</a></p>']  # fmt: skip
    body += ["<h2>Methodology</h2>", "<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in text["method"]) + "</ul>"]
    page = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>" + html.escape(title) + "</title><style>"
            "body{font:15px/1.5 system-ui,sans-serif;max-width:760px;margin:2em auto;color:#222}h1{font-size:1.6em}"
            "figure{margin:0}svg{max-width:100%;height:auto}.meta,.data{color:#666;font-size:.9em}"
            "</style></head><body>" + "\n".join(body) + "</body></html>")  # fmt: skip
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
        raise ReportError("a PDF is printed by headless Chromium, and none is installed (apt-get install chromium); "
                          "--format html gives the same report")  # fmt: skip
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_path.resolve().as_uri()]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not pdf.exists():
        raise ReportError(f"Chromium could not print the PDF: {proc.stderr.strip()[-300:]}")

