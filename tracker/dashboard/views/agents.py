"""Agents: restriction per agent, company or purpose; named vs inherited from '*'; full vs partial."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker.analysis.headlines import load_milestones
from tracker.dashboard import common
from tracker.publishing.charts import trend_chart
from tracker.rules.agents import CORE_PANEL

#: The measures a reader can draw, as the radio labels them.
MEASURES = {
    "blocked_share": "share blocked",
    "blocked_named_share": "share blocked by a group naming it",
    "blocked_share_reachable": "share blocked, of reachable sites",
}

st.title("Agents")
e = common.require_data()
f = common.filters(sample=True, category=True, weighting=True)
reg = common.registry()
by = st.radio("Group by", ["agent", "company", "purpose"], horizontal=True, key="by")
tokens = [a.token for a in reg]
default = [t for t in common.MAIN_AGENTS if t in tokens]
agents = st.multiselect("Agents", tokens, default=default, key="agents") if by == "agent" else []
measure = st.radio(
    "Measure",
    list(MEASURES),
    horizontal=True,
    key="measure",
    format_func=MEASURES.__getitem__,
    help="Every block; only blocks by a group naming the agent (not inherited from 'User-agent: *'); or every "
    "block over the sites whose robots.txt was reachable.",
)
if by == "agent" and not agents:
    st.info("Choose at least one agent.")
    st.stop()
rows = common.series(common.db_path(), tuple(agents), by, f.lists, f.category, f.weighting)
if not rows:
    st.info(f"No site of this sample and category was observed ({f.describe()}).")
    st.stop()
chosen = f.describe()
st.altair_chart(
    trend_chart(rows, field=measure, title=f"{MEASURES[measure].capitalize()}, by {by}", events=load_milestones()),
    width="stretch",
)
common.caption(rows, chosen=chosen)
last = rows[-1].period
weighted = f.weighting != "sites"
table = pd.DataFrame(
    [
        {
            "": r.agent,
            "sites": r.sites,
            "blocked": r.blocked,
            "by a group naming it": r.blocked_named,
            "inherited from 'User-agent: *'": r.blocked - r.blocked_named,
            "whole site": r.full_block,
            "near-whole site": r.near_full_block,
            "part of the site": r.partial_block,
            "unreachable": r.unreachable,
            MEASURES[measure] + (f" ({common.WEIGHTING_LABELS[f.weighting]})" if weighted else ""): common.percent(
                getattr(r, measure)
            ),
        }
        for r in rows
        if r.period == last
    ]
)
st.subheader(f"As of {common.month(last)}")
st.caption(
    f"Counts of sites (unweighted); the share is the chart's measure{', weighted' if weighted else ''}. {chosen}."
)
st.dataframe(table, hide_index=True, key="agents_table")
st.caption(f"The core panel: {', '.join(t for t in CORE_PANEL if t != '*')}.")
