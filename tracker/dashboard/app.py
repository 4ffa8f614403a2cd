"""consent-tracker's dashboard: `consent-tracker dashboard` (or `streamlit run tracker/dashboard/app.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "views"), str(HERE), str(HERE.parents[1])]

import common  # noqa: E402

st.set_page_config(page_title="consent-tracker", layout="wide")
e = common.engine(common.db_path())
lists = []
if e is not None:
    from tracker.store import catalog

    lists = [i.name for i in catalog.lists(e)]
common.sidebar(lists)
common.simulated_banner()
pages = [
    st.Page(str(HERE / "views" / "overview.py"), title="Overview", url_path="overview", default=True),
    st.Page(str(HERE / "views" / "agents.py"), title="Agents", url_path="agents"),
    st.Page(str(HERE / "views" / "signals.py"), title="Signals", url_path="signals"),
    st.Page(str(HERE / "views" / "changes.py"), title="Changes", url_path="changes"),
    st.Page(str(HERE / "views" / "sites.py"), title="Sites", url_path="sites"),
    st.Page(str(HERE / "views" / "forecast.py"), title="Forecast", url_path="forecast"),
    st.Page(str(HERE / "views" / "gap.py"), title="Synthetic gap", url_path="gap"),
    st.Page(str(HERE / "views" / "data.py"), title="Data", url_path="data"),
]
st.navigation(pages).run()
