"""What every page shares: the database (named by the settings, resolved here, at the edge), the sidebar filters a
page uses (and only those), reads through tracker's service cached across sessions until the store changes, and
the empty-database message. Pages stay thin.

The dashboard writes nothing (it serves a read-only store too); SQLite in WAL mode lets it read while a crawl writes.
Fetched content is shown as text (st.code, st.text, st.dataframe), never as HTML or Markdown.

The reads are cached by this server process for every session (:class:`Shared`), keyed by the store's
:func:`tracker.service.data_version` — the tag the API's ETag uses — so a figure is computed once per change of the
data, not once a minute; :func:`warm` computes the default pages' figures when the server starts.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from tracker import service
from tracker.config import settings
from tracker.errors import TrackerError
from tracker.records.csv_safety import csv_safe
from tracker.records.forecast import Forecast
from tracker.records.json import JsonObject
from tracker.records.site import SiteHistory
from tracker.records.vocabulary import CATEGORIES, GroupBy, Weighting
from tracker.rules.agents import AgentRegistry

T = TypeVar("T")

#: The weighting choices, as the sidebar labels them, and what each is in tracker's terms.
WEIGHTINGS = {"sites": Weighting.none, "tokens": Weighting.tokens, "1/rank": Weighting.rank}
WEIGHTING_LABELS = {
    "sites": "by sites (each counts 1)",
    "tokens": "by tokens (the stored token counts)",
    "1/rank": "by 1/rank (top sites count more)",
}
#: The sample choice that is no list: every tracked site.
EVERY_SITE = "every tracked site"
#: The four agents the Agents and Data pages start from.
MAIN_AGENTS = ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot")


class Shared:
    """Results shared by every session of this server process: at most ``size`` of them, the least recently used
    dropped first. Two sessions asking for the same result while it is being computed wait for the one computation.
    A failure is not kept (the next asker computes again)."""

    def __init__(self, size: int = 96) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        while True:
            with self._lock:
                if key in self._done:
                    self._done.move_to_end(key)
                    return self._done[key]
                running = self._running.get(key)
                if running is None:
                    self._running[key] = threading.Event()
                    break
            running.wait()
            with self._lock:
                if key not in self._done and key not in self._running:  # it failed: compute it here
                    self._running[key] = threading.Event()
                    break
        try:
            value = compute()
            with self._lock:
                self._done[key] = value
                while len(self._done) > self._size:
                    self._done.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._running.pop(key).set()

    def cached(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._done


SHARED = Shared()
_STORES: dict[str, Any] = {}
_STORES_LOCK = threading.Lock()
_VERSION: dict[str, tuple[float, str]] = {}
#: How long a data version is trusted before it is read again (a few indexed reads).
VERSION_SECONDS = 2.0


def db_path() -> str:
    """The database the settings name (CONSENT_TRACKER_DB, or data/tracker.db), resolved with every setting."""
    return settings.resolve().db


def engine(path: str) -> Any:
    """The store, or None when there is no database at the path (never created from here). Opened once per process;
    a database that appears later is opened when next asked for."""
    with _STORES_LOCK:
        if _STORES.get(path) is None:
            try:
                _STORES[path] = service.open_store(path, create=False)
            except TrackerError:
                return None
        return _STORES[path]


def registry() -> AgentRegistry:
    """The agent registry the settings name."""
    return SHARED.get(("registry", settings.resolve().agents_file), lambda: service.load_registry(settings.resolve()))


def version(path: str) -> str:
    """The store's data version tag (read again at most every :data:`VERSION_SECONDS`): every shared result is keyed
    by it, so none outlives a change of the data."""
    now = time.monotonic()
    seen = _VERSION.get(path)
    if seen is None or now - seen[0] > VERSION_SECONDS:
        e = engine(path)
        tag = service.data_version(e, registry()).tag if e is not None else "none"
        seen = _VERSION[path] = (now, tag)
    return seen[1]


def cache_folder() -> Path:
    """Where results are kept between runs of the server: CONSENT_TRACKER_CACHE, else the user's cache folder
    (XDG_CACHE_HOME or ~/.cache) under consent-tracker/dashboard — never beside the store, which may be read-only."""
    named = os.environ.get("CONSENT_TRACKER_CACHE")
    if named:
        return Path(named)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "consent-tracker" / "dashboard"


@functools.cache
def _code() -> str:
    """This copy of tracker's code (each module's size and time): a result kept by other code is never read."""
    root = Path(__file__).resolve().parents[1]
    files = sorted(root.rglob("*.py"))
    return hashlib.sha256(
        repr([(str(f.relative_to(root)), f.stat().st_mtime_ns, f.stat().st_size) for f in files]).encode()
    ).hexdigest()


def _kept(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its result kept on disk by an earlier run of the server for the same key — the key holds
    the store's data version, so a result kept for other data is never read. Keeping is best effort: a folder
    that cannot be written, or a result that cannot be pickled, only means computing again next time."""
    file = cache_folder() / (hashlib.sha256(repr((_code(), key)).encode()).hexdigest()[:40] + ".pickle")
    try:
        with file.open("rb") as fh:
            return pickle.load(fh)  # type: ignore[no-any-return,unused-ignore]  # written by this code, in the user's own folder
    except FileNotFoundError:
        pass
    except Exception:  # a damaged or outdated file: compute again and replace it
        file.unlink(missing_ok=True)
    value = compute()
    with contextlib.suppress(Exception):
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f"{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, file)
    return value


def prune_cache(keep: int = 400) -> None:
    """Keep the newest ``keep`` kept results (the server does this when it starts)."""
    with contextlib.suppress(OSError):
        files = sorted(cache_folder().glob("*.pickle"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)


def shared(name: str, path: str, args: tuple[Hashable, ...], compute: Callable[[], T], spinner: str = "") -> T:
    """``compute()`` once per data version for every session (``name`` and ``args`` tell results apart), kept on
    disk for the next run of the server; a spinner says what is being computed when it is not ready yet."""
    key = (name, path, version(path), args)
    if name not in ("inputs", "lists", "bounds"):  # small reads: quicker to ask the store than the disk
        compute = functools.partial(_kept, key, compute)
    if spinner and not SHARED.cached(key) and get_script_run_ctx(suppress_warning=True) is not None:
        with st.spinner(spinner):
            return SHARED.get(key, compute)
    return SHARED.get(key, compute)


# -- the sidebar -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Filters:
    """The sidebar's choices, as tracker's parameters: the tracked lists (None: every site), the category (None:
    all) and the weighting (a key of :data:`WEIGHTINGS`)."""

    lists: tuple[str, ...] | None
    category: str | None
    weighting: str

    @property
    def weight(self) -> Weighting:
        return WEIGHTINGS[self.weighting]

    def describe(self, *, sample: bool = True, category: bool = True, weighting: bool = True) -> str:
        """What the filters a page uses chose, in words: the subtitle of what it draws."""
        parts = []
        if sample:
            parts.append(f"sample: {', '.join(self.lists) if self.lists else EVERY_SITE}")
        if category:
            parts.append(f"category: {self.category or 'all'}")
        if weighting:
            parts.append(f"weighting: {WEIGHTING_LABELS[self.weighting]}")
        return "; ".join(parts)


_FILTERS = ("sample", "category", "weighting")


def filters(*, sample: bool = False, category: bool = False, weighting: bool = False) -> Filters:
    """Show the sidebar filters this page acts on (and no other), and return the choices. A choice made on one page
    is kept for the next one that shows the same filter."""
    state = st.session_state
    for k in _FILTERS:  # Streamlit forgets a widget's value on a page that does not show it: keep it beside
        if k not in state and f"_{k}" in state:
            state[k] = state[f"_{k}"]
    if sample:
        lists = [i.name for i in sites_lists(db_path())]
        if state.get("sample") not in (None, EVERY_SITE, *lists):
            state["sample"] = EVERY_SITE
        st.sidebar.selectbox(
            "Sample",
            [EVERY_SITE, *lists],
            key="sample",
            help="Every tracked site, or a tracked list: a fixed panel, or a top-N that follows a ranking "
            "(`consent-tracker sites add`).",
        )
    if category:
        st.sidebar.selectbox(
            "Category",
            ["all", *CATEGORIES],
            key="category",
            help="Sites labelled with this category (`consent-tracker categories assign`).",
        )
    if weighting:
        st.sidebar.radio(
            "Weighting",
            list(WEIGHTINGS),
            key="weighting",
            format_func=WEIGHTING_LABELS.__getitem__,
            help="What a site counts for: 1; its tokens (`consent-tracker weights import FILE`); or 1/rank "
            "(ranks from a top list: `consent-tracker sites add --tranco N`).",
        )
    for k in _FILTERS:
        if k in state:
            state[f"_{k}"] = state[k]
    chosen = Filters(
        None if not sample or state.get("sample", EVERY_SITE) == EVERY_SITE else (state["sample"],),
        None if not category or state.get("category", "all") == "all" else state["category"],
        state.get("weighting", "sites") if weighting else "sites",
    )
    e = engine(db_path())
    inputs = shared("inputs", db_path(), (), lambda: service.sample_inputs(e)) if e is not None else None
    missing = inputs.missing(category=chosen.category, weighting=chosen.weight) if inputs is not None else None
    if missing:
        st.info(missing)
        st.stop()
    return chosen


def require_data() -> Any:
    """The engine, or stop the page with how to fill the database."""
    e = engine(db_path())
    if e is None or service.observation_bounds(e) is None:
        st.info(
            f"No history yet in {db_path()}. Fill it, then reload:\n\n"
            "- `consent-tracker sites add --tranco 1000` then `consent-tracker backfill --since 2016-01` "
            "(history from the Wayback Machine)\n"
            "- `consent-tracker crawl` (today's state of the tracked sites)\n"
            "- `consent-tracker import-archive DIR` (a dated robots.txt archive)"
        )
        st.stop()
    return e


def agent_choices() -> list[str]:
    """Every agent of the registry, training agents first."""
    reg = registry()
    return [a.token for a in sorted(reg, key=lambda a: (a.purpose != "training", a.token.lower()))]


def simulated_banner() -> None:
    """Say on every page when the database holds the demo's simulated data."""
    e = engine(db_path())
    if e is not None:
        from tracker.publishing.report import SIMULATED_NOTE

        if service.is_simulated(e):
            st.warning(SIMULATED_NOTE, icon="⚠️")


# -- readable values ---------------------------------------------------------------------------------------------
def percent(share: float | None, digits: int = 1) -> str:
    """A share as a percentage ("20.7%"); "not observed" for None."""
    return "not observed" if share is None else f"{share:.{digits}%}"


def day(at: date | None) -> str:
    """A moment as the day a reader reads ("14 Jul 2024"); "never" for None."""
    return "never" if at is None else f"{at:%d %b %Y}"


def month(period: str) -> str:
    """A period ("2024-07") as a month a reader reads ("July 2024"); other periods as they are."""
    try:
        return datetime.strptime(period, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return period


def csv_bytes(rows: Sequence[JsonObject]) -> bytes:
    """Rows as formula-safe CSV."""
    out = io.StringIO()
    if rows:
        w = csv.writer(out)
        w.writerow(list(rows[0]))
        for r in rows:
            w.writerow([csv_safe(v) for v in r.values()])
    return out.getvalue().encode()


def caption(rows: list[Any], definition: Any = None, chosen: str = "") -> None:
    """The sample, dates, weighting and definition behind a series, under its chart: the series' own
    :class:`tracker.analysis.trends.Definition` when given, else the per-agent one; ``chosen``: the sidebar's
    choices that shaped it (:meth:`Filters.describe`)."""
    from tracker.analysis.trends import DEFINITIONS

    lead = f"{chosen}. " if chosen else ""
    if definition is not None:
        st.caption(lead + definition.text)
    elif rows:
        first, last = rows[0], rows[-1]
        st.caption(
            f"{lead}Sample: {last.sample}, {last.sites:,} sites at the end; {month(first.period)} → "
            f"{month(last.period)} (state at each month's end); weighting: {last.weighting}. {DEFINITIONS}"
        )


# -- the reads, shared across sessions ---------------------------------------------------------------------------
def sites_lists(path: str) -> list[Any]:
    """Every tracked list with its size."""
    e = engine(path)
    return [] if e is None else shared("lists", path, (), lambda: service.sites_list(e))


def bounds(path: str) -> tuple[date, date]:
    """The first and last day observed (the page has checked there is data: :func:`require_data`)."""
    found = shared("bounds", path, (), lambda: service.observation_bounds(engine(path)))
    assert found is not None
    return found


def series(
    path: str, agents: tuple[str, ...], by: str, lists: tuple[str, ...] | None, category: str | None, weighting: str
) -> list[Any]:
    """A restriction series through tracker's trends."""
    return shared(
        "series",
        path,
        (agents, by, lists, category, weighting),
        lambda: (
            service.trends(
                engine(path),
                registry(),
                agents=list(agents),
                by=GroupBy(by),
                lists=list(lists) if lists else None,
                category=category,
                weight=WEIGHTINGS[weighting],
            ).rows
        ),
        "Counting every site's stance each month…",
    )


def signals(path: str, names: tuple[str, ...], category: str | None) -> list[Any]:
    """An adoption series through tracker's signal trends."""
    return shared(
        "signals",
        path,
        (names, category),
        lambda: service.signal_trends(engine(path), signals=list(names), category=category).rows,
        "Reading every version of the resource…",
    )


def headline(path: str, lists: tuple[str, ...] | None, category: str | None) -> Any:
    """The overview's figures through tracker's headlines."""
    return shared(
        "headline",
        path,
        (lists, category),
        lambda: service.headline(engine(path), registry(), lists=list(lists) if lists else None, category=category),
        "Counting every site's stance each month…",
    )


def site(path: str, domain: str, agents: tuple[str, ...]) -> SiteHistory | None:
    """Everything about one site; ``agents`` empty: the core panel, as ``consent-tracker site``."""
    from tracker.errors import NotFoundError

    def read() -> SiteHistory | None:
        try:
            return service.site(engine(path), registry(), domain, agents=list(agents) or None)
        except NotFoundError:
            return None

    return shared("site", path, (domain, agents), read)


def forecast(path: str, overrides: tuple[str, ...] = ()) -> Forecast:
    """The forecast, with the same default parameters as the ``forecast`` command and the report (the same draws
    and seed: the same figures), shared by the Forecast and Gap pages."""

    def run() -> Forecast:
        e = engine(path)
        return service.forecast(e, registry() if e is not None else None, overrides=list(overrides))

    return shared("forecast", path, overrides, run, "Running the Monte Carlo…")


def claims(path: str) -> list[dict[str, str]]:
    """Published figures beside ours (tracker.analysis.claims.compare), as the rows every face shows."""
    return shared(
        "claims",
        path,
        (),
        lambda: [c.cells().by_heading() for c in service.claims(engine(path), registry())],
        "Comparing with published figures…",
    )


def warm(path: str, *, first: bool) -> None:
    """Compute what the pages show first, with the default filters, before anyone asks: with ``first``, what the
    Overview (the page a reader opens first) and the Agents page need — the server does this before it answers, so
    a first visit finds it ready; without, every other page's figures — the server does this in the background
    once it answers. Results kept on disk by an earlier run (:func:`cache_folder`) are read, not computed. Errors
    are left to the pages, which show them to their reader in their own words."""
    try:
        if first:
            prune_cache()
            import tracker.publishing.charts  # noqa: F401  (Altair and pandas: a second's import)
        e = engine(path)
        if e is None or service.observation_bounds(e) is None:
            return
        jobs: list[Callable[[], object]] = (
            [lambda: headline(path, None, None), lambda: series(path, MAIN_AGENTS, "agent", None, None, "sites")]
            if first
            else [
                lambda: [site(path, d, ()) for d in service.site_search(e, "", limit=1)],  # the Sites page's first
                lambda: signals(path, DEFAULT_SIGNALS, None),
                lambda: forecast(path),
                lambda: claims(path),
                lambda: series(path, (), "purpose", None, None, "sites"),
            ]
        )
        for job in jobs:
            job()
    except Exception:  # a page shows the same error to its reader, with its own words
        return


#: The signals the Signals page starts from.
DEFAULT_SIGNALS = ("content_signal", "noai", "tdmrep", "tos_ai_training")
