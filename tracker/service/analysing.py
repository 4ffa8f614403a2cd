"""The analysing use cases: the forecast of when public human text runs out, published claims beside ours, the
trend report and the open-data release."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker.rules.agents import AgentRegistry

__all__ = ["claims", "forecast", "publish", "report"]


def forecast(
    engine: Engine | None,
    registry: AgentRegistry | None,
    *,
    params: Path | None = None,
    overrides: list[str] | None = None,
    projection: str | None = None,
    overtraining: float | None = None,
    draws: int | None = None,
    seed: int | None = None,
    missing_store: str | None = None,
) -> Any:
    """The forecast (tracker.analysis.forecast): the default parameters, then the ``params`` TOML file's, then
    ``overrides`` (``section.name=value``), then the named ones. Without a store (``engine`` None) it is the
    unadjusted model; ``missing_store`` names the store that was not there, for the sample's note."""
    from tracker.analysis.forecast import forecast as compute
    from tracker.analysis.forecast import load_params

    given = list(overrides or [])
    if projection is not None:
        given.append(f'demand.projection="{projection}"')
    if overtraining is not None:
        given.append(f"demand.overtraining={overtraining}")
    if draws is not None:
        given.append(f"draws={draws}")
    if seed is not None:
        given.append(f"seed={seed}")
    result = compute(engine, registry if engine is not None else None, load_params(params, given))
    if engine is None and missing_store is not None:
        result = replace(
            result, sample=replace(result.sample, note=f"{result.sample.note} — no database at {missing_store}")
        )
    return result


def claims(engine: Engine, registry: AgentRegistry, *, claims: Path | None = None) -> list[Any]:
    """Published figures beside ours under the same definition and sample (tracker.analysis.claims.Comparison),
    from the package's claims or a ``claims`` file of the same columns."""
    from tracker.analysis.claims import compare, load_claims

    return compare(engine, registry, load_claims(claims) if claims is not None else None)


def report(
    engine: Engine,
    registry: AgentRegistry,
    *,
    out: Path,
    fmt: Any = "html",
    since: date | None = None,
    until: date | None = None,
    lists: list[str] | None = None,
    category: str | None = None,
    weight: Any = "none",
    made_at: datetime | None = None,
) -> list[Path]:
    """Write the trend report (its provenance first, then key figures, charts, methodology, the CSV behind each
    chart) into ``out``; return the files written, the report first. ``since/until/lists/category`` choose the
    sample of every restriction figure; ``weight`` weights the by-agent and by-purpose figures (the headline counts
    sites, with its token-weighted share beside it); the forecast rests on every site of the database — the report
    says both. ``made_at``: when the report says it was made (default: now)."""
    from tracker.publishing.report import write_report

    return write_report(
        engine,
        registry,
        out,
        fmt,
        since=since,
        until=until,
        lists=lists,
        category=category,
        weight=weight,
        made_at=made_at,
    )


def publish(
    engine: Engine,
    registry: AgentRegistry,
    *,
    out: Path,
    since: date | None = None,
    until: date | None = None,
    lists: list[str] | None = None,
    agents: list[str] | None = None,
    with_bodies: bool = False,
    replace: bool = False,
    max_age: int = 90,
) -> Any:
    """Write a dated release of the database into ``out`` (tracker.publishing.release.Release): Parquet tables with
    CSV twins — sites, the trends of every registry agent, company and purpose, each site's agents' states and
    signals month by month (``agents``: default the core panel), the change events — the forecast, a Data Package,
    its README and SHA256SUMS; robots.txt texts ``with_bodies``. The same database gives the same bytes."""
    from tracker.analysis.latest import site_agents
    from tracker.analysis.trends import window
    from tracker.errors import ParameterError, PublishError
    from tracker.publishing.release import TrendSeries, check_folder, write_release
    from tracker.records.vocabulary import GroupBy, Weighting
    from tracker.service.reading import is_simulated, observation_bounds, trends
    from tracker.store import catalog

    check_folder(out, replace=replace)
    if max_age < 0:
        raise ParameterError(f"max_age must be 0 or more days, not {max_age}", "max_age")
    if since is not None and until is not None and since > until:
        raise ParameterError(f"since ({since}) is after until ({until})", "since")
    if observation_bounds(engine) is None:
        raise PublishError("the database holds no observations to publish: crawl, backfill or import-archive first")
    found = window(engine, since=since, until=until)
    if found is None:
        raise PublishError(f"no observations between {since or 'the first'} and {until or 'the last'}")
    _, periods = found
    known = {i.name for i in catalog.lists(engine)}
    missing = [n for n in lists or [] if n not in known]
    if missing:
        raise ParameterError(
            f"lists: no list named {', '.join(missing)} (lists: {', '.join(sorted(known)) or 'none'})", "lists"
        )
    tokens = [a.token for a in registry]
    weightings = [Weighting.none] + ([Weighting.tokens] if catalog.weight_names(engine) else [])
    series = []
    for weight in weightings:
        for by in (GroupBy.agent, GroupBy.company, GroupBy.purpose):
            t = trends(
                engine,
                registry,
                agents=tokens if by is GroupBy.agent else [],
                by=by,
                since=since,
                until=until,
                lists=lists,
                weight=weight,
                max_age=max_age,
            )
            series.append(TrendSeries(by.value, t.rows, t.definitions))
    return write_release(
        engine,
        out,
        periods=periods,
        series=series,
        forecast=forecast(engine, registry).as_dict(),
        agents=list(dict.fromkeys(site_agents(registry, agents))),  # one row per agent, however often it was asked
        since=since,
        until=until,
        lists=lists,
        with_bodies=with_bodies,
        replace=replace,
        simulated=is_simulated(engine),
        max_age_days=max_age,
    )
