"""Data: the table behind every chart, as formula-safe CSV."""

from __future__ import annotations

import json

import streamlit as st

from tracker.dashboard import common
from tracker.rules.signals.preferences import ADOPTION

st.title("Data")
e = common.require_data()
f = common.filters(sample=True, category=True, weighting=True)
path = common.db_path()
tables = {
    "Restriction by purpose (Overview)": (
        lambda: common.series(path, (), "purpose", f.lists, f.category, f.weighting),
        f.describe(),
    ),
    "Restriction of the main agents (Agents)": (
        lambda: common.series(path, common.MAIN_AGENTS, "agent", f.lists, f.category, f.weighting),
        f.describe(),
    ),
    "Adoption of every signal (Signals)": (
        lambda: common.signals(path, tuple(ADOPTION), f.category),
        "every tracked site; " + f.describe(sample=False, weighting=False) + "; unweighted",
    ),
}
choice = st.selectbox("Table", list(tables), key="table")
read, chosen = tables[choice]
data = [r.as_dict() for r in read()]
st.caption(f"{choice}: {len(data):,} rows; {chosen}. The first 200 rows are shown; the CSV has them all.")
st.download_button(
    f"{choice}: {len(data):,} rows, CSV",
    common.csv_bytes(data),
    file_name="table.csv",
    mime="text/csv",
    key="dl_table",
)
st.dataframe(data[:200], hide_index=True, key="table_preview")
result = st.session_state.get("forecast_result")
if result:
    st.download_button(
        "Forecast (the Forecast page's last run), JSON",
        json.dumps(result.as_dict()),
        file_name="forecast.json",
        mime="application/json",
        key="dl_forecast",
    )
st.caption("CSV cells a spreadsheet would read as a formula are prefixed with '.")
