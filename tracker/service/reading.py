"""The read use cases: restriction trends, signal adoption, one site, change events, the latest-state export, the
agent registry, tracked lists, category coverage and a crawl run's progress. None of them writes."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from tracker.analysis.trends import (
    DEFINITIONS,
    Definition,
    SignalCoverage,
    SignalRow,
    TrendRow,
    define,
    restriction_series,
    signal_coverage,
    signal_series,
)
from tracker.errors import NotFoundError, ParameterError
from tracker.records.json import Json, JsonObject
from tracker.records.vocabulary import CHANGE_TYPES, ExportFormat, Freq, GroupBy, Rule, Weighting
from tracker.rules.agents import AgentRegistry
from tracker.store.runs import RunInfo

__all__ = [
    "CategoriesReport",
    "Changes",
    "CrawlStatus",
    "DataVersion",
    "SampleInputs",
    "SignalTrends",
    "Trends",
    "categories_report",
    "changes",
    "crawl_status",
    "data_version",
    "export_latest",
    "export_latest_to",
    "finished_runs_since",
    "has_site",
    "headline",
    "is_simulated",
    "last_run",
    "list_members",
    "mark_simulated",
    "observation_bounds",
    "robots_diff",
    "robots_versions",
    "sample_inputs",
    "signal_observation",
    "signal_trends",
    "site",
    "site_search",
    "sites_list",
    "sites_of_run",
    "tracked",
    "trends",
    "unfinished_runs",
]


def _category(category: str | None) -> str | None:
    """A category asked for, checked against the vocabulary: an unknown one is an error naming the valid ones (never
    an empty answer that reads as "no observations")."""
    from tracker.records.vocabulary import CATEGORIES

    if category is not None and category not in CATEGORIES:
        raise ParameterError(
            f"category: {category!r} is not a category (categories: {', '.join(CATEGORIES)})", "category"
        )
    return category


def _max_age(max_age: int) -> int:
    if max_age < 0:
        raise ParameterError(f"max_age must be 0 or more days, not {max_age}", "max_age")
    return max_age


@dataclass(frozen=True, slots=True)
class Trends:
    """A restriction series (one row per period and group), each group's definition, and the asked tokens the
    registry does not know (read as unnamed product tokens)."""

    rows: list[TrendRow]
    definitions: list[Definition]
    unknown_agents: tuple[str, ...] = ()

    def extra(self) -> dict[str, Json]:
        """What ``--format json`` prints beside the rows."""
        return {"definitions": DEFINITIONS, "groups": {d.figure: d.as_dict() for d in self.definitions}}

    def as_dict(self) -> dict[str, Json]:
        """The ``trends --format json`` document (and the API's ``/v1/trends``): the definitions, then the rows."""
        return {**self.extra(), "rows": [r.as_dict() for r in self.rows]}

    def page(self, offset: int, limit: int) -> tuple[Trends, bool]:
        """The rows from ``offset``, at most ``limit`` of them (the definitions whole), and whether more follow."""
        return replace(self, rows=self.rows[offset : offset + limit]), len(self.rows) > offset + limit


def trends(
    engine: Engine,
    registry: AgentRegistry,
    *,
    agents: list[str] | None = None,
    freq: Freq = Freq.month,
    since: date | None = None,
    until: date | None = None,
    by: GroupBy = GroupBy.agent,
    rule: Rule = Rule.any,
    category: str | None = None,
    lists: list[str] | None = None,
    weight: Weighting = Weighting.none,
    weights: Path | None = None,
    weight_column: str | None = None,
    max_age: int = 90,
) -> Trends:
    """Restriction over time: per period, the sites blocking each agent (or group, ``by``), weighted by ``weight``:
    token weights from the ``weights`` file, else the stored ones (``weights import``)."""
    from tracker.analysis.weights import Weights, load_weights, stored_weights, weight_label

    _max_age(max_age)
    _category(category)
    weight, by, freq, rule = Weighting(weight), GroupBy(by), Freq(freq), Rule(rule)
    table: dict[str, float] | Weights | None = None
    label = weight.value
    if weight is Weighting.tokens and weights is not None:
        table, label = load_weights(weights, weight_column), weight_label(weights, weight_column)
    elif weight is Weighting.tokens:
        table = stored_weights(engine, weight_column)  # `weights import`: measured and filled-in values
        label = table.label
    tokens = list(agents or ([] if by is not GroupBy.agent else ["GPTBot"]))
    _, unknown = registry.resolve(tokens)
    rows = restriction_series(
        engine,
        registry,
        tokens,
        freq=freq,
        since=since,
        until=until,
        by=by,
        category=category,
        weight=weight,
        weights=table,
        weight_label=label,
        max_age_days=max_age,
        lists=lists,
        rule=rule,
    )
    groups = list(dict.fromkeys(r.agent for r in rows))
    return Trends(rows, [define(registry, rows, group=g, agents=tokens, by=by) for g in groups], tuple(unknown))


@dataclass(frozen=True, slots=True)
class SignalTrends:
    """Adoption of signals over time, and how far each signal was observed at all (never, or from some of its
    resources only: never drawn as a zero)."""

    rows: list[SignalRow]
    coverage: list[SignalCoverage]

    @property
    def partial(self) -> list[SignalCoverage]:
        """The signals some of whose resources were never observed."""
        return [c for c in self.coverage if c.missing]

    def extra(self) -> dict[str, Json]:
        """What ``--format json`` prints beside the rows."""
        return {
            "never_observed": [c.as_dict() for c in self.partial if c.never],
            "partly_observed": [c.as_dict() for c in self.partial if not c.never],
        }

    def as_dict(self) -> dict[str, Json]:
        """The ``trends --signal … --format json`` document (and the API's ``/v1/trends?signals=…``)."""
        return {**self.extra(), "rows": [r.as_dict() for r in self.rows]}

    def page(self, offset: int, limit: int) -> tuple[SignalTrends, bool]:
        """The rows from ``offset``, at most ``limit`` of them, and whether more follow."""
        return replace(self, rows=self.rows[offset : offset + limit]), len(self.rows) > offset + limit


def signal_trends(
    engine: Engine,
    *,
    signals: list[str],
    freq: Freq = Freq.month,
    since: date | None = None,
    until: date | None = None,
    category: str | None = None,
    max_age: int = 90,
) -> SignalTrends:
    """Adoption of each signal per period, over the sites whose reading is known by then."""
    _category(category)
    rows = signal_series(
        engine, signals, freq=freq, since=since, until=until, category=category, max_age_days=_max_age(max_age)
    )
    return SignalTrends(rows, signal_coverage(engine, signals))


def signal_observation(engine: Engine, signals: list[str]) -> list[SignalCoverage]:
    """How far each signal was observed at all: never (no line to draw), or from some of its resources only."""
    return signal_coverage(engine, signals)


def site(engine: Engine, registry: AgentRegistry, domain: str, *, agents: list[str] | None = None) -> Any:
    """Everything known about one site now, and what each version changed (tracker.analysis.latest.site_history);
    NotFoundError if the store has never seen it."""
    from tracker.analysis.latest import site_agents, site_history

    info = site_history(engine, registry, domain.strip().lower(), site_agents(registry, agents))
    if info is None:
        raise NotFoundError(f"{domain} is not in the database (crawl or import it first)")
    return info


def site_search(engine: Engine, prefix: str = "", *, limit: int = 50) -> list[str]:
    """Domains starting with ``prefix`` (a site search box), best rank first."""
    from tracker.store import queries

    return queries.site_domains(engine, prefix.strip().lower(), limit)


def robots_versions(engine: Engine, domain: str) -> list[Any]:
    """A site's robots.txt versions (tracker.store.queries.StoredResource), oldest first, with their bodies."""
    from tracker.pipeline.changes import robots_versions as versions

    return versions(engine, domain.strip().lower())


def robots_diff(a: Any, b: Any) -> str:
    """A unified diff of two of :func:`robots_versions`, as plain text (never rendered as HTML)."""
    from tracker.pipeline.changes import robots_diff as diff

    return diff(a, b)


@dataclass(frozen=True, slots=True)
class Changes:
    """Change events, newest first, and the asked agents that change events do not follow (the core panel's are
    followed; ``site`` reads any agent's history)."""

    events: list[Any]  # tracker.pipeline.changes.Event
    unfollowed_agents: tuple[str, ...] = field(default=())
    #: whether more events match beyond ``limit`` (the next page's first is at ``offset + limit``)
    more: bool = False

    def as_dict(self) -> dict[str, Json]:
        """The ``changes --format json`` document (and the API's ``/v1/changes``): how many, and the events."""
        return {"count": len(self.events), "rows": [e.as_dict() for e in self.events]}


def changes(
    engine: Engine,
    *,
    since: date | None = None,
    until: date | None = None,
    site: str | None = None,
    agents: list[str] | None = None,
    category: str | None = None,
    signals: list[str] | None = None,
    changes: list[str] | None = None,
    limit: int | None = 200,
    diffs: bool = False,
    offset: int = 0,
) -> Changes:
    """What changed: each site's new stance per agent and each signal adopted or dropped (``changes``: only these
    types), newest first; ``limit`` 0 or None: all; ``offset``: skip that many first (a page)."""
    from tracker.pipeline.changes import CHANGE_AGENTS, list_events

    _category(category)
    bad = [c for c in changes or [] if c not in CHANGE_TYPES]
    if bad:
        raise ParameterError(f"changes: {bad[0]!r} is not one of {', '.join(CHANGE_TYPES)}", "changes")
    if offset < 0:
        raise ParameterError(f"offset must be 0 or more, not {offset}", "offset")
    if limit is not None and limit < 0:
        raise ParameterError(f"limit must be 0 (all) or more, not {limit}", "limit")
    followed = {a.lower() for a in CHANGE_AGENTS}
    events = list_events(
        engine,
        since=since,
        until=until,
        site=site,
        agents=agents,
        category=category,
        signals=signals,
        changes=changes,  # type: ignore[arg-type]
        limit=limit + 1 if limit else None,  # one more than asked: whether another page follows
        diffs=diffs,
        offset=offset,
    )
    more = bool(limit) and len(events) > (limit or 0)
    return Changes(
        events[:limit] if limit else events, tuple(a for a in agents or [] if a.lower() not in followed), more
    )


def export_latest(
    engine: Engine, registry: AgentRegistry, out: IO[str], *, fmt: ExportFormat = ExportFormat.jsonl
) -> int:
    """One record per site (its robots.txt status now, every registry agent's verdict and stance, the signals),
    written to ``out``; returns how many."""
    from tracker.analysis.latest import write_latest

    return write_latest(engine, registry, out, fmt)


def export_latest_to(
    engine: Engine, registry: AgentRegistry, output: Path, *, fmt: ExportFormat = ExportFormat.jsonl
) -> int:
    """:func:`export_latest` into a file, replaced only once complete."""
    tmp = output.with_suffix(output.suffix + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            n = export_latest(engine, registry, fh, fmt=fmt)
        tmp.replace(output)
    except OSError as e:
        raise ParameterError(f"output: cannot write {output}: {e.strerror or e}", "output") from None
    return n


def sites_list(engine: Engine) -> list[Any]:
    """Every tracked list (tracker.store.catalog.ListInfo) with its size."""
    from tracker.store import catalog

    return catalog.lists(engine)


def list_members(engine: Engine, list_name: str) -> tuple[Any, list[tuple[str, int | None, str | None]]]:
    """A tracked list and its sites (domain, rank, category), best rank first; NotFoundError if no such list."""
    from tracker.store import catalog

    found = {i.name: i for i in catalog.lists(engine)}
    if list_name not in found:
        raise NotFoundError(f"no list named {list_name!r} (lists: {', '.join(found) or 'none'})")
    return found[list_name], catalog.list_members(engine, found[list_name].id)


@dataclass(frozen=True, slots=True)
class CategoriesReport:
    """How our own category rules agree with the reference annotations, and each source's coverage of a list."""

    agreement: Any  # tracker.analysis.categories.Agreement
    sites: int
    coverage: Counter[str]


def categories_report(engine: Engine, *, list_name: str | None = None) -> CategoriesReport:
    """Agreement with the annotations, and how many of the tracked sites (of one list) each source labels."""
    from tracker.analysis.categories import agreement, coverage
    from tracker.pipeline.tracking import tracked_entries

    domains = [e.domain for e in tracked_entries(engine, [list_name] if list_name else None)]
    return CategoriesReport(agreement(engine), len(domains), coverage(engine, domains))


@dataclass(frozen=True, slots=True)
class CrawlStatus:
    """A crawl run (tracker.store.runs.RunInfo) and its distributed jobs by status (empty when not distributed)."""

    info: RunInfo
    jobs: dict[str, int]

    @property
    def total(self) -> int | None:
        """The sites the run set out to crawl (None if it did not say)."""
        return self.info.planned

    def as_dict(self) -> dict[str, Json]:
        """What ``crawl status --format json`` prints."""
        jobs: dict[str, Json] = dict(self.jobs)
        return {**self.info.as_dict(), "total": self.info.params.get("sites"), "jobs": jobs}


def crawl_status(engine: Engine, run: int) -> CrawlStatus:
    """How far a crawl run has got; NotFoundError if there is no such run."""
    from tracker.store.runs import queue_counts, run_info

    info = run_info(engine, run)
    if info is None:
        raise NotFoundError(f"no crawl run #{run} in this database")
    return CrawlStatus(info, queue_counts(engine, run))


def unfinished_runs(engine: Engine, source: str) -> list[int]:
    """The runs of a source (e.g. a scheduled job's) still running or interrupted, newest first."""
    from tracker.store.runs import unfinished_runs as find

    return find(engine, source)


def last_run(engine: Engine, source: str) -> Any:
    """The last run of a source (tracker.store.runs.RunInfo), or None."""
    from tracker.store.runs import last_run as find

    return find(engine, source)


def sites_of_run(engine: Engine, run_id: int) -> list[str]:
    """The domains whose versions a run recorded."""
    from tracker.store.changelog import sites_of_run as ids
    from tracker.store.queries import domains_of

    return domains_of(engine, ids(engine, run_id))


def headline(
    engine: Engine, registry: AgentRegistry, *, lists: list[str] | None = None, category: str | None = None
) -> Any:
    """The overview's figures (tracker.analysis.headlines.headline)."""
    from tracker.analysis.headlines import headline as compute

    return compute(engine, registry, lists=lists, category=category)


def is_simulated(engine: Engine) -> bool:
    """Whether the store holds the demo's simulated data (every page, feed and report must say so)."""
    from tracker.store import catalog

    return catalog.is_simulated(engine)


def mark_simulated(document: JsonObject, simulated: bool) -> JsonObject:
    """A JSON document (an object) as every face gives it: with ``"simulated": true`` first when the store holds the
    demo's simulated data (:func:`is_simulated`), else as it is."""
    return {"simulated": True, **document} if simulated else document


def observation_bounds(engine: Engine) -> Any:
    """The first and last observation in the store, or None when it holds none yet."""
    from tracker.store import queries

    return queries.observation_bounds(engine)


def finished_runs_since(engine: Engine, kind: str, since: Any) -> Any:
    """The runs of a kind ('live', 'wayback', …) finished since a moment (None: ever)."""
    from tracker.store.runs import finished_runs_since as find

    return find(engine, kind, since)


def tracked(engine: Engine, lists: list[str] | None = None) -> list[Any]:
    """The tracked sites (tracker.rules.sitelist.SiteEntry) of these lists, or of every list, best rank first."""
    from tracker.pipeline.tracking import tracked_entries

    return tracked_entries(engine, lists)


@dataclass(frozen=True, slots=True)
class DataVersion:
    """Which data a read answers from: the schema, this tracker's version, the agent registry, the last run and the
    last observation. ``tag`` changes whenever any of it does (or the store is written at all): what an HTTP cache
    validates against (the API's ``ETag``)."""

    schema: str | None
    tracker_version: str
    last_run: int | None
    last_run_status: str | None
    last_finished: datetime | None
    data_through: datetime | None
    tag: str

    def as_dict(self) -> dict[str, Json]:
        """The JSON form (the API's ``/v1``)."""
        return {
            "schema": self.schema,
            "tracker_version": self.tracker_version,
            "last_run": self.last_run,
            "last_run_status": self.last_run_status,
            "last_finished": self.last_finished.isoformat() if self.last_finished else None,
            "data_through": self.data_through.isoformat() if self.data_through else None,
            "tag": self.tag,
        }


def data_version(engine: Engine, registry: AgentRegistry) -> DataVersion:
    """The store's :class:`DataVersion` as of now (a few indexed reads: cheap enough to ask every second)."""
    from tracker import __version__
    from tracker.store import queries

    stamp = queries.data_stamp(engine)
    digest = hashlib.sha256(
        json.dumps([__version__, list(stamp), registry.to_json()], default=str, sort_keys=True).encode()
    ).hexdigest()
    run = stamp.last_run
    return DataVersion(
        schema=stamp.schema,
        tracker_version=__version__,
        last_run=run[0] if run else None,
        last_run_status=run[1] if run else None,
        last_finished=stamp.last_finished,
        data_through=stamp.data_through,
        tag=digest[:32],
    )


@dataclass(frozen=True, slots=True)
class SampleInputs:
    """What the store holds for weighting and filtering a figure: the token-weight columns stored, the sites with a
    rank, the sites with a category."""

    weights: tuple[str, ...]
    ranked: int
    categorised: int

    def missing(self, *, category: str | None = None, weighting: Weighting = Weighting.none) -> str | None:
        """Why a figure of this category and weighting cannot be computed here, with the command that fixes it
        (None: it can be)."""
        if category is not None and not self.categorised:
            return (
                f"No site has a category yet, so none is in '{category}': "
                "`consent-tracker categories assign` labels the sites (the curated categories and the domain's "
                "suffix), `consent-tracker categories import FILE` adds yours."
            )
        if weighting is Weighting.tokens and not self.weights:
            return (
                "No token weights are stored, so nothing can be weighted by tokens: "
                "`consent-tracker weights import FILE` (a CSV of domain and token count, e.g. "
                "../shared/corpus/dpi_domain_token_counts.csv)."
            )
        if weighting is Weighting.rank and not self.ranked:
            return (
                "No site has a rank, so nothing can be weighted by 1/rank: `consent-tracker sites add --tranco 1000` "
                "(or `sites add FILE --kind top` with a ranked list) gives the sites their ranks."
            )
        return None


def sample_inputs(engine: Engine) -> SampleInputs:
    """What the store holds for weighting and filtering (a few indexed reads)."""
    from tracker.store import catalog

    names, ranked, categorised = catalog.sample_inputs(engine)
    return SampleInputs(tuple(names), ranked, categorised)


def has_site(engine: Engine, domain: str) -> bool:
    """Whether the store has ever seen this site (one indexed lookup)."""
    from tracker.store import queries

    return queries.find_site(engine, domain.strip().lower()) is not None
