"""The service layer: one function per use case, the only door the faces (CLI, dashboard) and the operations
(scheduler, workers, ``up``) go through. Each takes typed parameters — the store and registry it works on, and
keyword arguments named as the CLI's options (``--max-age`` ↔ ``max_age``, ``--archive-rate`` ↔ ``archive_rate``)
— and returns records or typed values; it raises only :class:`tracker.errors.TrackerError`, whose messages name
parameters and settings, never a face's spelling of them.

    inputs      parsing what a face was given (days, months) and opening what the settings name
    rules       one robots.txt, the agent registry: no store needed
    reading     trends, signal adoption, a site, changes, the export, tracked lists, categories, runs
    analysing   the forecast, published claims, the trend report, the open-data release
    writing     crawl, backfill, import-archive, weights, categories, tracked sites, the agent registry
    operating   the database itself (migrate, copy), ``up``'s demo-or-real guard, feeds and the webhook

Names are re-exported here lazily (PEP 562): ``from tracker import service`` costs nothing until a use case runs.
"""

from __future__ import annotations

from tracker.records.lazy import lazy_exports

#: Where each use case lives; every name a submodule exports, once (tests/test_service.py checks they agree).
_WHERE = {
    "inputs": (
        "WAYBACK_START",
        "SitesChosen",
        "database_file",
        "load_registry",
        "open_store",
        "parse_day",
        "parse_month_or_day",
        "sites_to_use",
    ),
    "reading": (
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
    ),
    "rules": ("AgentSelection", "agents", "robots"),
    "analysing": ("claims", "forecast", "publish", "report"),
    "writing": (
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
    ),
    "operating": ("Migration", "db_copy", "db_migrate", "deliver_webhook", "prepare_up_store", "write_feeds"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _WHERE)
