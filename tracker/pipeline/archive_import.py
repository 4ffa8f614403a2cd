"""History backfill: import dated robots.txt archives into the store.

The layout is ``<domain>/<YYYY-MM-DD>.txt``: each file is the robots.txt content first seen on that date, in
effect until the next file's date (the layout of git-scraped archives and of ``shared/corpus/history``). The
last file of a domain stays in effect until the archive's last date (or ``until``).

Imports are idempotent (a second import adds nothing) and resumable (each domain is one transaction; a rerun
after a crash redoes only what did not land). Bad input — a missing folder, an invalid domain name, a malformed
date, an unreadable file — is reported in the result's ``problems`` (tracker.records.RunResult) and the rest
still lands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from tracker.errors import ArchiveError
from tracker.fetch.outcome import fetch_from_body
from tracker.pipeline.changes import run_changes
from tracker.records.runs import RunResult
from tracker.rules import sitelist as sites
from tracker.store.runs import Run
from tracker.store.writer import Observation, RecordResult, SiteRow

__all__ = ["ArchiveError", "import_archive", "normalise_host"]

# <date>.txt, or <date>_<suffix>.txt for further versions first seen the same day (git-scraped archives name
# them after the commit); their order within the day is unknown, so they are recorded seconds apart, in name order.
_DATE_FILE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:_[^/]*)?\.txt$")

#: No robots.txt predates the web's history (robots.txt itself dates from 1994); a date after tomorrow (UTC) is a
#: typo or a hostile name, and a year-9999 date overflows every period computed from it.
FIRST_DATE = date(1994, 1, 1)


def _last_date() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


def _date_problem(d: date) -> str | None:
    """Why an observation date cannot be, or None when it can."""
    if d < FIRST_DATE:
        return f"before {FIRST_DATE.isoformat()}, the start of robots.txt"
    if d > _last_date():
        return f"after tomorrow ({_last_date().isoformat()} UTC)"
    return None


def _outside(path: Path, root: Path) -> bool:
    """Whether a path (a symlink, say) resolves outside the archive's root folder."""
    try:
        return not path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a broken or looping link
        return True


@dataclass(slots=True)
class _Tally:
    """What the import did so far, and what it could not do (published as a RunResult)."""

    domains: int = 0
    files: int = 0
    new_versions: int = 0
    duplicates: int = 0
    unchanged: int = 0
    html_bodies: int = 0
    empty_bodies: int = 0
    problems: list[str] = field(default_factory=list)
    run_id: int | None = None
    first_date: date | None = None
    last_date: date | None = None
    changes: int = 0  # new change events (tracker.pipeline.changes)

    def result(self, status: str) -> RunResult:
        """The import's published result."""
        return RunResult(
            kind="archive",
            run_id=self.run_id,
            status=status,
            sites=self.domains,
            done=self.domains,
            skipped=0,
            new_versions=self.new_versions,
            changes=self.changes,
            unchanged=self.unchanged,
            observations=self.files,
            files=self.files,
            duplicates=self.duplicates,
            html_bodies=self.html_bodies,
            empty_bodies=self.empty_bodies,
            first_date=self.first_date,
            last_date=self.last_date,
            problems=tuple(self.problems),
        )


def normalise_host(name: str) -> str | None:
    """A folder name as a host name in lower-case ASCII, or None when it is not a valid host name."""
    return sites.normalise_host(name)[0]


def _parse_date(name: str) -> date | None:
    m = _DATE_FILE.match(name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _plan(base: Path, report: _Tally) -> list[tuple[str, list[tuple[date, Path]]]]:
    """The domains of an archive and their dated files, in order; what cannot be read goes to the report.

    Nothing outside the archive's folder is read: a symlinked folder or file whose target resolves outside it is
    skipped and reported (an archive must not turn /etc/passwd into a robots.txt)."""
    root = base.resolve()
    plan: list[tuple[str, list[tuple[date, Path]]]] = []
    for entry in sorted(base.iterdir()):
        if entry.name.startswith("."):
            continue  # hidden files and folders (.git, .gitignore…) are not domains
        if entry.is_symlink() and _outside(entry, root):
            report.problems.append(f"{entry.name}: a link to outside the archive (skipped)")
            continue
        if not entry.is_dir():
            report.problems.append(f"{entry.name}: not a domain folder (skipped)")
            continue
        host = normalise_host(entry.name)
        files: list[tuple[date, Path]] = []
        for f in sorted(entry.iterdir(), key=lambda f: (f.name[:10], len(f.name) > 14, f.name)):
            if _outside(f, root):
                report.problems.append(f"{entry.name}/{f.name}: a link to outside the archive (skipped)")
                continue
            d = _parse_date(f.name)
            if d is None:
                report.problems.append(f"{entry.name}/{f.name}: file name is not a YYYY-MM-DD.txt date (skipped)")
                continue
            if (why := _date_problem(d)) is not None:
                report.problems.append(f"{entry.name}/{f.name}: date {d.isoformat()} is {why} (skipped)")
                continue
            files.append((d, f))
        if host is None:
            report.problems.append(f"{entry.name}: not a valid domain name ({len(files)} files skipped)")
            continue
        if files:
            plan.append((host, files))
    return plan


def _domain_observations(
    host: str, files: list[tuple[date, Path]], horizon: datetime, until: date | None, report: _Tally
) -> list[Observation]:
    """One domain's files as observations: each version from its date, the last one confirmed at the horizon."""
    observations = []
    same_day = 0
    previous: date | None = None
    for d, f in files:
        same_day = same_day + 1 if d == previous else 0
        previous = d
        if until is not None and d > until:
            continue
        try:
            data = f.read_bytes()
        except OSError as e:
            report.problems.append(f"{host}/{f.name}: cannot read ({e.strerror or e}) (skipped)")
            continue
        fetched = fetch_from_body(str(f), data)
        report.html_bodies += fetched.status == "soft404_html"
        report.empty_bodies += fetched.status == "empty"
        observations.append(
            Observation(
                kind="robots",
                seen_at=_at(d) + timedelta(seconds=same_day),
                status=fetched.status,
                http_status=200,
                body=data,
                truncated=fetched.truncated,
                source="archive",
            )
        )
    if observations:
        # The archive's last date confirms each domain's latest content (it stayed until then).
        latest = max(observations, key=lambda o: o.seen_at)
        if horizon > latest.seen_at:
            observations.append(
                Observation(
                    kind="robots",
                    seen_at=horizon,
                    status=latest.status,
                    http_status=200,
                    body=latest.body,
                    truncated=latest.truncated,
                    source="archive",
                )
            )
    return observations


def import_archive(
    engine: Engine,
    root: str | Path,
    *,
    until: date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> RunResult:
    """Import a ``<domain>/<YYYY-MM-DD>.txt`` archive; return counts and the problems met."""
    base = Path(root)
    if not base.exists():
        raise ArchiveError(f"archive folder not found: {base}")
    if not base.is_dir():
        raise ArchiveError(f"not a folder: {base}")
    if until is not None and (why := _date_problem(until)) is not None:
        raise ArchiveError(f"until {until.isoformat()} is {why}", parameter="until")
    report = _Tally()
    plan = _plan(base, report)
    if not plan:
        report.problems.append(f"{base}: no <domain>/<YYYY-MM-DD>.txt files found")
        return report.result("done")
    all_dates = [d for _, files in plan for d, _ in files]
    report.first_date = min(all_dates)
    report.last_date = until or max(all_dates)
    horizon = _at(report.last_date)
    total = sum(len(files) for _, files in plan)
    done = 0
    run = Run.open(engine, "archive", str(base.resolve()), params={"until": report.last_date.isoformat()})
    report.run_id = run.id
    batch: list[tuple[str, list[Observation]]] = []
    batch_files = 0

    def flush() -> None:
        nonlocal batch, batch_files, done
        if not batch:
            return
        # One transaction per batch of domains: a crash loses at most this batch, and a rerun redoes it.
        res: RecordResult = run.record(batch, continuous=True)
        report.new_versions += res.new_versions
        report.duplicates += res.duplicates
        report.unchanged += res.unchanged
        report.domains += len(batch)
        report.files += batch_files
        done += batch_files
        run.count(sites=report.domains, observations=report.files)
        if progress:
            progress(done, total, batch[-1][0])
        batch, batch_files = [], 0

    with run:
        run.ensure_sites([SiteRow(host, list_source=f"archive:{base.name}") for host, _ in plan])
        for host, files in plan:
            observations = _domain_observations(host, files, horizon, until, report)
            if observations:
                batch.append((host, observations))
                batch_files += len(files)
            else:
                done += len(files)
            if batch_files >= 500 or len(batch) >= 100:
                flush()
        flush()
        run.count(errors=len(report.problems))
    report.changes = run_changes(engine, run.id)
    return report.result(run.status)
