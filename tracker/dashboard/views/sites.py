"""Sites: one site's timeline, a diff of its robots.txt between two versions (as text), its signals and terms."""

from __future__ import annotations

import streamlit as st

from tracker import service
from tracker.dashboard import common
from tracker.records.site import version_summary
from tracker.records.vocabulary import STANCE_MEANINGS
from tracker.rules.signals.preferences import ADOPTION

st.title("Sites")
e = common.require_data()
common.filters()  # no sidebar filter acts on one site
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


def _yes_no(value: bool | None) -> str:
    return "not observed" if value is None else "yes" if value else "no"


def _reading(value: object) -> str:
    """A signal as read, as text (never rendered): 'not observed' for None, 'none' for an empty reading."""
    if value is None:
        return "not observed"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_reading(v)}" for k, v in value.items() if v is not None) or "none"
    if isinstance(value, list):
        return ", ".join(_reading(v) for v in value) or "none"
    return str(value)


if cur:
    st.subheader(f"{domain} now: robots.txt {cur.robots_status}, last seen {common.day(cur.fetched_at)}")
    st.dataframe(
        [
            {
                "agent": a,
                "robots.txt stance": v.stance.replace("_", " "),
                "what it means": STANCE_MEANINGS.get(v.stance, ""),  # type: ignore[call-overload]
                "decided by": "a group naming it"
                if v.named
                else "the 'User-agent: *' group"
                if v.inherited
                else "no group",
                "may fetch /": _yes_no(v.allowed_root),
                "opted out of training by a use-preference signal": _yes_no(v.training_optout),
                "which signals": ", ".join(v.training_optout_sources),
            }
            for a, v in info.agents.items()
        ],
        hide_index=True,
        key="site_agents",
    )
    if cur.signals.homepage_status is None:
        st.caption(
            "Opted out by a use-preference signal is *not observed* without the homepage: this site's homepage was "
            "never fetched (an archive import or a robots.txt-only crawl)."
        )
    st.subheader("Use-preference signals")
    st.dataframe(
        [
            {"signal": name, "adopted": _yes_no(adopted), "what counts as adopted": ADOPTION[name].definition}
            for name, adopted in cur.adoption.items()
        ],
        hide_index=True,
        key="site_adoption",
    )
    with st.expander("Every signal as read (text, never rendered)"):
        st.dataframe(
            [{"field": k, "as read": _reading(v)} for k, v in cur.signals.as_dict().items()],
            hide_index=True,
            key="site_signals",
        )
    for axis, sentence in (cur.signals.tos.evidence or {}).items():
        st.text(f"Terms, {axis}: “{sentence}”")
st.subheader("Timeline: what each version changed")
st.dataframe(
    [
        {
            "resource": h.kind,
            "from": common.day(h.first_seen) if h.first_seen else "",
            "until": common.day(h.valid_to) if h.valid_to else "now",
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
