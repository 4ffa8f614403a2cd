"""Changes: what sites changed, newest first — restrictions and reversals apart — each linked to its diff."""

from __future__ import annotations

from datetime import date

import streamlit as st

from tracker import service
from tracker.dashboard import common
from tracker.records.changes import site_link
from tracker.records.vocabulary import CHANGE_TYPES


def _readable(reading: str | None) -> str | None:
    """A stance as a reader reads it: "partial block (from 'User-agent: *')" for "partial_block via *"."""
    if reading is None:
        return None
    stance, via, _ = reading.partition(" via *")
    return stance.replace("_", " ") + (" (from 'User-agent: *')" if via else "")


st.title("Changes")
e = common.require_data()
f = common.filters(category=True)
first, last = common.bounds(common.db_path())
# Three years back from the last observation (not from today: an archive that ends in the past still shows its waves).
start = max(first, date(last.year - 3, last.month, 1))
cols = st.columns(3)
since = cols[0].date_input("Since", value=start, min_value=first, max_value=last, key="changes_since")
types = cols[1].multiselect("Type", CHANGE_TYPES, default=["restriction", "reversal"], key="changes_types")
agents = cols[2].multiselect("Agents (none: all)", common.agent_choices(), key="changes_agents")
events = service.changes(
    e, since=since, agents=agents or None, category=f.category, changes=types or None, limit=2000
).events
st.caption(
    "An event is a change of one reading of a site between two versions: an agent's robots.txt stance (RFC 9309), "
    "or a signal adopted or dropped. restriction = the agent may no longer fetch '/' (the same rule as 'blocked' in "
    "trends) or a restricting signal was adopted; reversal = the reverse; modification = anything else. Failed "
    "fetches are never events. "
    + f"{len(events):,} events from {common.day(since)} to {common.day(last)}"
    + (" (the newest 2,000)" if len(events) == 2000 else "")
    + f"; {common.EVERY_SITE}; {f.describe(sample=False, weighting=False)}; unweighted."
)
if not events:
    st.info("No changes match. Changes appear when a crawl, backfill or import adds versions.")
    st.stop()
st.dataframe(
    [
        {
            "when": ev.at.date(),
            "site": ev.site,
            "category": ev.category or "not categorised",
            "agent / signal": ev.subject,
            "before": _readable(ev.before),
            "after": _readable(ev.after),
            "type": ev.change,
            "source": ev.source,
            "diff": site_link("", ev.site, ev),
        }
        for ev in events
    ],
    hide_index=True,
    key="changes_table",
    column_config={"diff": st.column_config.LinkColumn("diff", display_text="open")},
)
st.download_button(
    "Download CSV", common.csv_bytes([ev.as_dict() for ev in events]), "changes.csv", "text/csv", key="changes_csv"
)
