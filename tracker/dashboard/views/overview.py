"""Overview: how much of the web restricts AI training crawlers now, how that changed, and what it rests on."""

from __future__ import annotations

import streamlit as st

from tracker.analysis.headlines import load_milestones
from tracker.dashboard import common
from tracker.publishing.charts import trend_chart

st.title("How much of the web restricts AI training crawlers")
e = common.require_data()
f = common.filters(sample=True, category=True)
chosen = f.describe(weighting=False)
h = common.headline(common.db_path(), f.lists, f.category)
if h.empty:
    st.info(f"No site of this sample and category was observed ({chosen}).")
    st.stop()
now, before = h.by_sites, h.by_sites_year_ago
as_of = common.month(now.period)
st.markdown(f"**As of {as_of}**, the last month observed — {now.sites:,} sites; {chosen}.")
cols = st.columns(4)
cols[0].metric(
    "Restrict AI training (any agent)",
    common.percent(now.blocked_share),
    delta=f"{(now.blocked_share - before.blocked_share) * 100:+.1f} pts since {common.month(before.period)}"
    if before
    else None,
    delta_color="off",
    help=h.definition.counts,
)
cols[1].metric(
    "…by a group naming it",
    common.percent(now.blocked_named_share),
    help="Blocked by a robots.txt group that names a training agent, not inherited from 'User-agent: *'.",
)
if h.all_agents is not None and h.all_agents_definition is not None:
    cols[2].metric(
        "Restrict every training agent",
        common.percent(h.all_agents.blocked_share),
        help=h.all_agents_definition.counts,
    )
if h.by_tokens is not None:
    t0 = h.by_tokens_year_ago
    cols[3].metric(
        "Tokens restricted (any agent)",
        common.percent(h.by_tokens.blocked_share),
        delta=f"{(h.by_tokens.blocked_share - t0.blocked_share) * 100:+.1f} pts since {common.month(t0.period)}"
        if t0
        else None,
        delta_color="off",
        help=h.tokens_definition.text if h.tokens_definition else None,
    )
else:
    cols[3].metric(
        "Tokens restricted", "not measured", help="No token weights stored: `consent-tracker weights import FILE`."
    )
st.altair_chart(
    trend_chart(h.series, title="Sites restricting AI training (any training agent)", events=load_milestones()),
    width="stretch",
)
common.caption(h.series, h.definition, chosen)
with st.expander("What these numbers mean"):
    st.text(h.definition.text)
    if h.all_agents_definition is not None:
        st.text(h.all_agents_definition.text)
    if h.tokens_definition is not None:
        st.text(h.tokens_definition.text)
    st.text(
        f"As of: {as_of} ({now.sites:,} sites; {now.unreachable:,} unreachable, counted apart). "
        f"A year before: {common.month(before.period) if before else 'not observed'}."
    )
st.subheader("Published figures, side by side")
st.caption(
    "Each figure analysts quote (tracker/data/claims.csv), beside ours under the same definition on our own sample "
    "(Δ: ours minus theirs); where ours cannot be computed, what is missing. These rest on every tracked site, "
    "whatever the sidebar chooses."
)
st.dataframe(common.claims(common.db_path()), hide_index=True, key="claims_table")
