"""The history store: tables, the engine, the single writer and read-only queries."""

from __future__ import annotations

from tracker.store.engine import StoreError, database_url, migrate, open_store, session
from tracker.store.models import Body, CrawlRun, Evaluation, RuleSet, Site, Version

__all__ = [
    "Body",
    "CrawlRun",
    "Evaluation",
    "RuleSet",
    "Site",
    "StoreError",
    "Version",
    "database_url",
    "migrate",
    "open_store",
    "session",
]
