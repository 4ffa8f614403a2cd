"""Token weights: how much text each site contributes to a training corpus (C4, RefinedWeb, Dolma …).

``weights import FILE`` stores measured counts per site. The file counts tokens per *host* (the Consent in Crisis
file has 13,989: ``en.wikipedia.org``, ``www.nytimes.com``, ``spiderbites.nytimes.com`` …), and a site is more
than its front door, so every host folds into the tracked site it belongs to (:func:`fold_hosts`): the longest
tracked suffix of the host, looking no further up than the host's registrable domain (the public-suffix list, as
:func:`tracker.rules.sitelist.normalise_domain` reads it), so ``de.wikipedia.org`` counts for ``wikipedia.org``,
``news.bbc.co.uk`` for ``news.bbc.co.uk`` where that is tracked itself (else for ``bbc.co.uk``), and
``someone.github.io`` never for another site. A tracked ``www.`` name stands for its domain. A site's count is the
sum over its hosts; the import says how many hosts matched a site's own name, how many folded in from subdomains,
and how much weight matched no tracked site.

Sites without a count get an explicit, documented fallback so that a weighted figure never weighs them zero
silently:

- ``rank`` (the default): a power law fitted on the measured sites that have a rank (log tokens against log rank,
  least squares), evaluated at the site's rank; a site with no rank gets the median of the measured counts;
- ``median``: the median of the measured counts;
- ``none``: no fill — unmeasured sites weigh 0.

Filled values are stored apart (``measured = false``); the import says what share of the stored weight was
measured, and every weighted trend row says how much of its weight was (``weight_measured_share``).
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine

from tracker.errors import TrendError
from tracker.records.json import Json
from tracker.rules.sitelist import normalise_domain, normalise_host
from tracker.store import catalog, queries

__all__ = [
    "FILLS",
    "HostFold",
    "SiteFold",
    "Weights",
    "WeightsReport",
    "fold_hosts",
    "import_weights",
    "load_weights",
    "site_weight",
    "stored_weights",
    "weight_label",
]

FILLS = ("rank", "median", "none")


def weight_label(path: str | Path, column: str | None = None) -> str:
    """How token weights from a file are named in every weighted row (``weighting``)."""
    return f"tokens:{column or 'first *_tokens column'} of {Path(path).name}"


def _host(raw: str) -> str:
    """The host part of a URL-ish cell, lower case (scheme, path and port dropped)."""
    host = (raw or "").strip().lower().removeprefix("http://").removeprefix("https://").split("/", 1)[0]
    return host.split(":", 1)[0] if host.count(":") == 1 else host


def load_weights(path: str | Path, column: str | None = None) -> dict[str, float]:
    """Read a ``url,<weight>…`` CSV into host → weight (the first ``*_tokens`` column unless ``column`` is given).

    A weight is a token count: finite and not negative. Zero is kept (a host measured with no tokens); an empty cell
    is no measurement and is skipped; anything else (text, ``nan``, ``inf``, ``1e400``, a negative count) refuses the
    whole file, naming the lines, since one such value would silently zero or poison every weighted figure."""
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
            bad: list[str] = []
            for row in reader:
                host = _host(row.get(key) or "")
                cell = (row.get(col) or "").strip()
                if not cell:
                    continue
                try:
                    w = float(cell)
                except ValueError:
                    w = math.nan
                if not math.isfinite(w) or w < 0:
                    bad.append(f"line {reader.line_num}: {cell[:40]!r}")
                    continue
                if host:
                    out[host] = out.get(host, 0.0) + w
    except OSError as e:
        raise TrendError(f"cannot read weights {p}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise TrendError(f"cannot read weights {p}: not UTF-8 text (byte {e.start}); save it as UTF-8 CSV") from None
    except csv.Error as e:
        raise TrendError(f"cannot read weights {p}: not a CSV file ({e})") from None
    if bad:
        more = f" … and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise TrendError(
            f"{p}: {len(bad)} {col} value(s) are not finite, non-negative token counts "
            f"({'; '.join(bad[:5])}{more}); fix or empty those cells"
        )
    if not math.isfinite(math.fsum(out.values())):
        raise TrendError(f"{p}: the {col} counts add up to more than a float can hold")
    return out


def site_weight(domain: str, weights: dict[str, float]) -> float | None:
    """A site's weight in a host → weight table by its own name only (``www.`` ignored), or None.

    Name matching alone misses most of a per-host file; ``weights import`` and ``trends --weights FILE`` fold every
    host into its site (:func:`fold_hosts`). Kept to measure what the fold adds."""
    for cand in (domain, domain.removeprefix("www."), "www." + domain):
        if cand in weights:
            return weights[cand]
    return None


@dataclass(frozen=True, slots=True)
class SiteFold:
    """The hosts of a weights file that count for one tracked site, and their sum."""

    domain: str
    hosts: int  # every host folded in, the site's own name included
    subdomain_hosts: int  # of them, hosts other than the site's own name (or its www. form)
    weight: float

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class HostFold:
    """Where the hosts of a weights file went: into which tracked site, and how much matched none."""

    sites: dict[str, SiteFold]  # tracked domain → its hosts (only sites with at least one)
    file_hosts: int
    exact_hosts: int  # a tracked site's own name, or its www. form
    subdomain_hosts: int  # folded into the tracked site of which they are a subdomain
    unmatched_hosts: int  # no tracked site (invalid host names included)
    invalid_hosts: int  # not a host name at all: an IP address, a single label …
    file_weight: float
    unmatched_weight: float


def _suffixes(host: str) -> list[str]:
    """The host and its parent names, longest first, down to its registrable domain (never a public suffix); only
    the host itself when it has no registrable domain."""
    registrable, _ = normalise_domain(host)
    labels = host.split(".")
    out = []
    for i in range(len(labels)):
        name = ".".join(labels[i:])
        out.append(name)
        if name == registrable or registrable is None:
            break
    return out


def fold_hosts(table: Mapping[str, float], domains: Iterable[str]) -> HostFold:
    """Fold a host → weight table into the tracked sites ``domains``: each host counts for its longest tracked
    suffix at or below its registrable domain (a tracked ``www.`` name standing for its domain), or for none."""
    index: dict[str, str] = {d: d for d in domains}
    for d in list(index):
        if d.startswith("www."):
            index.setdefault(d.removeprefix("www."), d)
    hosts: dict[str, list[tuple[bool, float]]] = {}
    exact = sub = invalid = 0
    unmatched: list[float] = []
    for raw, w in table.items():
        host, _ = normalise_host(raw)
        site = None
        if host is None:
            invalid += 1
        else:
            site = next((index[n] for n in _suffixes(host) if n in index), None)
        if site is None:
            unmatched.append(w)
            continue
        own = host is not None and host.removeprefix("www.") == site.removeprefix("www.")
        exact += own
        sub += not own
        hosts.setdefault(site, []).append((own, w))
    sites = {
        d: SiteFold(d, len(hs), sum(not own for own, _ in hs), math.fsum(w for _, w in hs)) for d, hs in hosts.items()
    }
    return HostFold(
        sites, len(table), exact, sub, len(unmatched), invalid, math.fsum(table.values()), math.fsum(unmatched)
    )


@dataclass(frozen=True, slots=True)
class WeightsReport:
    """What an import stored: sites measured and filled in, where the file's hosts went, and the weight shares."""

    column: str
    source: str  # the file's name
    fill: str  # how the unmeasured sites were filled in ("637 by median"), or the fill asked for when none were
    sites: int  # tracked sites
    measured: int  # sites with at least one host of the file
    filled: int  # sites given the fallback
    file_hosts: int
    exact_hosts: int
    subdomain_hosts: int
    unmatched_hosts: int
    invalid_hosts: int
    file_weight: float  # the file's total
    unmatched_weight: float  # of it, on hosts of no tracked site
    measured_weight: float  # stored, measured
    filled_weight: float  # stored, filled in
    folds: tuple[SiteFold, ...]  # the measured sites, most hosts first

    @property
    def unmatched_share(self) -> float | None:
        """The share of the file's weight that no tracked site took (None for an empty file)."""
        return self.unmatched_weight / self.file_weight if self.file_weight > 0 else None

    @property
    def measured_share(self) -> float | None:
        """The share of the stored weight that was measured, not filled in (None when nothing was stored)."""
        total = self.measured_weight + self.filled_weight
        return self.measured_weight / total if total > 0 else None

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON), the shares included."""
        return {
            **{f: getattr(self, f) for f in self.__dataclass_fields__ if f != "folds"},
            "unmatched_share": self.unmatched_share,
            "measured_share": self.measured_share,
            "folds": [f.as_dict() for f in self.folds],
        }


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
    """Store a file's token counts for the sites in the database, each host folded into its site, and fill in the
    others (see the module doc)."""
    if fill not in FILLS:
        raise TrendError(f"fill must be one of {', '.join(FILLS)}, not {fill!r}")
    table = load_weights(path, column)
    name = column or _first_tokens_column(path)
    source = Path(path).name
    sites = queries.sites_for_weights(engine)
    fold = fold_hosts(table, (s.domain for s in sites))
    values: dict[int, tuple[float, bool, str | None]] = {
        s.id: (fold.sites[s.domain].weight, True, source) for s in sites if s.domain in fold.sites
    }
    measured = [v for v, _, _ in values.values()]
    filled: list[float] = []
    how_filled: dict[str, int] = {}
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
            filled.append(est)
            how_filled[how] = how_filled.get(how, 0) + 1
    catalog.set_weights(engine, name, values)
    folds = tuple(sorted(fold.sites.values(), key=lambda f: (-f.hosts, -f.weight, f.domain)))
    return WeightsReport(
        column=name,
        source=source,
        # What was done, not only what was asked: with no ranked site to fit, "rank" falls back to the median.
        fill=", ".join(f"{n:,} by {how.removeprefix('fill:')}" for how, n in how_filled.items()) or fill,
        sites=len(sites),
        measured=len(measured),
        filled=len(filled),
        file_hosts=fold.file_hosts,
        exact_hosts=fold.exact_hosts,
        subdomain_hosts=fold.subdomain_hosts,
        unmatched_hosts=fold.unmatched_hosts,
        invalid_hosts=fold.invalid_hosts,
        file_weight=fold.file_weight,
        unmatched_weight=fold.unmatched_weight,
        measured_weight=math.fsum(measured),
        filled_weight=math.fsum(filled),
        folds=folds,
    )


def _first_tokens_column(path: str | Path) -> str:
    with Path(path).open(newline="", encoding="utf-8", errors="replace") as fh:
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
        raise TrendError(
            "no token weights in the database: `consent-tracker weights import FILE` first "
            "(e.g. ../shared/corpus/dpi_domain_token_counts.csv), or pass --weights FILE"
        )
    name = column or (names[0] if len(names) == 1 else "c4_tokens" if "c4_tokens" in names else names[0])
    if name not in names:
        raise TrendError(f"no stored weight column {name!r} (stored: {', '.join(names)})")
    rows = catalog.weight_rows(engine, name)
    return Weights(
        f"tokens:{name} (stored)", {s: v for s, (v, _) in rows.items()}, frozenset(s for s, (_, m) in rows.items() if m)
    )
