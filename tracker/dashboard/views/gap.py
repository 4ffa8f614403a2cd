"""Synthetic gap: by year and category, the synthetic share of the training mix the forecast implies."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker.analysis.forecast.model import runout_text
from tracker.dashboard import common
from tracker.publishing.charts import gap_chart
from tracker.records.forecast import Quantiles

st.title("Where synthetic data must fill the gap")
common.filters()  # the forecast rests on every tracked site: no sample, category or weighting filter acts on it


def _tokens(i: Quantiles) -> str:
    return f"{i.median / 1e12:,.0f}T ({i.p10 / 1e12:,.0f}–{i.p90 / 1e12:,.0f}T)"


result = common.forecast(common.db_path())
horizon = result.params.end
st.altair_chart(gap_chart(result), width="stretch")
st.dataframe(
    pd.DataFrame(
        [
            {
                "year": str(g.year),
                "largest dataset, median (80%)": _tokens(g.demand_tokens),
                "usable human text, median (80%)": _tokens(g.usable_tokens),
                "synthetic tokens, median (80%)": _tokens(g.synthetic_tokens),
                "synthetic share, median (80%)": f"{g.synthetic_share.median:.0%} "
                f"({g.synthetic_share.p10:.0%}–"
                f"{g.synthetic_share.p90:.0%})",
            }
            for g in result.gap
        ]
    ),
    hide_index=True,
    key="gap_table",
)
if result.categories:
    share_of = result.categories[0].share_of
    st.subheader("By category: which text runs out first")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "category": c.category,
                    "sites": c.sites,
                    f"share of {share_of}": f"{c.share:.1%}",
                    "run-out, median (80%)": runout_text(c.exhaustion, horizon=horizon),
                    "restriction": c.restriction,
                }
                for c in result.categories
            ]
        ),
        hide_index=True,
        key="category_table",
    )
else:
    st.info("No categories yet: `consent-tracker categories assign` (and `categories import`) label the sites.")
st.caption(
    f"{result.definitions.gap}. Demand: {result.definitions.demand}. "
    + (
        f"Measured restriction: {result.sample.date_from} → {result.sample.date_to}."
        if result.sample.measured
        else result.sample.note or ""
    )
)
