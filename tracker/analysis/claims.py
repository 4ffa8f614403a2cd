"""Published figures, side by side with ours.

``tracker/data/claims.csv`` quotes figures others published about AI crawling consent — Originality.ai's share of the
top 1,000 sites blocking GPTBot, Consent in Crisis's share of C4 tokens restricted, the Reuters Institute's news sites,
Cloudflare Radar, Epoch AI's run-out year — each with its source, date, sample and definition, and a machine-readable
``recipe`` saying how to compute the same figure. :func:`compare` computes ours wherever the database holds it, under
the claim's definition, on the nearest sample we have and at the claim's date (the state in effect that day, or at the
last observation when the claim is later), and otherwise says exactly what is missing. Every series comes from
:func:`tracker.analysis.trends.restriction_series`; nothing here reads the store but through its functions.

A recipe is ``key=value; key=value``:

============  =================================================================================================
``metric``    ``agent_blocked_share`` (a share of sites) · ``token_restricted_share`` (a share of tokens) ·
              ``runout`` (a year, from the forecast)
``agents``    a token (``GPTBot``) · ``company:OpenAI`` · ``purpose:training`` — a site counts for a group when its
              robots.txt blocks any of the group's agents
``rule``      ``root``: the agent may not fetch ``/`` (``blocked`` in trends; the default) · ``full``: every probe path
              is disallowed (stance ``full_block``)
``over``      ``sites``: every site observed (the default) · ``reachable``: not unreachable · ``with_robots``: a
              robots.txt was read (neither absent nor unreachable)
``sample``    ``all`` (the default) · ``top:N``: ranked N or better · ``category:NAME`` · ``c4_head:N``: C4's top N
              domains by tokens · ``c4_all``: all of C4
``weighting`` ``sites`` (the default) · ``tokens:COLUMN``: the token counts stored by ``weights import``
``date``      ``YYYY-MM-DD`` (default: the claim's ``as_of``)
``scenario``  (runout) ``unadjusted`` · ``consent_adjusted``
``projection`` (runout) ``historical`` · ``compute`` · ``pooled`` (the default)
============  =================================================================================================

What was never observed is ``None``: a comparison without a figure of ours carries ``missing``, the reasons.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker.analysis.forecast.params import ForecastParams
from tracker.analysis.trends import TrendRow, restriction_series
from tracker.analysis.weights import Weights, stored_weights
from tracker.errors import ClaimsError, TrendError
from tracker.records.json import Json
from tracker.records.vocabulary import Freq, GroupBy, Weighting
from tracker.rules.agents import AgentRegistry
from tracker.store import catalog, queries

__all__ = [
    "CLAIMS_FILE",
    "COLUMNS",
    "Claim",
    "ClaimCells",
    "ClaimsError",
    "Comparison",
    "ComparisonRow",
    "Metric",
    "OurDefinition",
    "OurSample",
    "Recipe",
    "RunoutYear",
    "compare",
    "format_difference",
    "format_value",
    "load_claims",
    "parse_claims",
    "runout_years",
]

CLAIMS_FILE = Path(str(resources.files("tracker") / "data" / "claims.csv"))
COLUMNS = (
    "id",
    "claim",
    "value",
    "unit",
    "low",
    "high",
    "as_of",
    "published",
    "source",
    "url",
    "sample",
    "definition",
    "recipe",
    "note",
)
UNITS = ("share", "year")
RULES = ("root", "full")
OVER = ("sites", "reachable", "with_robots")
SCENARIOS = ("unadjusted", "consent_adjusted")
PROJECTIONS = ("historical", "compute", "pooled")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class Metric(StrEnum):
    """What a claim measures."""

    agent_blocked_share = "agent_blocked_share"
    token_restricted_share = "token_restricted_share"
    runout = "runout"


# -- the recipe ---------------------------------------------------------------------------------------------------
_SHARE_KEYS = {"metric", "agents", "rule", "over", "sample", "weighting", "date"}
_RUNOUT_KEYS = {"metric", "scenario", "projection"}


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to compute a claim's figure from our data (the ``recipe`` column, parsed)."""

    metric: Metric
    agents: str | None = None  # a token, company:NAME or purpose:NAME
    rule: str = "root"
    over: str = "sites"
    sample: str = "all"
    weighting: str = "sites"
    date: date | None = None
    scenario: str | None = None
    projection: str | None = None

    @classmethod
    def parse(cls, text: str) -> Recipe:
        """Read ``key=value; …``; a ValueError says what is wrong."""
        pairs: dict[str, str] = {}
        for part in text.split(";"):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise ValueError(f"{part!r} is not key=value")
            if key in pairs:
                raise ValueError(f"{key} given twice")
            pairs[key] = value
        try:
            metric = Metric(pairs.get("metric", ""))
        except ValueError:
            raise ValueError(f"metric must be one of {', '.join(Metric)}, not {pairs.get('metric')!r}") from None
        allowed = _RUNOUT_KEYS if metric is Metric.runout else _SHARE_KEYS
        unknown = sorted(set(pairs) - allowed)
        if unknown:
            raise ValueError(f"unknown key(s) for {metric}: {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
        if metric is Metric.runout:
            scenario = pairs.get("scenario", "")
            projection = pairs.get("projection") or "pooled"
            _one_of("scenario", scenario, SCENARIOS)
            _one_of("projection", projection, PROJECTIONS)
            return cls(metric, scenario=scenario, projection=projection)
        agents = pairs.get("agents", "")
        if not agents:
            raise ValueError("agents is required (a token, company:NAME or purpose:NAME)")
        rule, over = pairs.get("rule") or "root", pairs.get("over") or "sites"
        _one_of("rule", rule, RULES)
        _one_of("over", over, OVER)
        sample = pairs.get("sample") or "all"
        _check_sample(sample)
        weighting = pairs.get("weighting") or "sites"
        if weighting != "sites" and not (weighting.startswith("tokens:") and weighting.removeprefix("tokens:")):
            raise ValueError(f"weighting must be sites or tokens:COLUMN, not {weighting!r}")
        if (metric is Metric.token_restricted_share) != weighting.startswith("tokens:"):
            raise ValueError(f"{metric} needs {'tokens:COLUMN' if weighting == 'sites' else 'sites'} weighting")
        day = None
        if pairs.get("date"):
            try:
                day = date.fromisoformat(pairs["date"])
            except ValueError:
                raise ValueError(f"date must be YYYY-MM-DD, not {pairs['date']!r}") from None
        return cls(metric, agents, rule, over, sample, weighting, day)

    @property
    def text(self) -> str:
        """The recipe written back as ``key=value; …``."""
        return "; ".join(f"{k}={v}" for k, v in self.as_dict().items() if v is not None)

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready (the keys that apply to the metric)."""
        d = asdict(self)
        d["metric"] = self.metric.value
        d["date"] = self.date.isoformat() if self.date else None
        keys = _RUNOUT_KEYS if self.metric is Metric.runout else _SHARE_KEYS
        return {k: v for k, v in d.items() if k in keys}


def _one_of(key: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)}, not {value!r}")


def _check_sample(sample: str) -> None:
    kind, _, arg = sample.partition(":")
    if kind in ("all", "c4_all") and not arg:
        return
    if kind in ("top", "c4_head") and arg.isdigit() and int(arg) > 0:
        return
    if kind == "category" and arg:
        return
    raise ValueError(f"sample must be all, top:N, category:NAME, c4_head:N or c4_all, not {sample!r}")


# -- the claims -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Claim:
    """A published figure, quoted with its source, and how we compute the same one."""

    id: str
    claim: str  # the source's words
    value: float | None  # a share (0-1) or a year; None when not entered (``note`` says why)
    unit: str  # share | year
    low: float | None  # the interval the source gives
    high: float | None
    as_of: date | None  # the date the figure describes
    published: date | None
    source: str
    url: str
    sample: str  # as the source states it
    definition: str  # what counts, as the source defines it
    recipe: Recipe
    note: str

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["as_of"] = self.as_of.isoformat() if self.as_of else None
        d["published"] = self.published.isoformat() if self.published else None
        d["recipe"] = self.recipe.as_dict()
        return d


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)  # ValueError names the text
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _claim(row: dict[str, str]) -> Claim:
    """One row as a Claim; a ValueError carries the column at fault as its second argument."""

    def need(column: str) -> str:
        text = (row.get(column) or "").strip()
        if not text:
            raise ValueError("is empty", column)
        return text

    def read(column: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(row.get(column) or "")
        except ValueError as e:
            raise ValueError(str(e), column) from None

    cid = need("id")
    if not _ID.match(cid):
        raise ValueError(f"{cid!r} is not a slug (lower case letters, digits, '-', '.', '_')", "id")
    unit = need("unit")
    if unit not in UNITS:
        raise ValueError(f"must be one of {', '.join(UNITS)}, not {unit!r}", "unit")
    value, low, high = read("value", _number), read("low", _number), read("high", _number)
    note = (row.get("note") or "").strip()
    for column, v in (("value", value), ("low", low), ("high", high)):
        if v is None:
            continue
        if unit == "share" and not 0 <= v <= 1:
            raise ValueError(f"a share must be between 0 and 1 (write 25.9% as 0.259), not {v}", column)
        if unit == "year" and not 1900 <= v <= 2200:
            raise ValueError(f"{v} is not a plausible year", column)
    if value is None and not note:
        raise ValueError("is empty and no note says why", "value")
    if low is not None and value is not None and low > value:
        raise ValueError(f"{low} is above the value {value}", "low")
    if high is not None and value is not None and high < value:
        raise ValueError(f"{high} is below the value {value}", "high")
    as_of, published = read("as_of", _day), read("published", _day)
    if value is not None and as_of is None and published is None:
        raise ValueError("a figure needs a date: as_of or published", "published")
    if as_of and published and as_of > published:
        raise ValueError(f"{as_of} is after the publication date {published}", "as_of")
    url = need("url")
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{url!r} is not an http(s) URL", "url")
    recipe = read("recipe", Recipe.parse)
    if (recipe.metric is Metric.runout) != (unit == "year"):
        raise ValueError(f"{recipe.metric} does not give a {unit}", "recipe")
    return Claim(
        id=cid,
        claim=need("claim"),
        value=value,
        unit=unit,
        low=low,
        high=high,
        as_of=as_of,
        published=published,
        source=need("source"),
        url=url,
        sample=need("sample"),
        definition=need("definition"),
        recipe=recipe,
        note=note,
    )


def parse_claims(text: str, name: str = "claims.csv") -> list[Claim]:
    """Read claims from CSV text (lines starting with ``#`` are comments); :class:`ClaimsError` names the line,
    the claim and the column of the first problem."""
    lines = text.splitlines(keepends=True)
    numbered = [(i, line) for i, line in enumerate(lines, 1) if not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("".join(line for _, line in numbered)))
    header = reader.fieldnames or []
    if not header:
        raise ClaimsError(f"{name}: no header row (expected columns: {', '.join(COLUMNS)})")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ClaimsError(
            f"{name} line {numbered[0][0]}: missing column(s) {', '.join(missing)} (expected: {', '.join(COLUMNS)})"
        )
    extra = [c for c in header if c not in COLUMNS]
    if extra:
        raise ClaimsError(f"{name} line {numbered[0][0]}: unknown column(s) {', '.join(extra)}")
    out: list[Claim] = []
    seen: set[str] = set()
    for row in reader:
        # The reader counts physical lines of the comment-free text: map back to the file's line.
        line = numbered[min(reader.line_num, len(numbered)) - 1][0]
        if None in row:
            raise ClaimsError(f"{name} line {line}: more cells than columns (a comma in an unquoted cell?)")
        where = f"{name} line {line} (claim {(row.get('id') or '').strip() or '?'})"
        try:
            claim = _claim(row)
        except ValueError as e:
            column = e.args[1] if len(e.args) > 1 else "?"
            raise ClaimsError(f"{where}, column {column}: {e.args[0]}") from None
        if claim.id in seen:
            raise ClaimsError(f"{where}, column id: {claim.id!r} is used twice")
        seen.add(claim.id)
        out.append(claim)
    return out


def load_claims(path: str | Path = CLAIMS_FILE) -> list[Claim]:
    """The claims of ``tracker/data/claims.csv`` (or another file of the same columns), validated."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ClaimsError(f"cannot read claims {p}: {e.strerror or e}") from None
    return parse_claims(text, p.name)


# -- our side ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OurDefinition:
    """What our figure counts, made beside it (``text`` is its one rendering)."""

    metric: str
    group: str | None  # the agent or group: "GPTBot", "OpenAI", "training"
    agents: tuple[str, ...]  # its member tokens
    rule: str | None  # root | full
    over: str | None  # sites | reachable | with_robots
    weighting: str  # "sites", a weights label, or "" for a forecast
    scenario: str | None = None
    projection: str | None = None

    @property
    def text(self) -> str:
        """The definition as one paragraph."""
        if self.metric == Metric.runout:
            adjusted = "adjusted for the consent we measure" if self.scenario == "consent_adjusted" else "unadjusted"
            inputs = (
                ""
                if self.projection == "historical"
                else "; the compute-based projection uses our own documented inputs, as Epoch AI's compute series is "
                "not public"
            )
            return (
                f"The median year the largest training dataset reaches the effective stock of public text, from "
                f"our reproduction of Epoch AI's model ({self.projection} projection, {adjusted}{inputs})."
            )
        if len(self.agents) == 1 and self.group == self.agents[0]:
            who = self.agents[0]
        else:
            who = f"at least one of the {len(self.agents)} agents of {self.group} ({', '.join(self.agents)})"
        if self.rule == "full":
            what = f"disallows every probe path for {who} (stance full_block)"
        else:
            what = f"does not let {who} fetch '/'"
        denominator = {
            "sites": "every site observed (an unreachable robots.txt counts in the denominator, never as blocked)",
            "reachable": "the sites whose robots.txt was not unreachable",
            "with_robots": "the sites whose robots.txt was read (absent and unreachable ones left out)",
        }[self.over or "sites"]
        whose = "tokens on sites" if self.weighting != "sites" else "sites"
        weighting = (
            "each site counts once"
            if self.weighting == "sites"
            else f"each site weighted by its tokens ({self.weighting})"
        )
        return (
            f"Share of {whose} whose robots.txt {what} (by a group naming the agent or by "
            f"'User-agent: *'), over {denominator}; {weighting}."
        )

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, with the rendered ``text``."""
        return {**asdict(self), "agents": list(self.agents), "text": self.text}


@dataclass(frozen=True, slots=True)
class OurSample:
    """Which of our sites a figure of ours rests on."""

    label: str  # which sites, said plainly
    sites: int | None  # how many were counted
    date: date | None  # the date the state was taken at: the claim's, or our last observation when it is later
    weighting: str  # "sites", or the weights' label
    weight_measured_share: float | None  # of the weight, the part measured (None unweighted)

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready."""
        return {**asdict(self), "date": self.date.isoformat() if self.date else None}


@dataclass(frozen=True, slots=True)
class ClaimCells:
    """A comparison as text, formatted once for every face: the claim, its source, theirs and as of when, ours and
    on what date and how many sites, the difference (ours minus theirs), and what ours rests on (or what is
    missing to compute it)."""

    claim: str
    source: str
    theirs: str
    as_of: str
    ours: str
    on: str
    sites: str
    delta: str
    rests_on: str

    def by_heading(self) -> dict[str, str]:
        """As a table row: column heading → text ("as of", "Δ", "ours rests on" …)."""
        return {
            "claim": self.claim,
            "source": self.source,
            "theirs": self.theirs,
            "as of": self.as_of,
            "ours": self.ours,
            "on": self.on,
            "sites": self.sites,
            "Δ": self.delta,
            "ours rests on": self.rests_on,
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """A claim beside our figure under the same definition, or beside what is missing to compute it."""

    claim: Claim
    ours: float | None
    sample: OurSample | None
    definition: OurDefinition
    missing: str | None  # None when ``ours`` was computed

    @property
    def difference(self) -> float | None:
        """Ours minus theirs (None unless both exist)."""
        if self.ours is None or self.claim.value is None:
            return None
        return round(self.ours - self.claim.value, 6)

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, nested."""
        return {
            "claim": self.claim.as_dict(),
            "ours": self.ours,
            "difference": self.difference,
            "sample": self.sample.as_dict() if self.sample else None,
            "definition": self.definition.as_dict(),
            "missing": self.missing,
        }

    def cells(self) -> ClaimCells:
        """The row every face shows (CLI, report, dashboard), formatted once: the claim, theirs, ours, on what, the
        difference — or what is missing."""
        unit = self.claim.unit
        s = self.sample
        return ClaimCells(
            claim=self.claim.id,
            source=self.claim.source,
            theirs=format_value(self.claim.value, unit),
            as_of=self.claim.as_of.isoformat() if self.claim.as_of else "",
            ours=format_value(self.ours, unit),
            on=s.date.isoformat() if s and s.date else "",
            sites=f"{s.sites:,}" if s and s.sites is not None else "",
            delta=format_difference(self.difference, unit),
            rests_on=f"missing: {self.missing}" if self.missing else (s.label if s else self.definition.text),
        )

    def as_row(self) -> ComparisonRow:
        """One flat row (for CSV and tables): theirs, ours, the difference, where ours comes from."""
        s = self.sample
        return ComparisonRow(
            id=self.claim.id,
            source=self.claim.source,
            unit=self.claim.unit,
            theirs=self.claim.value,
            low=self.claim.low,
            high=self.claim.high,
            as_of=self.claim.as_of.isoformat() if self.claim.as_of else None,
            published=self.claim.published.isoformat() if self.claim.published else None,
            ours=self.ours,
            difference=self.difference,
            our_date=s.date.isoformat() if s and s.date else None,
            our_sites=s.sites if s else None,
            our_sample=s.label if s else None,
            weighting=s.weighting if s else None,
            weight_measured_share=s.weight_measured_share if s else None,
            our_definition=self.definition.text,
            missing=self.missing,
            url=self.claim.url,
        )


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """A comparison as one flat row (the claims CSV, the report's claims.csv): theirs, ours, the difference, where
    ours comes from — None where ours was not computed."""

    id: str
    source: str
    unit: str
    theirs: float | None
    low: float | None
    high: float | None
    as_of: str | None
    published: str | None
    ours: float | None
    difference: float | None
    our_date: str | None
    our_sites: int | None
    our_sample: str | None
    weighting: str | None
    weight_measured_share: float | None
    our_definition: str
    missing: str | None
    url: str

    def as_dict(self) -> dict[str, Json]:
        """The row, its columns in order."""
        return asdict(self)


def format_value(value: float | None, unit: str) -> str:
    """A claim's or our value as a reader sees it: a share as a percentage, a year as a year, "—" when absent."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if value == int(value):
        return f"{value:g}"  # a year as published
    from tracker.analysis.forecast.model import month_label
    from tracker.analysis.forecast.stock import year_month

    return f"{month_label(year_month(value))} ({value:.2f})"  # ours: a calendar month, and the decimal year


def format_difference(value: float | None, unit: str) -> str:
    """Ours minus theirs: in points of share, or in years."""
    if value is None:
        return ""
    return f"{value * 100:+.1f} pt" if unit == "share" else f"{value:+.1f} yr"


#: Our run-out year for a runout recipe (its scenario and projection), or None.
RunoutYear = Callable[[Recipe], float | None]


def runout_years(engine: Engine, registry: AgentRegistry, params: ForecastParams | None = None) -> RunoutYear:
    """Our run-out year for a recipe: the forecast's median (``tracker.analysis.forecast``) with the given — by
    default the
    default — parameters and the recipe's projection; unadjusted, or adjusted by the restriction we measure. Each
    (scenario, projection) is computed once."""
    from tracker.analysis.forecast import draw, exhaustion, forecast, load_params

    base = params or load_params()
    seen: dict[tuple[str | None, str | None], float | None] = {}

    def year(recipe: Recipe) -> float | None:
        key = (recipe.scenario, recipe.projection)
        if key not in seen:
            p = replace(base, demand=replace(base.demand, projection=recipe.projection or base.demand.projection))
            if recipe.scenario == "consent_adjusted":
                adjusted = forecast(engine, registry, p).exhaustion_consent_adjusted
                seen[key] = adjusted.median if adjusted else None
            else:
                seen[key] = exhaustion(draw(p)).median
        return seen[key]

    return year


@dataclass(frozen=True, slots=True)
class _Selection:
    group: str
    agents: tuple[str, ...]
    by: GroupBy


def _select(registry: AgentRegistry, selector: str) -> _Selection | str:
    """The agents a recipe names, as restriction_series groups them; a string says why there are none."""
    kind, _, name = selector.partition(":")
    if kind == "company" and name:
        members = registry.select(company=name)
        if not members:
            return f"no agent of company {name!r} in the registry"
        return _Selection(members[0].company, tuple(a.token for a in members), GroupBy.company)
    if kind == "purpose" and name:
        members = registry.for_use(name)  # training: the training crawlers and the control tokens
        if not members:
            return f"no agent with purpose {name!r} in the registry"
        return _Selection(name, tuple(a.token for a in members), GroupBy.purpose)
    known = registry.get(selector)
    token = known.token if known else selector
    return _Selection(token, (token,), GroupBy.agent)


@dataclass(frozen=True, slots=True)
class _Scope:
    """Where a series is computed: lists, category, weights, and how to describe it."""

    label: str
    lists: tuple[str, ...] | None = None
    category: str | None = None
    weights: Weights | None = None
    sites: int | None = None  # when the sample is not the row's site count (c4_head: the measured sites)


def _top_scope(engine: Engine, n: int) -> _Scope | str:
    """The top n sites: a tracked list of at most n ranked sites (a ranking's head; its ranks may skip entries the
    list could not use), all sites when they are such a set, or all sites said plainly when no ranks are stored."""
    candidates = []
    for info in catalog.lists(engine):
        members = catalog.list_members(engine, info.id)
        ranks = [r for _, r, _ in members if r is not None]
        if ranks and len(members) <= n and len(ranks) == len(members):
            candidates.append((info.kind == "top", len(ranks), info.name, min(ranks), max(ranks)))
    if candidates:
        _, size, name, best, worst = max(candidates)
        return _Scope(f"the tracked list '{name}' ({size:,} sites, ranks {best:,}–{worst:,})", lists=(name,))
    sites = queries.sites_for_weights(engine)
    ranks = [s.rank for s in sites if s.rank is not None]
    if not ranks:
        return _Scope(f"all sites in the database: no ranks are stored, so 'top {n:,}' could not be applied")
    if len(sites) <= n and len(ranks) == len(sites):
        return _Scope(f"all {len(ranks):,} sites in the database (all ranked, ranks {min(ranks):,}–{max(ranks):,})")
    return (
        f"no tracked list of at most {n:,} ranked sites, and the database has more: track one with "
        f"`consent-tracker sites add --tranco {n}` (or a ranked file with --kind top --top {n})"
    )


def _weights(engine: Engine, column: str) -> Weights | str:
    if not catalog.weight_names(engine):
        return (
            "no token weights stored: run `consent-tracker weights import dpi_domain_token_counts.csv` "
            "(the Consent in Crisis token counts)"
        )
    try:
        return stored_weights(engine, column)
    except TrendError as e:
        return str(e)


def _scope(engine: Engine, recipe: Recipe) -> tuple[_Scope | None, list[str]]:
    """The sample and weights a recipe asks for, or the reasons they are missing."""
    reasons: list[str] = []
    weights: Weights | None = None
    if recipe.weighting.startswith("tokens:"):
        got = _weights(engine, recipe.weighting.removeprefix("tokens:"))
        if isinstance(got, str):
            reasons.append(got)
        else:
            weights = got
    kind, _, arg = recipe.sample.partition(":")
    scope: _Scope | None = None
    if kind == "all":
        scope = _Scope("all sites in the database")
    elif kind == "top":
        got_top = _top_scope(engine, int(arg))
        if isinstance(got_top, str):
            reasons.append(got_top)
        else:
            scope = got_top
    elif kind == "category":
        if any(s.category == arg for s in queries.sites_for_weights(engine)):
            scope = _Scope(f"the sites labelled '{arg}' in the database", category=arg)
        else:
            reasons.append(
                f"no {arg} category labels: label sites with `consent-tracker categories import FILE` "
                "(or `categories assign`)"
            )
    elif kind == "c4_head":
        if weights is None:
            if not reasons:
                reasons.append("C4 token counts are needed to find C4's head: run `consent-tracker weights import`")
        else:
            measured = Weights(
                f"{weights.label}, measured counts only",
                {s: v for s, v in weights.values.items() if s in weights.measured},
                weights.measured,
            )
            scope = _Scope(
                f"the {len(measured.measured):,} sites in the database with a measured C4 count (which of "
                f"them are among C4's top {int(arg):,} domains is not stored)",
                weights=measured,
                sites=len(measured.measured),
            )
    else:  # c4_all
        reasons.append(
            "no random sample of C4's domains in the database: a C4-wide share extrapolates from "
            "randomly drawn C4 domains, and ours are top-ranked sites"
        )
    if scope is not None and weights is not None and scope.weights is None:
        scope = _Scope(scope.label, scope.lists, scope.category, weights, scope.sites)
    return (scope if not reasons else None), reasons


def _unsupported(recipe: Recipe) -> str | None:
    """Why a trend row cannot give the recipe's share (a weighted share the rows carry no weight for), or None."""
    if recipe.weighting == "sites":
        return None
    if recipe.over == "with_robots":
        return (
            "a token-weighted share over the sites with a robots.txt: trend rows carry no weight of the sites "
            "without one"
        )
    if recipe.rule == "full" and recipe.over == "reachable":
        return "a token-weighted full-restriction share over reachable sites: trend rows carry no such weight"
    return None


def _share(row: TrendRow, recipe: Recipe) -> float | str:
    """The recipe's share from one trend row (a supported recipe), or why the row gives none."""
    if recipe.weighting != "sites":
        if row.sites_weight <= 0:
            return f"the sample weighs nothing on {row.period_end}"
        if recipe.rule == "full":
            return row.full_block_weight / row.sites_weight
        return row.blocked_share if recipe.over == "sites" else row.blocked_share_reachable
    numerator = row.full_block if recipe.rule == "full" else row.blocked
    denominator = {
        "sites": row.sites,
        "reachable": row.sites - row.unreachable,
        "with_robots": row.sites - row.unreachable - row.no_robots,
    }[recipe.over]
    if denominator <= 0:
        return f"no site of the sample had a robots.txt on {row.period_end}"
    return numerator / denominator


def _compare_share(
    engine: Engine, registry: AgentRegistry, claim: Claim, bounds: tuple[date, date] | None
) -> Comparison:
    recipe = claim.recipe
    selected = _select(registry, recipe.agents or "")
    definition = OurDefinition(
        metric=recipe.metric.value,
        group=selected.group if isinstance(selected, _Selection) else recipe.agents,
        agents=selected.agents if isinstance(selected, _Selection) else (),
        rule=recipe.rule,
        over=recipe.over,
        weighting=recipe.weighting,
    )
    reasons: list[str] = [selected] if isinstance(selected, str) else []
    scope, missing = _scope(engine, recipe)
    reasons += missing
    day = recipe.date or claim.as_of
    used: date | None = None
    if day is None:
        reasons.append("the claim gives no date to compare at")
    elif bounds is None:
        reasons.append("no robots.txt observation in the database")
    elif day < bounds[0]:
        reasons.append(f"no observation on or before {day} (our history starts {bounds[0]})")
    else:
        used = min(day, bounds[1])
    weighted = recipe.weighting != "sites"
    unsupported = _unsupported(recipe)
    if unsupported:
        reasons.append(unsupported)
    if reasons or scope is None or used is None or not isinstance(selected, _Selection):
        return Comparison(claim, None, None, definition, "; ".join(dict.fromkeys(reasons)))
    rows = restriction_series(
        engine,
        registry,
        list(selected.agents),
        freq=Freq.day,
        since=used,
        until=used,
        by=selected.by,
        category=scope.category,
        weight=Weighting.tokens if weighted else Weighting.none,
        weights=scope.weights,
        lists=list(scope.lists) if scope.lists else None,
    )
    row = next((r for r in rows if r.agent == selected.group), None)
    if row is None:
        return Comparison(claim, None, None, definition, f"no site of the sample observed on {used}")
    definition = OurDefinition(
        definition.metric, definition.group, definition.agents, recipe.rule, recipe.over, row.weighting
    )
    share = _share(row, recipe)
    sample = OurSample(
        label=scope.label,
        sites=scope.sites if scope.sites is not None else row.sites,
        date=used,
        weighting=row.weighting,
        weight_measured_share=row.weight_measured_share if weighted else None,
    )
    if isinstance(share, str):
        return Comparison(claim, None, sample, definition, share)
    return Comparison(claim, round(share, 6), sample, definition, None)


def _compare_runout(claim: Claim, forecast: RunoutYear) -> Comparison:
    recipe = claim.recipe
    definition = OurDefinition(recipe.metric.value, None, (), None, None, "", recipe.scenario, recipe.projection)
    value = forecast(recipe)
    if value is None:
        return Comparison(
            claim,
            None,
            None,
            definition,
            f"the forecast gave no run-out year ({recipe.projection} projection, {recipe.scenario}): "
            "past its horizon, or not computed",
        )
    return Comparison(claim, round(float(value), 3), None, definition, None)


def compare(
    engine: Engine,
    registry: AgentRegistry,
    claims: Sequence[Claim] | None = None,
    *,
    forecast: RunoutYear | None = None,
) -> list[Comparison]:
    """Each claim (default: ``tracker/data/claims.csv``) beside our figure under its definition, or what is missing.

    ``forecast`` gives our run-out year for a runout recipe (default: :func:`runout_years`, the forecast with its
    default parameters, as the ``forecast`` command prints it)."""
    claims = load_claims() if claims is None else claims
    forecast = forecast or runout_years(engine, registry)
    bounds = queries.observation_bounds(engine)
    out: list[Comparison] = []
    for claim in claims:
        if claim.recipe.metric is Metric.runout:
            out.append(_compare_runout(claim, forecast))
        else:
            out.append(_compare_share(engine, registry, claim, bounds))
    return out
