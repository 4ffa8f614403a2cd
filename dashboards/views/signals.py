"""Signals: adoption over time of each use-preference signal and of the terms-of-service classes."""

from __future__ import annotations

import _path  # noqa: F401
import common
import streamlit as st

from tracker.charts import adoption_chart
from tracker.signals.preferences import ADOPTION
from tracker.vocabulary import SIGNAL_NAMES

st.title("Use-preference signals")
e = common.require_data()
f = common.filters()
chosen = st.multiselect("Signals", list(SIGNAL_NAMES), default=["content_signal", "noai", "tdmrep",
                                                                  "tos_ai_training"], key="signals")  # fmt: skip
if not chosen:
    st.info("Choose at least one signal.")
    st.stop()
rows = common.signals(common.db_path(), tuple(chosen), f["category"])
st.altair_chart(adoption_chart(rows), width="stretch")
if not rows:
    st.info("No observation of these resources yet: homepages, well-known files and terms come with `crawl`.")
for name in chosen:
    st.text(f"{name}: {ADOPTION[name].definition}")
st.caption("Shares are over the sites whose resource (robots.txt, homepage, tdmrep.json, ai.txt, llms.txt, terms) "
           "was observed by the end of each month; a signal never fetched is not counted as absent.")  # fmt: skip
