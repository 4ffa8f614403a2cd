"""Data: the table behind every chart, as formula-safe CSV."""

from __future__ import annotations

import streamlit as st

from tracker.dashboard import common
from tracker.rules.signals.preferences import ADOPTION

st.title("Data")
e = common.require_data()
f = common.filters()
path = common.db_path()
lists = tuple(f.lists or ()) or None
tables = {
    "Restriction by purpose (Overview)": lambda: common.series(path, (), "purpose", lists, f.category, f.weighting),
    "Restriction of the main agents (Agents)": lambda: common.series(
        path, ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot"), "agent", lists, f.category, f.weighting
    ),
    "Adoption of every signal (Signals)": lambda: common.signals(path, tuple(ADOPTION), f.category),
}
choice = st.selectbox("Table", list(tables), key="table")
data = [r.as_dict() for r in tables[choice]()]
st.download_button(
    f"{choice}: {len(data)} rows, CSV", common.csv_bytes(data), file_name="table.csv", mime="text/csv", key="dl_table"
)
st.dataframe(data[:200], hide_index=True, key="table_preview")
result = st.session_state.get("forecast_result")
if result:
    st.download_button(
        "Forecast (the Forecast page's last run), JSON",
        __import__("json").dumps(result.as_dict()),
        file_name="forecast.json",
        mime="application/json",
        key="dl_forecast",
    )
st.caption("CSV cells a spreadsheet would read as a formula are prefixed with '.")
