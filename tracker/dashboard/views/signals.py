"""Signals: adoption over time of each use-preference signal and of the terms-of-service classes."""

from __future__ import annotations

import streamlit as st

from tracker import service
from tracker.dashboard import common
from tracker.publishing.charts import adoption_chart
from tracker.records.vocabulary import SIGNAL_NAMES
from tracker.rules.signals.preferences import ADOPTION

st.title("Use-preference signals")
e = common.require_data()
f = common.filters()
chosen = st.multiselect(
    "Signals", list(SIGNAL_NAMES), default=["content_signal", "noai", "tdmrep", "tos_ai_training"], key="signals"
)
if not chosen:
    st.info("Choose at least one signal.")
    st.stop()
coverage = {c.signal: c for c in service.signal_observation(e, chosen)}
# A signal none of whose resources was ever fetched has no line at all, never a line at zero.
drawn = tuple(name for name in chosen if not coverage[name].never)
for name in chosen:
    if coverage[name].never:
        st.info(coverage[name].message.replace(f"{name}: ", f"**{name}**: ", 1) + ": not drawn.")
rows = common.signals(common.db_path(), drawn, f.category) if drawn else []
if rows:
    st.altair_chart(adoption_chart(rows), width="stretch")
elif drawn:
    st.info("No observation of these resources in this sample yet.")
for name in chosen:
    partial = f" ({coverage[name].message.split(': ', 1)[1]})" if coverage[name].missing else ""
    st.text(f"{name}: {ADOPTION[name].definition}{partial}")
st.caption(
    "Each signal is read from every resource that carries it (the same reading as `export latest`, `site`, "
    "`trends --signal` and the change events). Shares are over the sites whose reading is known by the end "
    "of each month: the signal's first resource observed, or another one saying yes; a resource never fetched "
    "is not counted as a no."
)
