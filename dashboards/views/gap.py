"""Synthetic gap: by year and category, the synthetic share of the training mix the forecast implies."""

from __future__ import annotations

import _path  # noqa: F401
import common
import pandas as pd
import streamlit as st

from tracker.charts import gap_chart

st.title("Where synthetic data must fill the gap")


result = common.forecast(common.db_path())
st.altair_chart(gap_chart(result), width="stretch")
st.dataframe(pd.DataFrame([{"year": str(g["year"]),
                            "synthetic tokens, median (T)": round(g["synthetic_tokens"]["median"] / 1e12, 1),
                            "synthetic share, median": f"{g['synthetic_share']['median']:.0%}",
                            "80% interval of the share": f"{g['synthetic_share']['p10']:.0%}–"
                                                         f"{g['synthetic_share']['p90']:.0%}"} for g in result["gap"]]),
             hide_index=True, key="gap_table")  # fmt: skip
if result["categories"]:
    st.subheader("By category: which text runs out first")
    st.dataframe(pd.DataFrame([{"category": c["category"], "sites": c["sites"],
                                "token share": f"{c['token_share']:.1%}",
                                "run-out (median)": round(c["exhaustion"]["median"], 1) if c["exhaustion"]["median"]
                                else "after 2040", "restriction": c["restriction"]}
                               for c in result["categories"]]), hide_index=True, key="category_table")  # fmt: skip
else:
    st.info("No categories yet: `consent-tracker categories assign` (and `categories import`) label the sites.")
st.caption("gap = max(0, largest training dataset − usable human text); synthetic share = gap / dataset. "
           + ("Measured restriction: " + result["sample"]["from"] + " → " + result["sample"]["to"]
              if result["sample"].get("measured") else result["sample"]["note"]))  # fmt: skip
