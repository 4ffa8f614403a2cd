"""The analysing use cases: the forecast of when public human text runs out, published claims beside ours, and the
trend report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker.rules.agents import AgentRegistry

__all__ = ["claims", "forecast", "report"]


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
    category: str | None = None,
) -> list[Path]:
    """Write the trend report (key figures, charts, methodology, the CSV behind each chart) into ``out``; return the
    files written, the report first."""
    from tracker.publishing.report import write_report

    return write_report(engine, registry, out, fmt, since=since, category=category)
