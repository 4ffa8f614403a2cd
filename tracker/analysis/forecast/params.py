"""Every assumption of the forecast as a visible, overridable value, with its published source.

A distribution is a lognormal given, as in Epoch AI's code, by a central interval: ``Interval(a, b, c)`` is the
lognormal whose c% central interval is [a, b] (``to(a, b, c)`` there). Defaults reproduce Villalobos et al. 2024
(arXiv 2211.04325 v2) as ../shared/docs/forecast.md §2 gives it. Override any of them with a TOML file::

    [stock]
    pages = [75e9, 1e12, 95]          # indexed web pages in 2024: 95% interval
    [demand]
    projection = "historical"         # historical | compute | pooled
    overtraining = 5.0
    [consent]
    purpose = "training"

or with ``--set section.name=value`` on the command line (``tracker.analysis.forecast.load_params``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from scipy.stats import norm

from tracker.errors import ParamsError
from tracker.records.json import Json

__all__ = [
    "BYTES_PER_DRAW",
    "MAX_BYTES",
    "MAX_DRAWS",
    "ConsentParams",
    "DemandParams",
    "ForecastParams",
    "Interval",
    "ParamsError",
    "StockParams",
    "load_params",
]


@dataclass(frozen=True, slots=True)
class Interval:
    """A lognormal by its central interval: ``c``% of draws fall in [low, high]."""

    low: float
    high: float
    c: float = 90.0

    def __post_init__(self) -> None:
        if not (0 < self.low <= self.high) or not (0 < self.c < 100):
            raise ParamsError(
                f"an interval needs 0 < low ≤ high and a level 0 < c < 100, not "
                f"[{self.low:g}, {self.high:g}, {self.c:g}]"
            )

    @property
    def mu(self) -> float:
        """Mean of the log."""
        return (math.log(self.low) + math.log(self.high)) / 2

    @property
    def sigma(self) -> float:
        """Standard deviation of the log."""
        return (math.log(self.high) - math.log(self.low)) / (2 * float(norm.ppf(0.5 + self.c / 200)))

    @property
    def median(self) -> float:
        """The median (geometric mean of the bounds)."""
        return math.exp(self.mu)


@dataclass(frozen=True, slots=True)
class StockParams:
    """The effective stock of public human text (forecast.md §2, items 1–3)."""

    base_year: float = 2024.0
    pages: Interval = Interval(75e9, 1e12, 95)  # indexed web pages
    bytes_per_page: Interval = Interval(6100, 8200, 95)  # bytes of text a page
    bytes_per_token_offset: Interval = Interval(1, 4, 95)  # bytes per token = 6 − this (median ≈ 4)
    growth_a: Interval = Interval(1.02, 1.04, 95)  # yearly growth of the stock, two factors multiplied
    growth_b: Interval = Interval(1.00, 1.10, 95)
    quality: Interval = Interval(0.1, 0.4, 95)  # share kept by quality filtering
    repetition: Interval = Interval(2, 5, 95)  # epochs a dataset may repeat


@dataclass(frozen=True, slots=True)
class DemandParams:
    """The size of the largest training dataset over time (forecast.md §2, item 4)."""

    base_year: float = 2024.0
    largest_dataset: Interval = Interval(3e12, 13e12, 90)  # tokens in the base year
    # Historical trend of 80 notable models since 2010: orders of magnitude a year, a normal by its 95% interval.
    oom_per_year_low: float = 0.27
    oom_per_year_high: float = 0.48
    # Compute-based projection (Chinchilla-optimal D = 20·sqrt(C/120)); Epoch's compute series is not public, so
    # these are our assumptions, documented: the largest 2024 training run and the growth of frontier compute.
    compute_flop: Interval = Interval(2e25, 1e26, 90)
    compute_growth: Interval = Interval(3.5, 4.9, 90)  # × a year
    projection: str = "historical"  # historical | compute | pooled (each draw takes one of the two at random)
    overtraining: float = 1.0  # × tokens per parameter over Chinchilla-optimal (5 ≈ the paper's 2027 case)

    def __post_init__(self) -> None:
        if self.projection not in ("historical", "compute", "pooled"):
            raise ParamsError(f"projection must be historical, compute or pooled, not {self.projection!r}")
        if self.overtraining <= 0:
            raise ParamsError(f"demand.overtraining must be above 0, not {self.overtraining:g}")
        if not self.oom_per_year_low <= self.oom_per_year_high:
            raise ParamsError(
                f"demand.oom_per_year_low ({self.oom_per_year_low:g}) must not exceed "
                f"demand.oom_per_year_high ({self.oom_per_year_high:g})"
            )
        if not 2000 <= self.base_year <= 2100:
            raise ParamsError(
                f"demand.base_year is the year the dataset size is given for: 2000–2100, not {self.base_year:g}"
            )


@dataclass(frozen=True, slots=True)
class ConsentParams:
    """How measured restriction enters the stock (forecast.md §3)."""

    purpose: str = "training"  # agents of this use: training opt-outs (crawlers and control tokens) shrink the stock
    group_by: str = "purpose"  # purpose | company | agent: which agents' restriction counts
    group: str = ""  # with company or agent: its name (e.g. OpenAI, GPTBot); with purpose: empty means ``purpose``
    rule: str = "any"  # any | all: a site restricts when any (or every one) of the group's agents is blocked
    weighting: str = "auto"  # auto (stored token weights when there are, else sites) | tokens | sites
    paths: int = 400  # sample paths of the restriction forecast carried into the Monte Carlo
    preferences_sample: int = 5000  # sites read for the use-preference scenario (0: no scenario)
    preferences_min_share: float = 0.5  # of the sites read, the share whose use preferences were observed, at least
    min_category_sites: int = 20  # a category with fewer sites uses the overall curve

    def __post_init__(self) -> None:
        if self.group_by not in ("purpose", "company", "agent"):
            raise ParamsError(f"consent.group_by must be purpose, company or agent, not {self.group_by!r}")
        if self.group_by != "purpose" and not self.group:
            raise ParamsError(f'consent.group names the {self.group_by} (e.g. consent.group="OpenAI")')
        if self.rule not in ("any", "all"):
            raise ParamsError(f"consent.rule must be any or all, not {self.rule!r}")
        if self.weighting not in ("auto", "tokens", "sites"):
            raise ParamsError(f"consent.weighting must be auto, tokens or sites, not {self.weighting!r}")
        if self.paths < 10:
            raise ParamsError(f"consent.paths must be at least 10, not {self.paths}")
        if not 0.0 <= self.preferences_min_share <= 1.0:
            raise ParamsError(
                f"consent.preferences_min_share is a share: between 0 and 1, not {self.preferences_min_share}"
            )
        if self.preferences_sample < 0:
            raise ParamsError(f"consent.preferences_sample must be 0 or more, not {self.preferences_sample}")
        if self.min_category_sites < 1:
            raise ParamsError(f"consent.min_category_sites must be 1 or more, not {self.min_category_sites}")


#: What one Monte Carlo draw costs on the default monthly grid to 2040 (stock, demand, restriction path, run-out
#: test and temporaries: about six arrays of 193 numbers), and the ceilings that keep a forecast within memory.
BYTES_PER_DRAW = 10_000
MAX_DRAWS = 200_000
MAX_BYTES = 2.5e9


@dataclass(frozen=True, slots=True)
class ForecastParams:
    """All of it, with the Monte Carlo's size and seed."""

    stock: StockParams = field(default_factory=StockParams)
    demand: DemandParams = field(default_factory=DemandParams)
    consent: ConsentParams = field(default_factory=ConsentParams)
    # 20,000 draws put the run-out's median and 80% bounds within a few days of 100,000 draws' (bench/forecast_bench.py
    # prints both); the same number everywhere is what makes the CLI, the report and the dashboard agree.
    draws: int = 20_000
    seed: int = 20240719
    start: float = 2024.0
    end: float = 2040.0
    steps_per_year: int = 12

    def __post_init__(self) -> None:
        if not 100 <= self.draws <= MAX_DRAWS:
            raise ParamsError(
                f"draws must be between 100 and {MAX_DRAWS:,} (each draw holds about "
                f"{BYTES_PER_DRAW // 1000} KB per 193-month grid; 20,000 put the run-out within days of "
                f"100,000), not {self.draws:,}"
            )
        if self.draws * BYTES_PER_DRAW * (self.end - self.start) * self.steps_per_year / 192 > MAX_BYTES:
            raise ParamsError(
                f"draws × the time grid ({self.draws:,} draws, {self.steps_per_year} steps a year to "
                f"{self.end:g}) would need more than {MAX_BYTES / 1e9:g} GB: fewer draws or a coarser "
                "grid"
            )
        if not 1 <= self.steps_per_year <= 365:
            raise ParamsError(f"steps_per_year must be between 1 and 365, not {self.steps_per_year}")
        if not 1990 <= self.start <= 2100:
            raise ParamsError(f"start must be a year between 1990 and 2100, not {self.start}")
        if self.end <= self.start:
            raise ParamsError(
                f"end ({self.end:g}) is the forecast's horizon: it must come after start ({self.start:g})"
            )
        if self.end - self.start > 100:
            raise ParamsError(f"end ({self.end:g}) is more than a century after start ({self.start:g})")
        if not 2000 <= self.stock.base_year <= 2100:
            raise ParamsError(
                f"stock.base_year is the year the stock is given for: 2000–2100, not {self.stock.base_year:g}"
            )
        for name in ("quality",):
            i = getattr(self.stock, name)
            if i.high > 1:
                raise ParamsError(
                    f"stock.{name} is a share of the text kept: its interval must lie within 0–1, "
                    f"not [{i.low:g}, {i.high:g}]"
                )

    def as_dict(self) -> dict[str, Json]:
        """Every parameter, JSON-ready (intervals as [low, high, c])."""

        def plain(v: Any) -> Any:
            if isinstance(v, Interval):
                return [v.low, v.high, v.c]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, tuple):
                return list(v)
            return v

        return {k: plain(v) for k, v in asdict(self).items()} | {
            "stock": {f.name: plain(getattr(self.stock, f.name)) for f in fields(self.stock)},
            "demand": {f.name: plain(getattr(self.demand, f.name)) for f in fields(self.demand)},
        }


_KINDS = {bool: "true or false", int: "a whole number", float: "a number"}


def _coerce(current: Any, value: object, where: str) -> Any:
    if is_dataclass(current) and not isinstance(current, Interval):
        raise ParamsError(
            f"{where} is a section: set one of its parameters, {where}.NAME=value "
            f"({', '.join(f.name for f in fields(current))})"
        )
    if isinstance(current, Interval):
        if not (isinstance(value, list | tuple) and len(value) in (2, 3)):
            raise ParamsError(f"{where} is an interval: [low, high] or [low, high, c]")
        try:
            return Interval(*(float(x) for x in value))
        except ParamsError as e:
            raise ParamsError(f"{where}: {e}") from None
    kind = type(current)
    if kind in _KINDS:
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, bool | int | float | str):
            raise ParamsError(f"{where} must be {_KINDS[kind]}, not {value!r}")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ParamsError(f"{where} must be {_KINDS[kind]}, not {value!r}")
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ParamsError(f"{where} must be {_KINDS[kind]}, not {value!r}") from None
    if not isinstance(value, str):
        raise ParamsError(f"{where} must be text, not {value!r}")
    return value


def _apply(obj: Any, values: Mapping[str, object], where: str) -> Any:
    """``obj`` (a parameters dataclass) with a TOML table's values (sections as nested tables), each checked."""
    names = {f.name: f for f in fields(obj)}
    changes: dict[str, object] = {}
    for k, v in values.items():
        if k not in names:
            raise ParamsError(f"unknown parameter {where}{k} (known: {', '.join(names)})")
        current = getattr(obj, k)
        if isinstance(v, dict):
            if not is_dataclass(current):
                raise ParamsError(f"{where}{k} is a value, not a section")
            changes[k] = _apply(current, v, f"{where}{k}.")
        else:
            changes[k] = _coerce(current, v, f"{where}{k}")
    try:
        return replace(obj, **changes)
    except ParamsError as e:
        section = where.rstrip(".")
        if section and not str(e).startswith(section):
            raise ParamsError(f"{section}: {e}") from None
        raise


def load_params(path: str | Path | None = None, overrides: list[str] | None = None) -> ForecastParams:
    """The default parameters, then a TOML file's, then ``section.name=value`` overrides (values parsed as TOML)."""
    params = ForecastParams()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise ParamsError(f"cannot read {path}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise ParamsError(f"{path} is not a UTF-8 text file (a TOML file of parameters is expected)") from None
        except tomllib.TOMLDecodeError as e:
            raise ParamsError(f"{path} is not TOML: {e}") from None
        params = _apply(params, data, "")
    nested: dict[str, object] = {}  # every override at once: checks that tie two values see both
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ParamsError(f"overrides: {item!r} is not section.name=value", parameter="overrides")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        cur = nested
        parts = key.strip().split(".")
        for p in parts[:-1]:
            nxt = cur.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise ParamsError(f"overrides: {key}: {p} is a value, not a section", parameter="overrides")
            cur = nxt
        cur[parts[-1]] = value
    return _apply(params, nested, "") if nested else params
