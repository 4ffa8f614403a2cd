"""Data: the table behind every chart, as formula-safe CSV."""

from __future__ import annotations

import _path  # noqa: F401
import common
import streamlit as st

from tracker.signals.preferences import ADOPTION
from tracker.trends import signal_series

st.title("Data")
e = common.require_data()
f = common.filters()
path = common.db_path()
lists = tuple(f["lists"] or ()) or None
training = common.series(path, (), "purpose", lists, f["category"], f["weighting"])
agents = common.series(path, ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot"), "agent", lists, f["category"],
                       f["weighting"])  # fmt: skip
signals = signal_series(e, list(ADOPTION), category=f["category"])
for label, rows, key in (("Restriction by purpose (Overview)", training, "dl_purpose"),
                         ("Restriction of the main agents (Agents)", agents, "dl_agents"),
                         ("Adoption of signals (Signals)", signals, "dl_signals")):  # fmt: skip
    data = [r.as_dict() for r in rows]
    st.download_button(f"{label}: {len(data)} rows", common.csv_bytes(data), file_name=f"{key[3:]}.csv",
                       mime="text/csv", key=key)  # fmt: skip
result = st.session_state.get("forecast_result")
if result:
    st.download_button("Forecast (the Forecast page's last run), JSON", __import__("json").dumps(result),
                       file_name="forecast.json", mime="application/json", key="dl_forecast")  # fmt: skip
st.caption("CSV cells a spreadsheet would read as a formula are prefixed with '.")
