"""Forecast: when the real data runs out, with and without the consent adjustment; the restricted share r(t) it
applies, measured and forecast; assumptions in the sidebar (their defaults are the CLI's and the report's)."""

from __future__ import annotations

import json

import streamlit as st

from tracker.analysis.forecast import ForecastParams
from tracker.analysis.forecast.model import RUNOUT_SCENARIOS, RUNOUT_SHORT, runout_text
from tracker.analysis.forecast.restriction import backtest_summary
from tracker.dashboard import common
from tracker.publishing.charts import fan_chart, restriction_chart

DEFAULTS = ForecastParams()

st.title("When the real data runs out")
common.filters()  # the forecast rests on every tracked site: no sample, category or weighting filter acts on it
st.sidebar.subheader("Assumptions")
projection = st.sidebar.selectbox("Demand projection", ["historical", "compute", "pooled"], key="projection")
overtraining = st.sidebar.number_input(
    "Overtraining (×)", 0.5, 20.0, DEFAULTS.demand.overtraining, 0.5, key="overtraining"
)
q = DEFAULTS.stock.quality
quality = st.sidebar.slider("Quality filter keeps (95% interval)", 0.02, 0.8, (q.low, q.high), key="quality")

# Only what differs from the defaults is overridden, so untouched assumptions give the CLI's and the report's figures.
overrides = tuple(
    o
    for o, changed in (
        (f'demand.projection="{projection}"', projection != DEFAULTS.demand.projection),
        (f"demand.overtraining={float(overtraining)}", float(overtraining) != DEFAULTS.demand.overtraining),
        (f"stock.quality=[{quality[0]}, {quality[1]}, {q.c}]", (quality[0], quality[1]) != (q.low, q.high)),
    )
    if changed
)
result = common.forecast(common.db_path(), overrides)
st.session_state["forecast_result"] = result
horizon = result.params.end
st.altair_chart(fan_chart(result), width="stretch")
shown = result.runouts()
cols = st.columns(len(shown))
for col, (key, e) in zip(cols, shown.items(), strict=True):
    col.metric(
        f"Run-out, {RUNOUT_SHORT[key]}",
        runout_text(e, horizon=horizon).split(" (")[0],
        help=f"{RUNOUT_SCENARIOS[key]}: median {runout_text(e, horizon=horizon)}"
        if e.median
        else RUNOUT_SCENARIOS[key],
    )
    col.caption(runout_text(e, horizon=horizon))
prefs = result.preferences
if prefs and not prefs.available:
    st.caption(f"No use-preference scenario: {prefs.reason}.")
st.caption(f"Demand: {result.definitions.demand}; {result.definitions.projection}.")
sample = result.sample
rs = result.restricted_share
if sample.measured and rs is not None:
    st.subheader("The restricted share the adjustment applies")
    st.altair_chart(restriction_chart(result), width="stretch")
    st.caption(sample.restricted or "")
    st.caption(f"Usable stock: {result.definitions.usable_stock}.")
    st.caption(f"Forecast: {rs.description}")
    for line in backtest_summary(rs.backtest):
        st.caption(f"Backtest on this series, {line}")
else:
    st.caption(sample.note or "")
st.caption(f"Run-out: {result.definitions.run_out}; {result.definitions.monte_carlo}.")
with st.expander("Every parameter"):
    st.code(json.dumps(result.params.as_dict(), indent=1), language="json")
