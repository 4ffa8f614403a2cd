"""Sites: one site's timeline, a diff of its robots.txt between two versions (as text), its signals and terms."""

from __future__ import annotations

import json

import streamlit as st

from tracker import service
from tracker.dashboard import common
from tracker.records.site import adoption_summary, version_summary

st.title("Sites")
e = common.require_data()
# A link from the Changes page, a feed or a webhook: ?site=DOMAIN&from=VERSION&to=VERSION.
asked = st.query_params.get("site")
if asked and "site_query" not in st.session_state:
    st.session_state["site_query"] = asked
prefix = st.text_input("Search a site", key="site_query", placeholder="nytimes")
domains = service.site_search(e, prefix, limit=50)
if not domains:
    st.info("No site matches.")
    st.stop()
domain = st.selectbox("Site", domains, key="site_pick", index=domains.index(asked) if asked in domains else 0)
# The core panel, as `consent-tracker site` shows it: every change of these agents' stances is in the timeline.
info = common.site(common.db_path(), domain, ())
if info is None:
    st.stop()
cur = info.current


def _optout(value: bool | None) -> str:
    return "not observed" if value is None else "yes" if value else "no"


if cur:
    st.subheader(
        f"{domain} now: robots.txt {cur.robots_status}, seen {cur.fetched_at.isoformat() if cur.fetched_at else None}"
    )
    st.dataframe(
        [
            {
                "agent": a,
                "stance": v.stance,
                "may fetch /": v.allowed_root,
                "training opt-out": _optout(v.training_optout),
                "sources": ", ".join(v.training_optout_sources),
            }
            for a, v in info.agents.items()
        ],
        hide_index=True,
        key="site_agents",
    )
    if cur.signals.homepage_status is None:
        st.caption(
            "Training opt-out is *not observed* without the homepage: this site's homepage was never fetched "
            "(an archive import or a robots.txt-only crawl)."
        )
    st.text(f"Adoption (the reading of trends --signal and the change events): {adoption_summary(cur.adoption)}")
    st.text("Signals (as read, never rendered):")
    st.code(json.dumps(cur.signals.as_dict(), indent=1, ensure_ascii=False), language="json")
    for axis, sentence in (cur.signals.tos.evidence or {}).items():
        st.text(f"Terms, {axis}: “{sentence}”")
st.subheader("Timeline: what each version changed")
st.dataframe(
    [
        {
            "resource": h.kind,
            "from": f"{h.first_seen:%Y-%m-%d}" if h.first_seen else "",
            "until": f"{h.valid_to:%Y-%m-%d}" if h.valid_to else "now",
            "status": h.status,
            "source": h.source,
            "what changed": version_summary(h),
        }
        for h in info.history
    ],
    hide_index=True,
    key="timeline",
)
versions = service.robots_versions(e, domain)
if len(versions) >= 2:
    st.subheader("robots.txt between two versions")
    labels = [f"{i + 1}: {v.first_seen:%Y-%m-%d} ({v.status}, {v.source})" for i, v in enumerate(versions)]
    ids = [str(v.version_id) for v in versions]
    want_a, want_b = st.query_params.get("from"), st.query_params.get("to")
    a = st.selectbox(
        "From",
        labels,
        index=ids.index(want_a) if domain == asked and want_a in ids else len(labels) - 2,
        key="diff_from",
    )
    b = st.selectbox(
        "To", labels, index=ids.index(want_b) if domain == asked and want_b in ids else len(labels) - 1, key="diff_to"
    )
    diff = service.robots_diff(versions[labels.index(a)], versions[labels.index(b)])
    st.code(diff or "(identical rules)", language="diff")
elif versions and versions[0].body:
    st.code(versions[0].body.decode("utf-8", "replace")[:20000], language="text")
