"""Token weights: how much text each site contributes to a training corpus (C4, RefinedWeb, Dolma …).

``weights import FILE`` stores measured counts per site (the Consent in Crisis token counts have 13,989 domains);
sites without a count get an explicit, documented fallback so that a weighted figure never weighs them zero
silently:

- ``rank`` (the default): a power law fitted on the measured sites that have a rank (log tokens against log rank,
  least squares), evaluated at the site's rank; a site with no rank gets the median of the measured counts;
- ``median``: the median of the measured counts;
- ``none``: no fill — unmeasured sites weigh 0.

Filled values are stored apart (``measured = false``), and every weighted trend row says how much of its weight
was measured (``weight_measured_share``).
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from tracker.errors import TrendError
from tracker.store import catalog, queries

__all__ = [
    "FILLS", "Weights", "WeightsReport", "import_weights", "load_weights", "site_weight", "stored_weights",
    "weight_label",
]  # fmt: skip

FILLS = ("rank", "median", "none")


def weight_label(path: str | Path, column: str | None = None) -> str:
    """How token weights from a file are named in every weighted row (``weighting``)."""
    return f"tokens:{column or 'first *_tokens column'} of {Path(path).name}"


def _host(raw: str) -> str:
    return (raw or "").strip().lower().removeprefix("http://").removeprefix("https://").split("/", 1)[0]


def load_weights(path: str | Path, column: str | None = None) -> dict[str, float]:
    """Read a ``url,<weight>…`` CSV into host → weight (the first ``*_tokens`` column unless ``column`` is given)."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            key = next((f for f in fields if f.lower() in ("url", "domain", "host", "site")), None)
            if key is None:
                raise TrendError(f"{p}: needs a 'url' or 'domain' column (has {fields})")
            col = column or next((f for f in fields if f != key and f.endswith("tokens")), None)
            if col is None or col not in fields:
                raise TrendError(f"{p}: no weight column {column or '*_tokens'} (has {fields})")
            out: dict[str, float] = {}
            for row in reader:
                host = _host(row.get(key) or "")
                try:
                    w = float(row.get(col) or "")
                except ValueError:
                    continue
                if host and w >= 0:
                    out[host] = out.get(host, 0.0) + w
            return out
    except OSError as e:
        raise TrendError(f"cannot read weights {p}: {e.strerror or e}") from None


def site_weight(domain: str, weights: dict[str, float]) -> float | None:
    """A site's weight in a host → weight table (``www.`` ignored), or None."""
    for cand in (domain, domain.removeprefix("www."), "www." + domain):
        if cand in weights:
            return weights[cand]
    return None


@dataclass(slots=True)
class WeightsReport:
    """What an import stored."""

    column: str
    measured: int
    filled: int
    fill: str
    file_hosts: int
    unmatched_hosts: int


def _fit_rank(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """Least squares of log tokens on log rank: (intercept, slope), or None with too few points."""
    pts = [(math.log(r), math.log(t)) for r, t in points if r > 0 and t > 0]
    if len(pts) < 10:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in pts) / sxx
    return my - slope * mx, slope


def import_weights(engine: Engine, path: str | Path, *, column: str | None = None, fill: str = "rank") -> WeightsReport:
    """Store a file's token counts for the sites in the database, and fill in the others (see the module doc)."""
    if fill not in FILLS:
        raise TrendError(f"fill must be one of {', '.join(FILLS)}, not {fill!r}")
    table = load_weights(path, column)
    name = column or _first_tokens_column(path)
    sites = queries.sites_for_weights(engine)
    values: dict[int, tuple[float, bool, str | None]] = {}
    matched_hosts: set[str] = set()
    for s in sites:
        w = site_weight(s.domain, table)
        if w is not None:
            values[s.id] = (w, True, Path(path).name)
            matched_hosts.update(h for h in (s.domain, "www." + s.domain) if h in table)
    measured = [v for v, _, _ in values.values()]
    filled = 0
    if fill != "none" and measured:
        median = statistics.median(measured)
        ranked = [(s.rank, values[s.id][0]) for s in sites if s.id in values and s.rank]
        fit = _fit_rank(ranked) if fill == "rank" else None
        for s in sites:
            if s.id in values:
                continue
            if fit is not None and s.rank:
                est, how = math.exp(fit[0] + fit[1] * math.log(s.rank)), "fill:rank power law"
            else:
                est, how = median, "fill:median"
            values[s.id] = (est, False, how)
            filled += 1
    catalog.set_weights(engine, name, values)
    return WeightsReport(name, len(measured), filled, fill, len(table), len(set(table) - matched_hosts))


def _first_tokens_column(path: str | Path) -> str:
    with Path(path).open(newline="", encoding="utf-8") as fh:
        fields = csv.DictReader(fh).fieldnames or []
    return next((f for f in fields if f.endswith("tokens")), "tokens")


@dataclass(frozen=True, slots=True)
class Weights:
    """Each site's weight for a series, and which of them were measured."""

    label: str
    values: dict[int, float]
    measured: frozenset[int]


def stored_weights(engine: Engine, column: str | None = None) -> Weights:
    """The weights stored by ``weights import`` (``column``, or the only column stored)."""
    names = catalog.weight_names(engine)
    if not names:
        raise TrendError("no token weights in the database: `consent-tracker weights import FILE` first "
                         "(e.g. ../shared/corpus/dpi_domain_token_counts.csv), or pass --weights FILE")  # fmt: skip
    name = column or (names[0] if len(names) == 1 else "c4_tokens" if "c4_tokens" in names else names[0])
    if name not in names:
        raise TrendError(f"no stored weight column {name!r} (stored: {', '.join(names)})")
    rows = catalog.weight_rows(engine, name)
    return Weights(f"tokens:{name} (stored)", {s: v for s, (v, _) in rows.items()},
                   frozenset(s for s, (_, m) in rows.items() if m))  # fmt: skip
