"""Agents: restriction per agent, company or purpose; named vs inherited from '*'; full vs partial."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker.analysis.headlines import load_milestones
from tracker.dashboard import common
from tracker.publishing.charts import trend_chart
from tracker.rules.agents import CORE_PANEL

st.title("Agents")
e = common.require_data()
f = common.filters()
reg = common.registry()
by = st.radio("Group by", ["agent", "company", "purpose"], horizontal=True, key="by")
tokens = [a.token for a in reg]
default = [t for t in ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot") if t in tokens]
agents = st.multiselect("Agents", tokens, default=default, key="agents") if by == "agent" else []
measure = st.radio(
    "Measure",
    ["blocked_share", "blocked_named_share", "blocked_share_reachable"],
    horizontal=True,
    key="measure",
    help="all blocks, only those naming the agent, or over reachable sites",
)
if by == "agent" and not agents:
    st.info("Choose at least one agent.")
    st.stop()
rows = common.series(common.db_path(), tuple(agents), by, tuple(f.lists or ()) or None, f.category, f.weighting)
st.altair_chart(
    trend_chart(rows, field=measure, title=f"Restriction by {by}", events=load_milestones()), width="stretch"
)
common.caption(rows)
if rows:
    last = rows[-1].period
    table = pd.DataFrame(
        [
            {
                "": r.agent,
                "sites": r.sites,
                "blocked": r.blocked,
                "named": r.blocked_named,
                "inherited from *": r.blocked - r.blocked_named,
                "full": r.full_block,
                "near-full": r.near_full_block,
                "partial": r.partial_block,
                "unreachable": r.unreachable,
                "share": r.blocked_share,
            }
            for r in rows
            if r.period == last
        ]
    )
    st.subheader(f"{last}")
    st.dataframe(table, hide_index=True, key="agents_table")
st.caption(f"The core panel: {', '.join(t for t in CORE_PANEL if t != '*')}.")
