"""Forecast: when the real data runs out, with and without the consent adjustment; assumptions in the sidebar."""

from __future__ import annotations

import json

import _path  # noqa: F401
import common
import streamlit as st

from tracker.charts import fan_chart

st.title("When the real data runs out")
st.sidebar.subheader("Assumptions")
projection = st.sidebar.selectbox("Demand projection", ["historical", "compute", "pooled"], key="projection")
overtraining = st.sidebar.number_input("Overtraining (×)", 0.5, 20.0, 1.0, 0.5, key="overtraining")
quality = st.sidebar.slider("Quality filter keeps (90% interval)", 0.02, 0.8, (0.1, 0.4), key="quality")
draws = st.sidebar.select_slider("Draws", [5_000, 20_000, 100_000], value=20_000, key="draws")


overrides = (f'demand.projection="{projection}"', f"demand.overtraining={float(overtraining)}",
             f"stock.quality=[{quality[0]}, {quality[1]}, 95]", f"draws={draws}",
             "consent.preferences_sample=1000")  # fmt: skip
result = common.forecast(common.db_path(), overrides)
st.session_state["forecast_result"] = result
st.altair_chart(fan_chart(result), width="stretch")
cols = st.columns(2)
e0, e1 = result["exhaustion"], result["exhaustion_consent_adjusted"]
cols[0].metric("Run-out, all public text (median)", f"{e0['median']:.1f}" if e0["median"] else "after 2040",
               help=f"80%: {e0['p10']} – {e0['p90']}")  # fmt: skip
cols[1].metric("Run-out, minus robots.txt restriction", f"{e1['median']:.1f}" if e1 and e1["median"] else "—",
               help="needs measurements" if not e1 else f"80%: {e1['p10']} – {e1['p90']}")  # fmt: skip
st.text(result["definitions"]["projection"])
sample = result["sample"]
if sample.get("measured"):
    st.caption(f"Restriction measured on {sample['sites_sample']} ({sample['sites']:,} sites), {sample['from']} → "
               f"{sample['to']}, weighted by {sample['weighting']}, for the {sample['group']} agents "
               f"({len(sample['agents'])} in the registry). {sample['restricted']}.")  # fmt: skip
else:
    st.caption(sample["note"])
with st.expander("Every parameter"):
    st.code(json.dumps(result["params"], indent=1), language="json")
