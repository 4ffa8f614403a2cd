"""consent-tracker's dashboard: `consent-tracker dashboard` (or `streamlit run` on this file)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tracker.dashboard import common

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="consent-tracker", layout="wide")
e = common.engine(common.db_path())
lists = []
if e is not None:
    from tracker import service

    lists = [i.name for i in service.sites_list(e)]
common.sidebar(lists)
common.simulated_banner()
pages = [
    st.Page(str(VIEWS / "overview.py"), title="Overview", url_path="overview", default=True),
    st.Page(str(VIEWS / "agents.py"), title="Agents", url_path="agents"),
    st.Page(str(VIEWS / "signals.py"), title="Signals", url_path="signals"),
    st.Page(str(VIEWS / "changes.py"), title="Changes", url_path="changes"),
    st.Page(str(VIEWS / "sites.py"), title="Sites", url_path="sites"),
    st.Page(str(VIEWS / "forecast.py"), title="Forecast", url_path="forecast"),
    st.Page(str(VIEWS / "gap.py"), title="Synthetic gap", url_path="gap"),
    st.Page(str(VIEWS / "data.py"), title="Data", url_path="data"),
]
st.navigation(pages).run()
