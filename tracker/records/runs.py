"""A run's result: what a live crawl, a Wayback backfill or an archive import did — one shape for all three, and
for the counts a store run writes to its row.

Counts that do not apply to a kind of run are ``None`` (an import makes no requests; a crawl fetches no archive
captures), never 0: "did not happen" and "happened zero times" stay apart. :meth:`RunResult.summary` is the one
line the CLI prints for each kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from tracker.records.json import Json

__all__ = ["RunResult"]


def _by_count(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run did. ``kind`` is the run's kind (``live``, ``wayback``, ``import`` …: the store's)."""

    kind: str
    run_id: int | None
    status: str
    #: Sites asked for (an import: its domains).
    sites: int
    #: Sites done in this run.
    done: int
    #: Sites an earlier run had already done (resumed, or a backfill over the same range).
    skipped: int
    new_versions: int
    #: New change events (tracker.pipeline.changes).
    changes: int = 0
    #: Observations that only confirmed a known version.
    unchanged: int | None = None
    observations: int | None = None
    seconds: float | None = None
    # -- a live crawl
    #: robots.txt fetch status → sites.
    robots_status: Mapping[str, int] | None = None
    #: Error class → sites (the sites' trouble: DNS, TLS, timeouts …).
    errors: Mapping[str, int] | None = None
    #: Sites our own failures left for a resume, and why.
    unrecorded: int | None = None
    local_errors: Mapping[str, int] | None = None
    notices: tuple[str, ...] = ()
    # -- a backfill
    requests: int | None = None
    captures_fetched: int | None = None
    captures_reused: int | None = None
    #: Sites the archive refuses to show (its exclusion list).
    excluded: tuple[str, ...] | None = None
    #: The capture chosen for each period by what it was (ok, no_robots …), and index rows never fetched because
    #: of their status (skipped_3xx, skipped_4xx …).
    classified: Mapping[str, int] | None = None
    # -- an import
    files: int | None = None
    duplicates: int | None = None
    html_bodies: int | None = None
    empty_bodies: int | None = None
    first_date: date | None = None
    last_date: date | None = None
    #: What could not be done (a file skipped, a folder that is not a domain …).
    problems: tuple[str, ...] = field(default=())

    @property
    def domains(self) -> int:
        """An import's domains (its ``sites``)."""
        return self.sites

    def as_dict(self) -> dict[str, Json]:
        """The result as JSON; counts that do not apply to this kind of run are null."""

        def counts(m: Mapping[str, int] | None) -> dict[str, Json] | None:
            return dict(m) if m is not None else None

        return {
            "kind": self.kind,
            "run_id": self.run_id,
            "status": self.status,
            "sites": self.sites,
            "done": self.done,
            "skipped": self.skipped,
            "new_versions": self.new_versions,
            "changes": self.changes,
            "unchanged": self.unchanged,
            "observations": self.observations,
            "seconds": self.seconds,
            "robots_status": counts(self.robots_status),
            "errors": counts(self.errors),
            "unrecorded": self.unrecorded,
            "local_errors": counts(self.local_errors),
            "notices": list(self.notices),
            "requests": self.requests,
            "captures_fetched": self.captures_fetched,
            "captures_reused": self.captures_reused,
            "excluded": list(self.excluded) if self.excluded is not None else None,
            "classified": counts(self.classified),
            "files": self.files,
            "duplicates": self.duplicates,
            "html_bodies": self.html_bodies,
            "empty_bodies": self.empty_bodies,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
            "problems": list(self.problems),
        }

    def summary(self) -> str:
        """The one line the CLI prints about the run."""
        if self.kind == "archive":
            return (
                f"imported {self.files} files of {self.sites} domains "
                f"({self.first_date} → {self.last_date}): {self.new_versions} new versions, "
                f"{self.duplicates} already recorded; {self.html_bodies} HTML pages and {self.empty_bodies} empty "
                f"bodies recorded as such (not as rules); {self.changes} changes; run #{self.run_id}"
            )
        seconds = self.seconds or 0.0
        if self.kind == "wayback":
            classified = self.classified or {}
            chosen = {k: v for k, v in classified.items() if not k.startswith("skipped_")}
            skipped = {k.removeprefix("skipped_"): v for k, v in classified.items() if k.startswith("skipped_")}
            kinds = _by_count(chosen)
            if skipped:
                kinds += "; index rows not fetched: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
            return (
                f"backfill #{self.run_id} {self.status}: {self.done} sites in {seconds:.1f} s"
                + (f" ({self.skipped} already done)" if self.skipped else "")
                + f"; {self.requests} requests to the archive, {self.captures_fetched} captures fetched, "
                f"{self.captures_reused} known already; {self.new_versions} new versions, {self.changes} changes"
                + (f"; one capture per period: {kinds}" if kinds else "")
            )
        rate = self.done / seconds if seconds else 0
        return (
            f"crawl #{self.run_id} {self.status}: {self.done} sites in {seconds:.1f} s ({rate:.0f}/s)"
            + (f", {self.skipped} already done before resuming" if self.skipped else "")
            + f"; {self.new_versions} new versions, {self.unchanged} unchanged, {self.changes} changes"
            + f" (`consent-tracker changes`); robots.txt: {_by_count(self.robots_status or {})}"
        )
