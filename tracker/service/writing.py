"""The write use cases: crawl, backfill and import history; store token weights and category labels; track sites;
refresh the agent registry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker.config.settings import Settings
from tracker.errors import ParameterError
from tracker.records.json import Json
from tracker.records.vocabulary import RESOURCE_KINDS, Freq
from tracker.rules.agents import AgentRegistry
from tracker.rules.sitelist import SiteEntry
from tracker.service.inputs import WAYBACK_START

__all__ = [
    "AgentsSync",
    "BatchResult",
    "OpenedRun",
    "SitesAdded",
    "agents_sync",
    "backfill",
    "backfill_config",
    "categories_assign",
    "categories_import",
    "close_if_complete",
    "crawl",
    "crawl_batch",
    "crawl_config",
    "import_archive",
    "open_crawl_run",
    "sites_add",
    "sites_remove",
    "track_tranco",
    "weights_import",
]


def crawl_config(
    settings: Settings,
    *,
    resources: Sequence[str] = RESOURCE_KINDS,
    connect_to: Sequence[str] = (),
    ca_bundle: str | None = None,
) -> Any:
    """How to crawl (tracker.pipeline.crawl.CrawlConfig): limits, politeness and network options from the resolved
    settings (concurrency, delay, retries, timeout, total-timeout, user-agent, allow-private …), the ``resources``
    to fetch, ``connect_to`` mappings (curl's HOST:PORT:ADDR:PORT) and a CA bundle."""
    from tracker.fetch.http import ConnectTo
    from tracker.pipeline.crawl import CrawlConfig

    return CrawlConfig.from_settings(
        settings,
        resources=tuple(k.strip() for k in resources if k.strip()),
        connect_to=[ConnectTo.parse(c) for c in connect_to],
        ca_bundle=ca_bundle,
    )


async def crawl(
    engine: Engine,
    sites: Sequence[SiteEntry],
    config: Any,
    *,
    source: str,
    resume: bool = False,
    progress: Callable[[Any], None] | None = None,
    offline_after: int = 0,
) -> Any:
    """Crawl the sites into the store as one run (tracker.pipeline.crawl.run_crawl); return its summary.
    ``offline_after`` N > 0: stop with NetworkDown, the run ``failed``, when none of the first N sites is reached."""
    from tracker.pipeline.crawl import run_crawl

    return await run_crawl(
        engine, sites, config, source=source, resume=resume, progress=progress, offline_after=offline_after
    )


def backfill_config(
    settings: Settings,
    *,
    since: date | None = None,
    until: date | None = None,
    freq: Freq = Freq.month,
    connect_to: Sequence[str] = (),
    ca_bundle: str | None = None,
) -> Any:
    """What to backfill and how politely (tracker.pipeline.backfill.BackfillConfig), from the resolved settings
    (archive-url, archive-rate, timeout, user-agent, allow-private …): ``since`` (not before the archive's start)
    to ``until`` (default today), one capture per ``freq``."""
    from tracker.fetch.http import ConnectTo
    from tracker.pipeline.backfill import BackfillConfig

    if since is not None and since < WAYBACK_START:
        raise ParameterError(
            f"since {since}: the Wayback Machine's archive starts in {WAYBACK_START.year}; "
            f"give {WAYBACK_START.year}-01 or later",
            "since",
        )
    return BackfillConfig.from_settings(
        settings,
        since=since,
        until=until or datetime.now(UTC).date(),
        freq=freq,
        ca_bundle=ca_bundle,
        connect_to=[ConnectTo.parse(c) for c in connect_to],
    )


async def backfill(
    engine: Engine, sites: Sequence[SiteEntry], config: Any, *, progress: Callable[[Any, str], None] | None = None
) -> Any:
    """Backfill the sites' robots.txt history from the archive as one run (tracker.pipeline.backfill); return its
    report."""
    from tracker.pipeline.backfill import backfill as run

    return await run(engine, sites, config, progress=progress)


def import_archive(
    engine: Engine,
    directory: Path,
    *,
    until: date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Any:
    """Import a dated robots.txt archive (``<domain>/<YYYY-MM-DD>.txt``), idempotently; return its report."""
    from tracker.pipeline.archive_import import import_archive as run

    return run(engine, directory, until=until, progress=progress)


def weights_import(engine: Engine, file: Path, *, column: str | None = None, fill: str = "rank") -> Any:
    """Store a file's token counts per site and a documented fallback for the others (tracker.analysis.weights)."""
    from tracker.analysis.weights import import_weights

    return import_weights(engine, file, column=column, fill=fill)


def categories_import(engine: Engine, file: Path, *, annotations: bool = False) -> Any:
    """Import category labels (yours, or the reference study's annotations), then re-assign categories."""
    from tracker.analysis.categories import import_labels

    return import_labels(engine, file, annotations=annotations)


def categories_assign(engine: Engine, *, homepages: bool = True) -> Counter[str]:
    """Recompute every site's category from its labels; the count per category."""
    from tracker.analysis.categories import assign

    return assign(engine, homepages=homepages)


@dataclass(frozen=True, slots=True)
class SitesAdded:
    """What ``sites add`` did (tracker.pipeline.tracking.AddReport), and the site list's skipped lines."""

    report: Any
    problems: tuple[str, ...]


def sites_add(
    engine: Engine,
    settings: Settings,
    *,
    file: Path | None = None,
    tranco: int | None = None,
    date: date | None = None,
    list_: str | None = None,
    kind: str | None = None,
    top: int | None = None,
) -> SitesAdded:
    """Track sites: a site-list ``file`` (by default into the fixed panel 'panel'), or the Tranco list's top
    ``tranco`` (of ``date``, default the latest; by default the moving top-N 'tranco-top'); ``list_``: the list's
    name."""
    from tracker.pipeline.tracking import add_sites
    from tracker.rules.sitelist import read_site_list

    if (file is None) == (tranco is None):
        raise ParameterError("give a site list file or tranco N (one of the two)", "file")
    if tranco is not None:
        return track_tranco(
            engine,
            top=tranco,
            date=date,
            tranco_url=settings.tranco_url,
            user_agent=settings.header(),
            timeout=settings.timeout,
            list_name=list_ or "tranco-top",
            kind=kind or "top",
        )
    else:
        assert file is not None
        entries, parsed = read_site_list(file, top=top)
        report = add_sites(
            engine,
            entries,
            list_name=list_ or "panel",
            kind=kind or "panel",
            source=str(file.resolve()),
        )
        if report.labelled:
            from tracker.analysis.categories import assign

            assign(engine)
    return SitesAdded(report, tuple(parsed.problems))


def track_tranco(
    engine: Engine,
    *,
    top: int,
    tranco_url: str,
    user_agent: str,
    timeout: float,
    date: date | None = None,
    list_name: str = "tranco-top",
    kind: str = "top",
    source: str | None = None,
) -> SitesAdded:
    """Download the Tranco list's top ``top`` (of ``date``, default the latest) and track it as ``list_name``
    (source ``tranco:<list id>`` unless given)."""
    from tracker.pipeline.tracking import add_sites, download_tranco

    parsed, list_id, list_date = download_tranco(
        top, on=date, base_url=tranco_url, user_agent=user_agent, timeout=timeout
    )
    report = add_sites(
        engine,
        parsed.sites,
        list_name=list_name,
        kind=kind,
        source=source or f"tranco:{list_id}",
        list_id=list_id,
        list_date=list_date,
    )
    return SitesAdded(report, tuple(parsed.problems))


def sites_remove(engine: Engine, list_name: str, *, domains: Sequence[str] = ()) -> int:
    """Take sites out of a list, or (no domains) drop the list; their history stays. How many."""
    from tracker.pipeline.tracking import remove_sites

    return remove_sites(engine, list_name, list(domains))


@dataclass(frozen=True, slots=True)
class AgentsSync:
    """The registry merged with the ai.robots.txt project's list: new and updated tokens, and where it was written
    (None on a dry run)."""

    merged: AgentRegistry
    added: tuple[str, ...]
    updated: tuple[str, ...]
    written: Path | None


def agents_sync(
    settings: Settings, *, source: str, dry_run: bool = False, hint: str = "its path as the source"
) -> AgentsSync:
    """Refresh the registry (the ``agents-file`` setting's, or the packaged one in a source checkout) from
    ai.robots.txt's robots.json (``source``: a URL or a path), keeping our own purposes and notes; write it unless
    ``dry_run``. An installed copy's packaged registry is never written: a file of one's own is needed (a new file
    starts from the packaged registry). ``hint``: how
    the face's user names a local copy instead, said when the download fails."""
    from tracker.fetch.http import download
    from tracker.rules.agents import default_registry_path, load_registry, merge_upstream

    path = Path(settings.agents_file) if settings.agents_file else default_registry_path()
    if not settings.agents_file and not dry_run and {"site-packages", "dist-packages"} & set(path.parts):
        raise ParameterError(
            f"agents_file is needed: the packaged registry ({path}) belongs to the installed package, where an "
            "upgrade would lose the merge; name a file of your own (it starts from the packaged registry) and set "
            "CONSENT_TRACKER_AGENTS_FILE to it so every command uses it",
            "agents_file",
        )
    raw = download(source, user_agent=settings.header(), timeout=settings.timeout, hint=hint)
    merged, added, updated = merge_upstream(load_registry(str(path) if path.exists() else None), raw)
    if not dry_run:
        merged.save(path)
    return AgentsSync(merged, tuple(added), tuple(updated), None if dry_run else path)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One batch of a distributed crawl: the sites crawled and skipped (recorded before), and whether it closed the
    run (it was the last)."""

    crawled: int
    skipped: int
    closed: bool


async def crawl_batch(engine: Engine, run_id: int, sites: Sequence[SiteEntry], config: Any) -> BatchResult:
    """Crawl one batch of a distributed run's sites into it (what a worker runs); close the run if it was the
    last batch."""
    import asyncio

    from tracker.pipeline.crawl import crawl_sites
    from tracker.store.runs import Run

    run = await asyncio.to_thread(Run.attach, engine, run_id)
    state = await crawl_sites(run, sites, config)
    run.count(observations=state.done, errors=sum(state.errors.values()))
    await asyncio.to_thread(run.add_counts)
    closed = await asyncio.to_thread(close_if_complete, engine, run_id)
    return BatchResult(state.done, state.skipped, closed)


def close_if_complete(engine: Engine, run_id: int) -> bool:
    """Close a distributed run once every site is recorded, and compute its change events; whether it closed."""
    from tracker.pipeline.changes import run_changes
    from tracker.store.runs import close_run, run_info

    info = run_info(engine, run_id)
    if info is None or info.status != "running" or info.recorded < (info.planned or 0):
        return False
    close_run(engine, run_id)
    run_changes(engine, run_id)  # the agents every writer uses (tracker.pipeline.changes.CHANGE_AGENTS)
    return True


@dataclass(frozen=True, slots=True)
class OpenedRun:
    """A crawl run opened for a distributed crawl, and the sites it has not recorded yet."""

    run_id: int
    todo: tuple[SiteEntry, ...]


def open_crawl_run(
    engine: Engine, sites: Sequence[SiteEntry], config: Any, *, source: str, resume: bool, batch: int
) -> OpenedRun:
    """Open (or, with ``resume``, take over) a distributed crawl run of these sites, in jobs of ``batch``."""
    from tracker.store.runs import Run
    from tracker.store.writer import SiteRow

    params: dict[str, Json] = {
        "sites": len(sites),
        "resources": list(config.resources),
        "distributed": True,
        "batch": batch,
    }
    run = Run.open(engine, "live", source, params=params, resume=resume)
    ids = run.ensure_sites([SiteRow(s.domain, rank=s.rank, category=s.category, list_source=source) for s in sites])
    return OpenedRun(run.id, tuple(s for s in sites if ids[s.domain] not in run.done))
