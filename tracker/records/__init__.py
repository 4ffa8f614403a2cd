"""The published schema: typed records for what crosses a boundary of the library — a site's state, an agent's
verdict, a change event, a run's result. Frozen and slotted; each has one JSON shape, :meth:`as_dict` (the one
``--format json`` prints), and :meth:`from_dict` where a record is read back from stored or published JSON.

    tracker.records.site      AgentVerdict, SiteSignals, SiteState (the export record), SiteInfo, VersionChange,
                              VersionEntry, SiteHistory (the ``site`` command's record)
    tracker.records.changes   Event: a stored change event as users see it (CLI, feeds, webhook, dashboard)
    tracker.records.runs      RunResult: what a crawl, a backfill or an import did (and a store run's counts)
    tracker.records.robots    RobotsReport: the ``robots`` command's report (fetch, parse, each agent's stance)
    tracker.records.signals   signal readings: what each parser of tracker.rules.signals returns
    tracker.records.forecast  Forecast: the run-out, the gap and the restriction forecast (``forecast --format json``)
    tracker.records.trends    TrendRow, SignalRow, SignalCoverage, Definition: the trend series and their definitions
    tracker.records.json      the JSON value types the records are made of
    tracker.records.vocabulary  the project's words, defined once (stances, statuses, signal names, choices)

A low layer: it imports only the standard library and tracker.errors, so every part of
the library (rules, fetching, the pipeline, the store, analysis, publishing and the faces) can speak in records.
"""

from __future__ import annotations

from tracker.records.lazy import lazy_exports

#: Where each re-exported record lives. Loaded on first use (PEP 562): importing one record module, or the
#: vocabulary, does not load them all.
_WHERE = {
    "changes": ("Event",),
    "json": ("Json", "JsonObject"),
    "robots": ("AgentStance", "RobotsReport"),
    "runs": ("RunResult",),
    "site": (
        "AgentVerdict",
        "SiteHistory",
        "SiteInfo",
        "SiteSignals",
        "SiteState",
        "TermsSummary",
        "VersionChange",
        "VersionEntry",
    ),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _WHERE)
