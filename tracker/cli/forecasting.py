"""``consent-tracker forecast``: when the real data runs out, adjusted for consent, and the synthetic gap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tracker import settings
from tracker.cli.common import AgentsFileOpt, DbOpt, open_db, out, registry
from tracker.errors import StoreError
from tracker.vocabulary import OutputFormat

__all__ = ["forecast_cmd"]


def forecast_cmd(
    params_file: Annotated[Path | None, typer.Option("--params", help="A TOML file of parameters.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one parameter: section.name=value, e.g. demand.overtraining=5."),
    ] = None,
    projection: Annotated[
        str | None, typer.Option("--projection", help="Demand: historical, compute or pooled.")
    ] = None,
    overtraining: Annotated[float | None, typer.Option("--overtraining", help="× tokens per parameter.")] = None,
    draws: Annotated[int | None, typer.Option("--draws", help="Monte Carlo draws (default 100,000).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (the same seed, the same answer).")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Forecast when the stock of public human text runs out — as Epoch AI does, and adjusted by the restriction we
    measure — and how many synthetic tokens would fill the gap."""
    from tracker.forecast import forecast, load_params

    overrides = list(set_ or [])
    if projection is not None:
        overrides.append(f'demand.projection="{projection}"')
    if overtraining is not None:
        overrides.append(f"demand.overtraining={overtraining}")
    if draws is not None:
        overrides.append(f"draws={draws}")
    if seed is not None:
        overrides.append(f"seed={seed}")
    params = load_params(params_file, overrides)
    try:
        engine = open_db(db, create=False)
    except StoreError:
        if db is not None:
            raise
        engine = None  # no database yet: the unadjusted model, saying so
    result = forecast(engine, registry(agents_file) if engine is not None else None, params)
    if engine is None:
        result["sample"]["note"] += f" — no database at {settings.get('db')}"
    if fmt is not OutputFormat.table:
        print(json.dumps(result, indent=1))
        return
    _print(result)


def _year(v: float | None) -> str:
    return f"{v:.1f}" if v is not None else "after the horizon"


def _tokens(v: float) -> str:
    return f"{v / 1e12:,.0f}T"


def _print(r: dict[str, Any]) -> None:
    s = r["stock_tokens"]
    out.print(Text(f"effective stock of public human text in {s['year']:.0f}: {_tokens(s['median'])} tokens "
                   f"(90%: {_tokens(s['p5'])}–{_tokens(s['p95'])}); {r['definitions']['projection']}"),
              soft_wrap=True)  # fmt: skip
    table = Table(title="when the largest training dataset reaches the stock")
    for col in ("scenario", "median", "80% interval"):
        table.add_column(col)
    rows = [("Epoch AI's model, all public text", r["exhaustion"])]
    if r["exhaustion_consent_adjusted"]:
        rows.append(("minus what robots.txt restricts (measured, forecast)", r["exhaustion_consent_adjusted"]))
    if r["exhaustion_with_preferences"]:
        rows.append(("… and use preferences (today's snapshot)", r["exhaustion_with_preferences"]))
    for name, e in rows:
        table.add_row(Text(name), _year(e["median"]), f"{_year(e['p10'])} – {_year(e['p90'])}")
    out.print(table)
    sample = r["sample"]
    if not sample["measured"]:
        out.print(Text(sample["note"]), soft_wrap=True)
    else:
        rs = r["restricted_share"]
        last = rs["observed"][-1]
        errors = ", ".join(f"{k} {v:.3f}" for k, v in rs["out_of_sample_error"].items())
        out.print(Text(f"restricted share ({sample['purpose']} agents, {sample['weighting']}, {sample['sites_sample']},"
                       f" {sample['sites']} sites, {sample['from']} → {sample['to']}): {last['share']:.1%} now "
                       f"({last['named']:.1%} naming an agent, {last['inherited']:.1%} via '*'); curve: {rs['model']}"
                       f" (out-of-sample error {errors}), capped at {rs['cap']:.0%}"), soft_wrap=True)  # fmt: skip
        if "backtest" in rs:
            b = rs["backtest"]
            out.print(Text(f"backtest: fitted to {b['cutoff_period']}, the next {b['months']} months off by "
                           f"{b['mae']:.3f} on average ({b['model']})"))  # fmt: skip
    gap = Table(title="synthetic data the gap implies (median)")
    for col in ("year", "synthetic tokens in the largest dataset", "share of its training mix"):
        gap.add_column(col, justify="right")
    for g in r["gap"][:10]:
        gap.add_row(str(g["year"]), _tokens(g["synthetic_tokens"]["median"]), f"{g['synthetic_share']['median']:.0%}")
    out.print(gap)
    if r["categories"]:
        cats = Table(title="by category: which text runs out first")
        for col in ("category", "sites", "token share", "run-out (median)", "restriction"):
            cats.add_column(col)
        for c in r["categories"]:
            cats.add_row(Text(c["category"]), str(c["sites"]), f"{c['token_share']:.1%}",
                         _year(c["exhaustion"]["median"]), Text(c["restriction"]))  # fmt: skip
        out.print(cats)
