"""consent-tracker's dashboard: `consent-tracker dashboard` (or `streamlit run` on this file).

Each page shows the sidebar filters it acts on (tracker.dashboard.common.filters); the app itself shows only the
navigation and, on a demo database, the simulated-data banner.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tracker.dashboard import common

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="consent-tracker", layout="wide")
common.simulated_banner()
overview = VIEWS / "overview.py"
pages = [
    # The first page is served at "/"; "/overview" opens it too (a hidden twin), so the path it is known by works.
    st.Page(str(overview), title="Overview", url_path="home", default=True),
    st.Page(str(VIEWS / "agents.py"), title="Agents", url_path="agents"),
    st.Page(str(VIEWS / "signals.py"), title="Signals", url_path="signals"),
    st.Page(str(VIEWS / "changes.py"), title="Changes", url_path="changes"),
    st.Page(str(VIEWS / "sites.py"), title="Sites", url_path="sites"),
    st.Page(str(VIEWS / "forecast.py"), title="Forecast", url_path="forecast"),
    st.Page(str(VIEWS / "gap.py"), title="Synthetic gap", url_path="gap"),
    st.Page(str(VIEWS / "data.py"), title="Data", url_path="data"),
    st.Page(str(overview), title="Overview", url_path="overview", visibility="hidden"),
]
st.navigation(pages).run()
