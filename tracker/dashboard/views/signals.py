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
f = common.filters(category=True)
chosen = f.describe(sample=False, weighting=False)
names = st.multiselect("Signals", list(SIGNAL_NAMES), default=list(common.DEFAULT_SIGNALS), key="signals")
if not names:
    st.info("Choose at least one signal.")
    st.stop()
coverage = {c.signal: c for c in service.signal_observation(e, names)}
# A signal none of whose resources was ever fetched has no line at all, never a line at zero.
drawn = tuple(name for name in names if not coverage[name].never)
for name in names:
    if coverage[name].never:
        st.info(
            coverage[name].message.replace(f"{name}: ", f"**{name}**: ", 1)
            + ": not drawn. `consent-tracker crawl` fetches every resource of the tracked sites."
        )
rows = common.signals(common.db_path(), drawn, f.category) if drawn else []
if rows:
    st.altair_chart(
        adoption_chart(rows, subtitle=f"over the sites whose resource was observed; {chosen}"), width="stretch"
    )
elif drawn:
    st.info(f"No observation of these resources in this sample yet ({chosen}).")
end = rows[-1].period if rows else None
last = {r.signal: r for r in rows if r.period == end}
st.dataframe(
    [
        {
            "signal": name,
            "what counts as adopted": ADOPTION[name].definition,
            "observed": "never" if coverage[name].never else coverage[name].message.split(": ", 1)[1],
            f"share, {common.month(end) if end else 'last month'}": common.percent(last[name].share)
            if name in last
            else "not observed",
            "sites whose reading is known": last[name].sites if name in last else None,
        }
        for name in names
    ],
    hide_index=True,
    key="signals_table",
)
st.caption(
    f"Every tracked site; {chosen}; unweighted. Each signal is read from every resource that carries it (the same "
    "reading as `export latest`, `site`, `trends --signal` and the change events). Shares are over the sites whose "
    "reading is known by the end of each month: the signal's first resource observed, or another one saying yes; "
    "a resource never fetched is not counted as a no."
)
