"""consent-tracker's dashboard: `consent-tracker dashboard` (or `streamlit run dashboards/app.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "pages"), str(HERE), str(HERE.parent)]

import common  # noqa: E402

st.set_page_config(page_title="consent-tracker", layout="wide")
e = common.engine(common.db_path())
lists = []
if e is not None:
    from tracker.store import catalog

    lists = [i.name for i in catalog.lists(e)]
common.sidebar(lists)
pages = [
    st.Page(str(HERE / "pages" / "overview.py"), title="Overview", url_path="overview", default=True),
    st.Page(str(HERE / "pages" / "agents.py"), title="Agents", url_path="agents"),
    st.Page(str(HERE / "pages" / "signals.py"), title="Signals", url_path="signals"),
    st.Page(str(HERE / "pages" / "sites.py"), title="Sites", url_path="sites"),
    st.Page(str(HERE / "pages" / "forecast.py"), title="Forecast", url_path="forecast"),
    st.Page(str(HERE / "pages" / "gap.py"), title="Synthetic gap", url_path="gap"),
    st.Page(str(HERE / "pages" / "data.py"), title="Data", url_path="data"),
]
st.navigation(pages).run()
