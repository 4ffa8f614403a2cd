"""Data: the table behind every chart, as formula-safe CSV."""

from __future__ import annotations

import json

import streamlit as st

from tracker.analysis.headlines import load_milestones
from tracker.dashboard import common
from tracker.rules.signals.preferences import ADOPTION

st.title("Data")
e = common.require_data()
path = common.db_path()
BY_PURPOSE = "Restriction by purpose (Overview)"
MAIN = "Restriction of the main agents (Agents)"
SIGNALS = "Adoption of every signal (Signals)"
EVENTS = "Events marked on the charts (dashed lines)"
choice = st.selectbox("Table", [BY_PURPOSE, MAIN, SIGNALS, EVENTS], key="table")
# The sidebar shows the filters that act on the chosen table, and no other.
restriction = choice in (BY_PURPOSE, MAIN)
f = common.filters(sample=restriction, category=choice != EVENTS, weighting=restriction)
if restriction:
    rows = common.series(
        path,
        common.MAIN_AGENTS if choice == MAIN else (),
        "agent" if choice == MAIN else "purpose",
        f.lists,
        f.category,
        f.weighting,
    )
    data, chosen = [r.as_dict() for r in rows], f.describe()
elif choice == SIGNALS:
    data = [r.as_dict() for r in common.signals(path, tuple(ADOPTION), f.category)]
    chosen = f"{common.EVERY_SITE}; {f.describe(sample=False, weighting=False)}; unweighted"
else:
    data = [
        {"date": m.day.isoformat(), "on the chart": m.mark, "event": m.label, "kind": m.kind, "source": m.source}
        for m in load_milestones()
    ]
    chosen = "the public record (tracker/data/events.csv), the same on every chart and in the report"
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
