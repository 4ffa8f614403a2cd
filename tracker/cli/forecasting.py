"""``consent-tracker forecast``: when the real data runs out, adjusted for consent, and the synthetic gap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker import service
from tracker.cli.common import (
    AgentsFileOpt,
    DbOpt,
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
from tracker.errors import StoreError
from tracker.records.vocabulary import OutputFormat

if TYPE_CHECKING:
    from tracker.records.forecast import Forecast, Quantiles
    from tracker.records.json import JsonObject

__all__ = ["forecast_cmd", "runout_rows"]


def forecast_cmd(
    params: Annotated[Path | None, typer.Option("--params", help="A TOML file of parameters.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="SECTION.NAME=VALUE",
            help="Override one parameter: section.name=value, e.g. demand.overtraining=5.",
        ),
    ] = None,
    projection: Annotated[
        str | None, typer.Option("--projection", help="Demand: historical, compute or pooled.")
    ] = None,
    overtraining: Annotated[float | None, typer.Option("--overtraining", help="× tokens per parameter.")] = None,
    draws: Annotated[int | None, typer.Option("--draws", help="Monte Carlo draws (default 100,000).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (the same seed, the same answer).")] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table, json, or csv (csv: the run-out rows, one per scenario)."),
    ] = OutputFormat.table,
    db: DbOpt = None,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Forecast when the stock of public human text runs out — as Epoch AI does, and adjusted by the restriction we
    measure — and how many synthetic tokens would fill the gap."""
    options = resolved(db=db, agents_file=agents_file)
    try:
        engine = open_db(options, create=False)
    except StoreError:
        if db is not None:
            raise
        engine = None  # no database yet: the unadjusted model, saying so
    result = service.forecast(
        engine,
        registry(options) if engine is not None else None,
        params=params,
        overrides=set_,
        projection=projection,
        overtraining=overtraining,
        draws=draws,
        seed=seed,
        missing_store=options.db,
    )
    is_simulated = engine is not None and simulated(engine)
    if fmt is OutputFormat.json:
        print(json.dumps(marked(result.as_dict(), is_simulated), indent=1))
        return
    if fmt is OutputFormat.csv:
        print_csv(runout_rows(result))
        return
    _print(result)


def runout_rows(r: Forecast) -> list[JsonObject]:
    """The forecast as CSV rows: one per run-out scenario — when the largest training dataset reaches the stock,
    as calendar months and decimal years (median and 80% interval) — with the data it rests on."""
    from tracker.records.forecast import RUNOUT_SCENARIOS, Runout

    return [
        {
            "scenario": key,
            "description": RUNOUT_SCENARIOS[key],
            **Runout.as_dict(e),
            "data_through": r.data_through,
        }
        for key, e in r.runouts().items()
    ]


def _tokens(v: float) -> str:
    return f"{v / 1e12:,.0f}T"


def _tokens_interval(i: Quantiles) -> str:
    return f"{_tokens(i.median)} ({_tokens(i.p10)}–{_tokens(i.p90)})"


def _share_interval(i: Quantiles) -> str:
    return f"{i.median:.0%} ({i.p10:.0%}–{i.p90:.0%})"


def _print(r: Forecast) -> None:
    from tracker.analysis.forecast.model import RUNOUT_SCENARIOS, runout_text
    from tracker.analysis.forecast.restriction import backtest_summary

    horizon = r.params.end
    s = r.stock_tokens
    out.print(
        Text(
            f"effective stock of public human text in {s.year:.0f}: {_tokens(s.median)} tokens "
            f"(90%: {_tokens(s.p5)}–{_tokens(s.p95)}); demand: {r.definitions.demand}"
        ),
        soft_wrap=True,
    )
    table = Table(title="when the largest training dataset reaches the stock")
    for col in ("scenario", "run-out (median and 80% interval)", "decimal years"):
        table.add_column(col)
    runouts = r.runouts()
    for key, name in RUNOUT_SCENARIOS.items():
        e = runouts.get(key)
        if e:
            years = "–".join(f"{v:.2f}" if v is not None else "…" for v in (e.p10, e.median, e.p90))
            table.add_row(Text(name), runout_text(e, horizon=horizon), years)
    out.print(table)
    sample = r.sample
    rs = r.restricted_share
    if not sample.measured or rs is None:
        out.print(Text(sample.note or ""), soft_wrap=True)
    else:
        last = rs.observed[-1]
        out.print(
            Text(
                f"restricted share now: {last.share:.1%} ({last.period}; {last.named:.1%} naming an "
                f"agent, {last.inherited:.1%} via '*'). {sample.restricted}"
            ),
            soft_wrap=True,
        )
        out.print(Text(f"forecast of the restricted share: {rs.description}"), soft_wrap=True)
        for line in backtest_summary(rs.backtest):
            out.print(Text(f"backtest on this series, {line}"), soft_wrap=True)
        rt = Table(title="restricted share, forecast (median and 80% interval, middle of each year)")
        for col in ("year", "median", "80% interval"):
            rt.add_column(col, justify="right")
        last_t = rs.path[0].t  # the years before the last observation are measured, not forecast
        for f in [f for f in rs.forecast if f.year + 0.5 > last_t][:10]:
            rt.add_row(str(f.year), f"{f.median:.1%}", f"{f.p10:.1%}–{f.p90:.1%}")
        out.print(rt)
    prefs = r.preferences
    if prefs and not prefs.available:
        out.print(Text(f"no use-preference scenario: {prefs.reason}"), soft_wrap=True)
    gap = Table(title="synthetic data the gap implies (median and 80% interval, middle of each year)")
    for col in ("year", "largest dataset", "usable human text", "synthetic tokens", "synthetic share of the mix"):
        gap.add_column(col, justify="right")
    for g in r.gap[:10]:
        gap.add_row(
            str(g.year),
            _tokens_interval(g.demand_tokens),
            _tokens_interval(g.usable_tokens),
            _tokens_interval(g.synthetic_tokens),
            _share_interval(g.synthetic_share),
        )
    out.print(gap)
    if r.categories:
        share_of = r.categories[0].share_of
        cats = Table(title="by category: which text runs out first")
        for col in ("category", "sites", f"share of {share_of}", "run-out (median and 80% interval)", "restriction"):
            cats.add_column(col)
        for c in r.categories:
            cats.add_row(
                Text(c.category),
                str(c.sites),
                f"{c.share:.1%}",
                runout_text(c.exhaustion, horizon=horizon),
                Text(c.restriction),
            )
        out.print(cats)
    d = r.definitions
    if sample.measured:
        out.print(Text(f"Usable stock: {d.usable_stock}."), soft_wrap=True)
    out.print(Text(f"Run-out: {d.run_out}; {d.monte_carlo}."), soft_wrap=True)
