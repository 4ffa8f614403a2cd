"""A dated release of the database as files: Parquet tables each with a CSV twin (gzip), the forecast as JSON, a
Frictionless Data Package describing them, a README generated from it, and ``SHA256SUMS``.

What it promises:

- **The same database gives the same bytes.** No clock in any file (the release is dated by the data it holds),
  fixed Parquet writer settings, every table sorted; so a release can be diffed, and cited by its checksum.
- **Bounded memory.** The store is read a chunk of sites at a time (by domain) and every table is streamed into
  its Parquet file and CSV twin one row group per chunk: a million sites × months never sits in memory at once.
- **One definition.** The trend rows are the ones ``trends --format json`` prints, with their Definition records;
  the stances, signals and change types are described from the vocabulary the other faces use.

    sites           one row per site: rank, tracked lists, category and the source that decided it
    trends          the restriction series per registry agent, company and purpose (sites; tokens if stored)
    agent_states    site × agent × month: status, stance, named or inherited, blocked
    signals         site × signal × month, where the reading is known: adopted, and the resources it rests on
    change_events   each stored change of an agent's stance or a signal's adoption
    robots_txt      (``with_bodies``) every robots.txt version's text
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Engine

from tracker import __version__
from tracker.analysis.trends import DEFINITIONS, robots_site_months, signal_site_months
from tracker.errors import PublishError
from tracker.records.json import Json
from tracker.records.trends import Definition, TrendRow
from tracker.records.vocabulary import (
    CHANGE_TYPES,
    LABEL_SOURCES,
    SIGNAL_NAMES,
    STANCE_MEANINGS,
    STANCES,
    UNREACHABLE,
)
from tracker.rules.agents import UPSTREAM_URL
from tracker.rules.signals.preferences import ADOPTION
from tracker.store import queries

__all__ = [
    "CHUNK_SITES",
    "DATA_LICENSE",
    "TABLES",
    "Column",
    "Release",
    "TableSpec",
    "TrendSeries",
    "check_folder",
    "write_release",
]

#: Sites read from the store at a time: one row group of every table per chunk. 500 sites × 36 months × 30 agents
#: is half a million agent_states rows: a 20,000-site release peaks at 430 MB (2,000: 760 MB; 250: 370 MB), in the
#: same time.
CHUNK_SITES = 500
#: The licence of the data a release holds (the tracker's code is Apache-2.0).
DATA_LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
#: Writer settings fixed here so the same rows give the same bytes (whatever pyarrow's defaults become).
_PARQUET = {
    "compression": "zstd",
    "compression_level": 9,
    "version": "2.6",
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_size": 1 << 20,
}
_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s", tz="UTC"),
}


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table: its name, Frictionless type and description."""

    name: str
    type: str
    description: str

    def as_field(self) -> dict[str, Json]:
        """The Table Schema field."""
        out: dict[str, Json] = {"name": self.name, "type": self.type, "description": self.description}
        if self.type == "datetime":
            out["format"] = "%Y-%m-%dT%H:%M:%SZ"
        return out


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table of a release: its name, what a row is, its columns and primary key."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of its Parquet file."""
        return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in self.columns])


_STANCES = "; ".join(f"{k}: {v}" for k, v in STANCE_MEANINGS.items())
_MONTH = Column("month", "string", "The month, YYYY-MM; the state as of its last day (month_end).")
_MONTH_END = Column(
    "month_end",
    "date",
    "The day the state is taken on: the month's last day, or the last observation for the last month.",
)
_DOMAIN = Column("domain", "string", "The site: a registrable domain (publicsuffixlist).")

SITES = TableSpec(
    "sites",
    "Sites",
    "One row per site of the release: its rank, the tracked lists it is in, its category and the source that "
    "decided it.",
    (
        _DOMAIN,
        Column("rank", "integer", "The site's rank as stored with it (a ranking such as Tranco), if any."),
        Column("list_rank", "integer", "Its best rank in the tracked lists it is in, if any."),
        Column("lists", "string", "The tracked lists it is in (a fixed panel, a moving top-N), ';'-separated."),
        Column("list_source", "string", "Where the site came from (a site list file, tranco, an archive)."),
        Column("category", "string", "What kind of site it is (news, social, reference, …); empty: unknown."),
        Column(
            "category_source",
            "string",
            "The label source whose category won, the most trusted first: " + ", ".join(LABEL_SOURCES) + ".",
        ),
    ),
    ("domain",),
)
TRENDS = TableSpec(
    "trends",
    "Restriction trends",
    "The rows `consent-tracker trends --format json` prints, monthly: per registry agent (group_by agent), per "
    "company and per purpose (any agent of the group blocked), weighted by sites and, where token weights are "
    "stored, by tokens. " + DEFINITIONS,
    (
        Column("group_by", "string", "What a row's agent column names: an agent, a company or a purpose."),
        Column("period", "string", "The month, YYYY-MM."),
        Column("period_end", "date", "The day the state is taken on (the month's last day, or the last observation)."),
        Column("agent", "string", "The agent token as the registry spells it, or the company or purpose."),
        Column("sites", "integer", "Sites observed by then (a site drops out 90 days after its last observation)."),
        Column("blocked", "integer", "Of those, the sites whose robots.txt keeps the agent (group) from '/'."),
        Column("blocked_named", "integer", "Of those blocked, by a group naming the agent (not inherited from '*')."),
        Column("blocked_share", "number", "blocked over sites (weighted: their weights)."),
        Column("blocked_named_share", "number", "blocked_named over sites (weighted: their weights)."),
        Column("full_block", "integer", "Sites whose stance is full_block: " + STANCE_MEANINGS["full_block"] + "."),
        Column("near_full_block", "integer", "Sites whose stance is near_full_block."),
        Column("partial_block", "integer", "Sites whose stance is partial_block."),
        Column("no_robots", "integer", "Sites without robots.txt: nothing is restricted."),
        Column("unreachable", "integer", "Sites whose robots.txt was unreachable: never allowed, never blocked."),
        Column(
            "blocked_share_reachable", "number", "blocked over the sites whose robots.txt could be read or was absent."
        ),
        Column("weighting", "string", "sites (each site counts once), or the token weights' label."),
        Column("sites_weight", "number", "The weight of the sites (their count, unweighted)."),
        Column("blocked_weight", "number", "The weight of the blocked sites (their count, unweighted)."),
        Column(
            "weight_measured_share", "number", "Of sites_weight, the part measured (the rest filled in; 1 unweighted)."
        ),
        Column("full_block_weight", "number", "The weight of the full_block sites (their count, unweighted)."),
        Column("sample", "string", "Which sites: all sites, or the tracked lists."),
        Column("rule", "string", "A group's site counts as blocked when any (or all) of its agents are."),
    ),
    ("group_by", "weighting", "agent", "period"),
)
AGENT_STATES = TableSpec(
    "agent_states",
    "Each agent's standing on each site, month by month",
    "Site × agent × month: the robots.txt version in effect at the month's end, read for each agent — the sites "
    "and months the trends count, so summing blocked gives the trends' blocked. Stances: " + _STANCES + ".",
    (
        _DOMAIN,
        _MONTH,
        _MONTH_END,
        Column("agent", "string", "The agent token, as the registry spells it."),
        Column("status", "string", "The robots.txt fetch status class (ok, no_robots, unreachable, …)."),
        Column("stance", "string", "The agent's stance: " + ", ".join(STANCES) + "."),
        Column(
            "named",
            "boolean",
            "A robots.txt group names the agent (its rules replace '*'); empty when unreachable.",
        ),
        Column("inherited", "boolean", "Restricted by the '*' group, not by a group naming it ('via *')."),
        Column("blocked", "boolean", "May not fetch '/'; empty when unreachable (neither allowed nor blocked)."),
    ),
    ("domain", "month", "agent"),
)
SIGNALS = TableSpec(
    "signals",
    "Use-preference signals on each site, month by month",
    "Site × signal × month, only where the reading is known at the month's end (a signal never observed on a site "
    "has no row: not observed is not 'no') — the sites `trends --signal` counts. Signals: "
    + " ".join(f"{name}: {ADOPTION[name].definition}" for name in SIGNAL_NAMES),
    (
        _DOMAIN,
        _MONTH,
        _MONTH_END,
        Column("signal", "string", "The signal: " + ", ".join(SIGNAL_NAMES) + "."),
        Column("adopted", "boolean", "The site adopts the signal (the reading `export latest` and `changes` use)."),
        Column(
            "source",
            "string",
            "The resources the reading rests on, '+'-separated: those saying yes when adopted, else those observed.",
        ),
    ),
    ("domain", "month", "signal"),
)
CHANGE_EVENTS = TableSpec(
    "change_events",
    "Change events",
    "Each change of a site's reading — an agent's robots.txt stance, or a signal's adoption — at a new version: "
    "before → after, and whether it restricts, lifts (a reversal) or only modifies.",
    (
        _DOMAIN,
        Column("category", "string", "The site's category."),
        Column("resource", "string", "The resource kind whose new version made the change (robots, homepage, …)."),
        Column("signal", "string", "'robots' (an agent's stance) or the signal's name."),
        Column("agent", "string", "The agent token; empty when the signal applies to every agent."),
        Column("before", "string", "The reading before ('… via *': inherited from the '*' group)."),
        Column("after", "string", "The reading after."),
        Column("change", "string", "One of " + ", ".join(CHANGE_TYPES) + "."),
        Column("at", "datetime", "When the new reading was first seen (UTC)."),
        Column("previous_seen", "datetime", "When the old reading was last seen (the change happened in between)."),
        Column("source", "string", "Where the new version came from: live, archive or wayback."),
    ),
    ("domain", "signal", "agent", "at"),
)
ROBOTS_TXT = TableSpec(
    "robots_txt",
    "robots.txt texts",
    "Every robots.txt version with a body, as text (UTF-8; undecodable bytes replaced), from first_seen until "
    "valid_to. The texts are the sites' own, as fetched or archived.",
    (
        _DOMAIN,
        Column("first_seen", "datetime", "When this version was first seen (UTC)."),
        Column("last_seen", "datetime", "When it was last confirmed (UTC)."),
        Column("valid_to", "datetime", "When the next version replaced it; empty: the current one."),
        Column("status", "string", "The fetch status class."),
        Column("http_status", "integer", "The HTTP status."),
        Column("sha256", "string", "The SHA-256 of the body's bytes."),
        Column("truncated", "boolean", "The body was cut at the size cap (500 KiB)."),
        Column("text", "string", "The body."),
    ),
    ("domain", "first_seen"),
)
TABLES = (SITES, TRENDS, AGENT_STATES, SIGNALS, CHANGE_EVENTS, ROBOTS_TXT)


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One restriction series of the release: what it groups by and the rows and definitions the service gave."""

    group_by: str
    rows: list[TrendRow]
    definitions: list[Definition]


@dataclass(frozen=True, slots=True)
class Release:
    """What a release wrote: the folder, each file's rows (tables) and the day the data runs through."""

    out: Path
    files: list[Path]
    rows: dict[str, int] = field(default_factory=dict)
    data_from: str = ""
    data_through: str = ""

    @property
    def bytes(self) -> int:
        """The release's size."""
        return sum(p.stat().st_size for p in self.files)

    @property
    def checksum(self) -> str:
        """The SHA-256 of its SHA256SUMS: the one checksum to cite the release by."""
        return _sha256(self.out / "SHA256SUMS")


class _TableWriter:
    """A table streamed into its Parquet file and CSV twin, one row group per batch."""

    def __init__(self, spec: TableSpec, folder: Path) -> None:
        self.spec = spec
        self.rows = 0
        self.parquet = pq.ParquetWriter(folder / f"{spec.name}.parquet", spec.schema, **_PARQUET)
        csv_schema = pa.schema(
            [pa.field(c.name, pa.string() if c.type == "datetime" else _ARROW[c.type]) for c in spec.columns]
        )
        # gzip level 1 (a site × month table's CSV is 20 times smaller, for little time), no name and no time in the
        # header: the same rows, the same bytes.
        self._file = (folder / f"{spec.name}.csv.gz").open("wb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._file, compresslevel=1, mtime=0)
        self.csv = pacsv.CSVWriter(self._gzip, csv_schema)

    def write(self, columns: dict[str, Any]) -> None:
        """Append rows given column by column (Arrow arrays or Python lists)."""
        arrays = [
            c if isinstance(c, pa.Array) else pa.array(c, type=_ARROW[col.type])
            for col, c in ((col, columns[col.name]) for col in self.spec.columns)
        ]
        batch = pa.record_batch(arrays, schema=self.spec.schema)
        if not batch.num_rows:
            return
        self.rows += batch.num_rows
        self.parquet.write_batch(batch)
        twin = [
            pc.strftime(a, format="%Y-%m-%dT%H:%M:%SZ") if col.type == "datetime" else a
            for col, a in zip(self.spec.columns, batch.columns, strict=True)
        ]
        self.csv.write_batch(pa.record_batch(twin, names=[c.name for c in self.spec.columns]))

    def close(self) -> None:
        """Finish both files (an empty table still has its schema, and its header: written when the CSV was opened)."""
        self.parquet.close()
        self.csv.close()
        self._gzip.close()
        self._file.close()


def check_folder(out: Path, *, replace: bool) -> None:
    """Refuse a folder that is not empty unless ``replace``; even then, only one that holds a previous release (a
    datapackage.json), so a mistyped ``out`` cannot wipe an unrelated folder."""
    if out.exists() and not out.is_dir():
        raise PublishError(f"out: {out} is a file, not a folder", parameter="out")
    if not out.exists() or not any(out.iterdir()):
        return
    if not replace:
        raise PublishError(
            f"out: {out} is not empty (choose an empty folder, or replace the previous release there)", parameter="out"
        )
    if not (out / "datapackage.json").is_file():
        raise PublishError(
            f"out: {out} is not empty and holds no previous release (no datapackage.json): not replaced",
            parameter="out",
        )


def _utc(d: date | None, *, end: bool = False) -> datetime | None:
    if d is None:
        return None
    return datetime.combine(d + timedelta(days=1) if end else d, time(), tzinfo=UTC)


class _Agents:
    """Each agent's (stance, named, inherited, blocked) under each robots.txt state, as codes for numpy to index."""

    def __init__(self, tokens: Sequence[str], evals: dict[str, dict[int, queries.EvaluationRow]]) -> None:
        self.tokens = list(tokens)
        self.evals = evals
        self.stances = pa.array(list(STANCES))
        self._codes: dict[tuple[str, int | None], int] = {}
        self._table: list[list[tuple[int, int, int, int]]] = []  # per state, per agent: stance, named, inherited,
        # blocked (0 false, 1 true, 2 null)

    def code(self, status: str, ruleset: int | None) -> int:
        key = (status, ruleset)
        found = self._codes.get(key)
        if found is None:
            found = self._codes[key] = len(self._table)
            row = []
            for token in self.tokens:
                allowed, named, stance = queries.robots_verdict(
                    status, ruleset, self.evals[token.lower()].get(ruleset or 0)
                )
                if status in UNREACHABLE:
                    row.append((STANCES.index("unreachable"), 2, 2, 2))
                    continue
                inherited = not named and stance not in ("no_robots", "unreachable", "allowed")
                row.append((STANCES.index(stance), int(named), int(inherited), int(not allowed)))
            self._table.append(row)
        return found

    def statuses(self) -> list[str]:
        """The robots.txt status of each state, by code."""
        return [status for status, _ in sorted(self._codes, key=self._codes.__getitem__)]

    def table(self) -> np.ndarray:
        """states × agents × (stance, named, inherited, blocked)."""
        return np.array(self._table, dtype=np.int8).reshape(len(self._table), len(self.tokens), 4)


def _bools(values: np.ndarray) -> pa.Array:
    return pa.array(values == 1, mask=values == 2)


def _agent_states(
    out: _TableWriter,
    engine: Engine,
    chunk: list[queries.ReleaseSite],
    periods: list[tuple[str, date]],
    agents: _Agents,
    max_age_days: int,
) -> None:
    pos = {s.id: i for i, s in enumerate(chunk)}
    found = [
        (pos[sid], i, agents.code(status, rid))
        for sid, i, status, rid in robots_site_months(engine, [s.id for s in chunk], periods, max_age_days=max_age_days)
    ]
    if not found:
        return
    cells = np.array(found, dtype=np.int64)
    cells = cells[np.lexsort((cells[:, 1], cells[:, 0]))]  # by site (domain), then month
    n_agents = len(agents.tokens)
    site_idx = np.repeat(cells[:, 0], n_agents)
    month_idx = np.repeat(cells[:, 1], n_agents)
    state = agents.table()[cells[:, 2]].reshape(-1, 4)  # one row per (site-month, agent), agents in order
    out.write(
        {
            "domain": pc.take(pa.array([s.domain for s in chunk]), pa.array(site_idx)),
            "month": pc.take(pa.array([label for label, _ in periods]), pa.array(month_idx)),
            "month_end": pc.take(pa.array([end for _, end in periods], pa.date32()), pa.array(month_idx)),
            "agent": pc.take(pa.array(agents.tokens), pa.array(np.tile(np.arange(n_agents), len(cells)))),
            "status": pc.take(pa.array(agents.statuses()), pa.array(np.repeat(cells[:, 2], n_agents))),
            "stance": pc.take(agents.stances, pa.array(state[:, 0].astype(np.int64))),
            "named": _bools(state[:, 1]),
            "inherited": _bools(state[:, 2]),
            "blocked": _bools(state[:, 3]),
        }
    )


def _signals(
    out: _TableWriter,
    engine: Engine,
    chunk: list[queries.ReleaseSite],
    periods: list[tuple[str, date]],
    max_age_days: int,
) -> None:
    pos = {s.id: i for i, s in enumerate(chunk)}
    ids = [s.id for s in chunk]
    rows: list[tuple[int, int, int, bool, str]] = []
    for n, name in enumerate(SIGNAL_NAMES):
        for sid, i, adopted, said in signal_site_months(engine, name, ids, periods, max_age_days=max_age_days):
            rows.append((pos[sid], i, n, adopted, "+".join(said)))
    rows.sort()
    out.write(
        {
            "domain": [chunk[r[0]].domain for r in rows],
            "month": [periods[r[1]][0] for r in rows],
            "month_end": [periods[r[1]][1] for r in rows],
            "signal": [SIGNAL_NAMES[r[2]] for r in rows],
            "adopted": [r[3] for r in rows],
            "source": [r[4] for r in rows],
        }
    )


def _sites(out: _TableWriter, chunk: list[queries.ReleaseSite]) -> None:
    def source(s: queries.ReleaseSite) -> str | None:
        winners = [src for src in LABEL_SOURCES if s.labels.get(src) == s.category]
        return winners[0] if s.category and winners else None

    out.write(
        {
            "domain": [s.domain for s in chunk],
            "rank": [s.rank for s in chunk],
            "list_rank": [s.list_rank for s in chunk],
            "lists": [";".join(s.lists) or None for s in chunk],
            "list_source": [s.list_source for s in chunk],
            "category": [s.category for s in chunk],
            "category_source": [source(s) for s in chunk],
        }
    )


def _change_events(
    out: _TableWriter, engine: Engine, chunk: list[queries.ReleaseSite], since: date | None, until: date | None
) -> None:
    by_id = {s.id: s for s in chunk}
    rows = queries.change_event_rows(engine, list(by_id), since=_utc(since), until=_utc(until, end=True))
    rows.sort(key=lambda r: (by_id[r[0]].domain, r[7], r[2], r[3]))
    out.write(
        {
            "domain": [by_id[r[0]].domain for r in rows],
            "category": [by_id[r[0]].category for r in rows],
            "resource": [r[1] for r in rows],
            "signal": [r[2] for r in rows],
            "agent": [r[3] or None for r in rows],
            "before": [r[4] for r in rows],
            "after": [r[5] for r in rows],
            "change": [r[6] for r in rows],
            "at": [r[7] for r in rows],
            "previous_seen": [r[8] for r in rows],
            "source": [r[9] for r in rows],
        }
    )


def _robots_txt(out: _TableWriter, engine: Engine, chunk: list[queries.ReleaseSite]) -> None:
    by_id = {s.id: s for s in chunk}
    texts = queries.robots_texts(engine, list(by_id))
    texts.sort(key=lambda t: (by_id[t.site_id].domain, t.first_seen))
    out.write(
        {
            "domain": [by_id[t.site_id].domain for t in texts],
            "first_seen": [t.first_seen for t in texts],
            "last_seen": [t.last_seen for t in texts],
            "valid_to": [t.valid_to for t in texts],
            "status": [t.status for t in texts],
            "http_status": [t.http_status for t in texts],
            "sha256": [t.sha256 for t in texts],
            "truncated": [t.truncated for t in texts],
            "text": [t.body.decode("utf-8", errors="replace") for t in texts],
        }
    )


def _trends(out: _TableWriter, series: Sequence[TrendSeries]) -> None:
    for s in series:
        rows = [r.as_dict() for r in s.rows]
        columns: dict[str, Any] = {"group_by": [s.group_by] * len(rows)}
        for col in TRENDS.columns[1:]:
            values = [r[col.name] for r in rows]
            columns[col.name] = [date.fromisoformat(str(v)) for v in values] if col.type == "date" else values
        out.write(columns)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _resource(spec: TableSpec, folder: Path, rows: int) -> dict[str, Any]:
    """A table's resource: its CSV file, which Frictionless validates row by row against the schema, naming its
    Parquet twin (same columns, same rows, same types). The twin is not a resource of its own: Frictionless's
    Parquet reader turns an integer column's nulls into NaN and would report them as errors."""
    csv, parquet = folder / f"{spec.name}.csv.gz", folder / f"{spec.name}.parquet"
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "path": csv.name,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "compression": "gz",
        "profile": "tabular-data-resource",
        "bytes": csv.stat().st_size,
        "hash": f"sha256:{_sha256(csv)}",
        "rows": rows,
        "parquet": {
            "path": parquet.name,
            "mediatype": "application/vnd.apache.parquet",
            "bytes": parquet.stat().st_size,
            "hash": f"sha256:{_sha256(parquet)}",
        },
        "schema": {"fields": [c.as_field() for c in spec.columns], "primaryKey": list(spec.key)},
    }


def _package(
    folder: Path,
    specs: Sequence[TableSpec],
    rows: dict[str, int],
    series: Sequence[TrendSeries],
    about: dict[str, Any],
) -> dict[str, Any]:
    resources = [_resource(spec, folder, rows[spec.name]) for spec in specs]
    trends = next(r for r in resources if r["name"] == "trends")
    trends["definitions"] = {
        f"{s.group_by}:{d.figure}:{d.weighting}": d.as_dict() for s in series for d in s.definitions
    }
    forecast = folder / "forecast.json"
    resources.append(
        {
            "name": "forecast",
            "title": "Forecast",
            "description": "When the stock of public human text runs out, adjusted for the restriction measured here: "
            "the document `consent-tracker forecast --format json` prints (default parameters, seeded).",
            "path": forecast.name,
            "format": "json",
            "mediatype": "application/json",
            "encoding": "utf-8",
            "bytes": forecast.stat().st_size,
            "hash": f"sha256:{_sha256(forecast)}",
        }
    )
    sources = [
        {"title": f"robots.txt files of the sites ({source}: {n:,} versions)"} for source, n in about["sources"].items()
    ]
    sources.append(
        {
            "title": "The AI user-agent registry (consent-tracker's, merged with the ai.robots.txt project's list)",
            "path": UPSTREAM_URL,
        }
    )
    return {
        "profile": "data-package",
        "name": "consent-tracker-release",
        "title": f"consent-tracker: consent to AI crawling, {about['data_from']} to {about['data_through']}",
        "description": (
            "How websites' consent to AI crawling changes: robots.txt read per AI user agent (RFC 9309, as Google's "
            "reference parser reads it) and the use-preference signals beside it, month by month, from the "
            "consent-tracker database. "
            + ("SIMULATED DATA (up --demo): no figure describes real sites. " if about["simulated"] else "")
        ),
        "version": about["data_through"],
        "licenses": [DATA_LICENSE],
        "sources": sources,
        "keywords": ["robots.txt", "AI crawlers", "consent", "opt-out", "training data"],
        "consent_tracker": {k: v for k, v in about.items() if k != "sources"},
        "resources": resources,
    }


def _readme(package: dict[str, Any], folder: Path) -> str:
    meta = package["consent_tracker"]
    lines = [
        f"# {package['title']}",
        "",
        package["description"],
        "",
        f"Data from {meta['data_from']} through {meta['data_through']}; written by consent-tracker "
        f"{meta['version']}. Licence: {package['licenses'][0]['title']} ({package['licenses'][0]['name']}).",
        f"Sample: {meta['sample']}. Restricted to {meta['since'] or 'the first observation'} → "
        f"{meta['until'] or 'the last observation'}.",
        "",
        "## Files",
        "",
        "| file | rows | bytes | sha256 |",
        "| --- | ---: | ---: | --- |",
    ]
    for r in package["resources"]:
        rows = f"{r['rows']:,}" if "rows" in r else ""
        for path in [folder / r["parquet"]["path"]] if "parquet" in r else []:
            lines.append(f"| {path.name} | {rows} | {path.stat().st_size:,} | `{_sha256(path)}` |")
        path = folder / r["path"]
        lines.append(f"| {path.name} | {rows} | {path.stat().st_size:,} | `{_sha256(path)}` |")
    lines += [
        "",
        "`SHA256SUMS` lists every file's SHA-256 (`sha256sum -c SHA256SUMS` checks them); cite a release by the "
        "SHA-256 of its `SHA256SUMS`. The same database always gives the same bytes.",
        "",
        "## Loading",
        "",
        "```sql",
        "-- DuckDB",
        "SELECT * FROM 'trends.parquet' WHERE agent = 'GPTBot' AND group_by = 'agent';",
        "```",
        "",
        "```python",
        "import pandas as pd; states = pd.read_parquet('agent_states.parquet')",
        "```",
        "",
        "`datapackage.json` is a Frictionless Data Package: `frictionless validate datapackage.json`.",
        "",
        "## Tables",
    ]
    for r in package["resources"]:
        if r["format"] != "csv":
            continue
        lines += ["", f"### {r['name']} ({r['name']}.parquet, and its CSV twin {r['path']})", "", r["description"], ""]
        lines += ["| column | type | description |", "| --- | --- | --- |"]
        lines += [f"| {f['name']} | {f['type']} | {f['description']} |" for f in r["schema"]["fields"]]
    lines += [
        "",
        "### forecast (forecast.json)",
        "",
        next(r for r in package["resources"] if r["name"] == "forecast")["description"],
        "",
    ]
    return "\n".join(lines)


def _chunks(engine: Engine, lists: Sequence[str] | None, size: int) -> Iterable[list[queries.ReleaseSite]]:
    after: str | None = None
    while True:
        chunk = queries.release_sites(engine, lists=lists, after=after, limit=size)
        if not chunk:
            return
        yield chunk
        after = chunk[-1].domain


def write_release(
    engine: Engine,
    out: Path,
    *,
    periods: list[tuple[str, date]],
    series: Sequence[TrendSeries],
    forecast: dict[str, Json],
    agents: Sequence[str],
    since: date | None = None,
    until: date | None = None,
    lists: Sequence[str] | None = None,
    with_bodies: bool = False,
    replace: bool = False,
    simulated: bool = False,
    max_age_days: int = 90,
    chunk_sites: int | None = None,
) -> Release:
    """Write a release into ``out`` (see the module's docstring): built in a new folder beside it and moved into
    place once complete, so a failure leaves no half release (and ``replace`` keeps the old one until then)."""
    check_folder(out, replace=replace)
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.publishing-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        specs = [s for s in TABLES if s is not ROBOTS_TXT or with_bodies]
        writers = {s.name: _TableWriter(s, work) for s in specs}
        try:
            _trends(writers["trends"], series)
            states = _Agents(agents, queries.evaluations(engine, agents))
            for chunk in _chunks(engine, lists, chunk_sites or CHUNK_SITES):
                _sites(writers["sites"], chunk)
                _agent_states(writers["agent_states"], engine, chunk, periods, states, max_age_days)
                _signals(writers["signals"], engine, chunk, periods, max_age_days)
                _change_events(writers["change_events"], engine, chunk, since, until)
                if with_bodies:
                    _robots_txt(writers["robots_txt"], engine, chunk)
        finally:
            for w in writers.values():
                w.close()
        (work / "forecast.json").write_text(json.dumps(forecast, indent=1) + "\n", encoding="utf-8")
        rows = {name: w.rows for name, w in writers.items()}
        about = {
            "version": __version__,
            "data_from": periods[0][0],
            "data_through": periods[-1][1].isoformat(),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "lists": list(lists or []),
            "sample": " + ".join(f"list '{n}'" for n in lists) if lists else "every site in the database",
            "agents": list(agents),
            "max_age_days": max_age_days,
            "with_bodies": with_bodies,
            "simulated": simulated,
            "sources": queries.version_sources(engine),
        }
        package = _package(work, specs, rows, series, about)
        (work / "datapackage.json").write_text(
            json.dumps(package, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (work / "README.md").write_text(_readme(package, work), encoding="utf-8")
        files = sorted(p.name for p in work.iterdir())
        sums = "".join(f"{_sha256(work / name)}  {name}\n" for name in files)
        (work / "SHA256SUMS").write_text(sums, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Release(
        out,
        [out / name for name in sorted(p.name for p in out.iterdir())],
        rows,
        str(about["data_from"]),
        str(about["data_through"]),
    )
