"""What every page shares: the database (named by the settings, resolved here, at the edge), the filters in the
sidebar, cached reads through tracker's functions, and the empty-database message. Pages stay thin.

The dashboard writes nothing (it serves a read-only store too); SQLite in WAL mode lets it read while a crawl writes.
Fetched content is shown as text (st.code, st.text, st.dataframe), never as HTML or Markdown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from tracker import service
from tracker.config import settings
from tracker.records.csv_safety import csv_safe
from tracker.records.forecast import Forecast
from tracker.records.json import JsonObject
from tracker.records.site import SiteHistory
from tracker.records.vocabulary import CATEGORIES, GroupBy, Weighting
from tracker.rules.agents import AgentRegistry

WEIGHTINGS = {"sites": Weighting.none, "tokens": Weighting.tokens, "1/rank": Weighting.rank}


def db_path() -> str:
    """The database the settings name (CONSENT_TRACKER_DB, or data/tracker.db), resolved with every setting."""
    return settings.resolve().db


@st.cache_resource(show_spinner=False)
def engine(path: str) -> Any:
    """The store, or None when there is no database at the path (never created from here)."""
    from tracker.errors import StoreError

    try:
        return service.open_store(path, create=False)
    except StoreError:
        return None


@st.cache_resource(show_spinner=False)
def registry() -> AgentRegistry:
    """The agent registry the settings name."""
    return service.load_registry(settings.resolve())


@dataclass(frozen=True, slots=True)
class Filters:
    """The sidebar's choices, as tracker's parameters: the tracked lists (None: every site), the category (None:
    all) and the weighting."""

    lists: tuple[str, ...] | None
    category: str | None
    weighting: str


def filters() -> Filters:
    """The sidebar's choices (sample, category, weighting)."""
    state = st.session_state
    sample = state.get("sample", "all sites")
    category = state.get("category", "all")
    return Filters(
        None if sample == "all sites" else (sample,),
        None if category == "all" else category,
        state.get("weighting", "sites"),
    )


def sidebar(lists: list[str]) -> None:
    """The filters every page uses."""
    st.sidebar.selectbox(
        "Sample",
        ["all sites", *lists],
        key="sample",
        help="A tracked list: a fixed panel, or a top-N that follows a ranking.",
    )
    st.sidebar.selectbox("Category", ["all", *CATEGORIES], key="category")
    st.sidebar.radio(
        "Weighting",
        list(WEIGHTINGS),
        key="weighting",
        help="tokens: the stored token counts (`weights import`), measured or filled in.",
    )


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


def csv_bytes(rows: Sequence[JsonObject]) -> bytes:
    """Rows as formula-safe CSV."""
    out = io.StringIO()
    if rows:
        w = csv.writer(out)
        w.writerow(list(rows[0]))
        for r in rows:
            w.writerow([csv_safe(v) for v in r.values()])
    return out.getvalue().encode()


def caption(rows: list[Any], definition: Any = None) -> None:
    """The sample, dates, weighting and definition behind a series, under its chart: the series' own
    :class:`tracker.analysis.trends.Definition` when given, else the per-agent one."""
    from tracker.analysis.trends import DEFINITIONS

    if definition is not None:
        st.caption(definition.text)
    elif rows:
        first, last = rows[0], rows[-1]
        st.caption(
            f"Sample: {last.sample}, {last.sites:,} sites at the end; {first.period} → {last.period} "
            f"(state at each month's end); weighting: {last.weighting}. {DEFINITIONS}"
        )


@st.cache_data(ttl=60, show_spinner=False)
def series(
    path: str, agents: tuple[str, ...], by: str, lists: tuple[str, ...] | None, category: str | None, weighting: str
) -> list[Any]:
    """A restriction series through tracker.analysis.trends (cached a minute)."""
    return service.trends(
        engine(path),
        registry(),
        agents=list(agents),
        by=GroupBy(by),
        lists=list(lists) if lists else None,
        category=category,
        weight=WEIGHTINGS[weighting],  # tokens: the stored weights (`weights import`)
    ).rows


@st.cache_data(ttl=60, show_spinner="Reading every version of the resource…")
def signals(path: str, names: tuple[str, ...], category: str | None) -> list[Any]:
    """An adoption series through tracker.analysis.trends (cached a minute)."""
    return service.signal_trends(engine(path), signals=list(names), category=category).rows


@st.cache_data(ttl=60, show_spinner=False)
def headline(path: str, lists: tuple[str, ...] | None, category: str | None) -> Any:
    """The overview's figures through tracker.analysis.headlines (cached a minute)."""
    return service.headline(engine(path), registry(), lists=list(lists) if lists else None, category=category)


@st.cache_data(ttl=60, show_spinner=False)
def site(path: str, domain: str, agents: tuple[str, ...]) -> SiteHistory | None:
    """Everything about one site (cached a minute); ``agents`` empty: the core panel, as ``consent-tracker site``."""
    from tracker.errors import NotFoundError

    try:
        return service.site(engine(path), registry(), domain, agents=list(agents) or None)
    except NotFoundError:
        return None


@st.cache_data(ttl=300, show_spinner="Running the Monte Carlo…")
def forecast(path: str, overrides: tuple[str, ...] = ()) -> Forecast:
    """The forecast through tracker.analysis.forecast, with the same default parameters as the ``forecast`` command
    and the
    report (the same draws and seed: the same figures); cached five minutes, shared by the Forecast and Gap pages."""
    e = engine(path)
    return service.forecast(e, registry() if e is not None else None, overrides=list(overrides))


@st.cache_data(ttl=300, show_spinner="Comparing with published figures…")
def claims(path: str) -> list[dict[str, str]]:
    """Published figures beside ours (tracker.analysis.claims.compare), as the rows every face shows (cached five
    minutes)."""
    return [c.cells().by_heading() for c in service.claims(engine(path), registry())]
