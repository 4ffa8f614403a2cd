"""A site's and an agent's use preferences: the one place that decides what counts as "no AI training".

Every face — ``export latest``, ``site``, ``trends --signal`` and, later, the dashboard and the forecast — reads
its answers from here. Crawl permission (robots.txt Allow/Disallow) stays apart: a site can be crawlable and still
say "no training" (signals.md §11).

The rule. A site opts out of training for an agent when any one source says so (aipref's combining rule, the only
cross-source rule any specification states):

====================  ========================================================================================
``content_signal``    a Content-Signal ``ai-train=no``: robots.txt ``*`` group, a group naming the agent, or the
                      homepage's Content-Signal header
``content_usage``     aipref Content-Usage ``train-ai=n`` for ``/``: the robots.txt group that applies to the agent
                      (a named group replaces ``*``), or the homepage's Content-Usage header
``noai``              meta robots / X-Robots-Tag ``noai`` or ``noml``, generic or naming the agent
``noarchive``         meta robots / X-Robots-Tag ``noarchive``, for Amazonbot and Bingbot only (their operators read
                      it as "no model training"; Bing's ``nocache`` still allows training on snippets: not counted)
``tdmrep``            TDMRep reserves text-and-data-mining rights for ``/`` (file < header < meta)
``ai_txt``            Spawning ai.txt opts everything out
``rsl``               the site's RSL license prohibits AI training (or permits usages that exclude it)
``tos``               the terms of service prohibit AI training
====================  ========================================================================================

A resource that was never fetched is unknown (``None``), not "no": an archive import knows only robots.txt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracker.robots import RobotsRules, parse_robots
from tracker.signals.directives import (
    AIPREF_LABELS,
    ai_directives,
    content_signal,
    content_usage,
    content_usage_for,
    group_indices,
)
from tracker.signals.wellknown import (
    ai_txt,
    llms_txt,
    rsl_document,
    rsl_license_urls,
    tdm_effective,
    tdm_for_path,
    tdm_value,
    tdmrep_file,
)
from tracker.vocabulary import OPTOUT_SOURCES, SIGNAL_NAMES, OptoutSource, ResourceKind, SignalName

__all__ = [
    "ADOPTION",
    "ADOPTION_VERSION",
    "TRAINING_DIRECTIVES",
    "VENDOR_DIRECTIVES",
    "Adoption",
    "AgentPreference",
    "Evidence",
    "SitePreferences",
    "adopts",
    "robots_rules",
    "site_preferences",
]

#: Meta robots / X-Robots-Tag directives that opt a page out of AI training for every agent.
TRAINING_DIRECTIVES = ("noai", "noml")
#: Directives that only some operators read as "no training" (signals.md §2, §10): agent token → directives.
VENDOR_DIRECTIVES: dict[str, tuple[str, ...]] = {"amazonbot": ("noarchive",), "bingbot": ("noarchive",)}

#: signals.md §9.3 labels (stored) → the export's vocabulary: prohibited / conditional / unrestricted / unknown.
_TOS_EXPORT = {"prohibited": "prohibited", "conditional": "conditional", "permitted_explicitly": "unrestricted",
               "not_mentioned": "unrestricted", "tos_not_found": "unknown"}  # fmt: skip


class Evidence(Protocol):
    """What was observed of one resource (the store's current or historical version of it)."""

    @property
    def status(self) -> str: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def signals(self) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class AgentPreference:
    """One agent's use preference on a site: opted out of training or not, and which sources say so."""

    agent: str
    training_optout: bool
    sources: tuple[OptoutSource, ...]


def robots_rules(evidence: Evidence | None) -> RobotsRules | None:
    """The parsed rules of a robots.txt observation, or None when it gave no rules to read."""
    if evidence is None or evidence.status != "ok" or evidence.body is None:
        return None
    return parse_robots(evidence.body, truncated=evidence.truncated)


def _ok_body(evidence: Evidence | None) -> bytes | None:
    return evidence.body if evidence is not None and evidence.status == "ok" else None


def _signals(evidence: Evidence | None) -> Mapping[str, Any]:
    if evidence is None or evidence.signals is None:
        return {}
    return evidence.signals


def _star_content_signal(rules: RobotsRules | None) -> dict[str, Any]:
    if rules is None:
        return {}
    _, star = group_indices(rules, "*")
    out: dict[str, Any] = {}
    for r in rules.records_named("content-signal"):
        if r.group in star:
            out.update(content_signal(r.value))
    return out


def _public(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _page_entries(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(page.get("meta_robots", [])) + list(page.get("x_robots_tag", []))


def _page_tdm_reserved(page: Mapping[str, Any]) -> bool:
    values = {**page.get("tdm_meta", {}), **page.get("tdm_header", {})}
    return tdm_value((values.get("tdm-reservation") or "").strip())[0] == 1


@dataclass(slots=True)
class SitePreferences:
    """A site's use preferences from its current (or as-of) resources. Build with :func:`site_preferences`."""

    noai: bool | None
    noml: bool | None
    noimageai: bool | None
    noarchive: bool | None
    tdm_reservation: bool | None
    tdm_policy: str | None
    content_signal: dict[str, Any]
    content_usage: dict[str, Any]
    rsl_license: str | None
    rsl: dict[str, Any] | None
    ai_txt: bool | None
    ai_txt_stance: str | None
    llms_txt: bool | None
    tos: dict[str, Any]
    homepage_status: str
    #: Sources that say "no training" to every agent.
    sources: tuple[OptoutSource, ...]
    _rules: RobotsRules | None = field(default=None, repr=False)
    _entries: list[Mapping[str, Any]] = field(default_factory=list, repr=False)
    _header_usage: dict[str, Any] = field(default_factory=dict, repr=False)
    _cache: dict[str, AgentPreference] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The export's ``signals`` object."""
        return {
            "noai": self.noai, "noml": self.noml, "noimageai": self.noimageai, "noarchive": self.noarchive,
            "tdm_reservation": self.tdm_reservation, "tdm_policy": self.tdm_policy,
            "content_signal": self.content_signal, "content_usage": self.content_usage,
            "rsl_license": self.rsl_license, "rsl": self.rsl, "ai_txt": self.ai_txt,
            "ai_txt_stance": self.ai_txt_stance, "llms_txt": self.llms_txt, "tos": self.tos,
            "homepage_status": self.homepage_status,
        }  # fmt: skip

    def for_agent(self, agent: str) -> AgentPreference:
        """The agent's training preference: the site-wide sources plus those scoped to it."""
        key = agent.lower()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found: set[OptoutSource] = set(self.sources)
        rules = self._rules
        # Most sites have no group-scoped preference lines: then nothing below can differ from the site-wide answer.
        if rules is not None and (rules.records_named("content-signal") or rules.records_named("content-usage")):
            named, _ = group_indices(rules, agent)
            if any(r.group in named and content_signal(r.value).get("ai-train") == "no"
                   for r in rules.records_named("content-signal")):  # fmt: skip
                found.add("content_signal")
            # Content-Usage lines belong to groups: the group that applies to the agent replaces '*'.
            found.discard("content_usage")
            if content_usage_for(rules, agent).get("train-ai") == "n" or self._header_says_no():
                found.add("content_usage")
        scoped = [e for e in self._entries if (e.get("ua_scope") or "").lower() == key] if self._entries else []
        if scoped:
            d = ai_directives(scoped, agent)
            if any(d[x] for x in TRAINING_DIRECTIVES):
                found.add("noai")
        vendor = VENDOR_DIRECTIVES.get(key)
        if vendor and self._entries:
            d = ai_directives(self._entries, agent)
            if any(d.get(x) for x in vendor):
                found.add("noarchive")
        order = [s for s in OPTOUT_SOURCES if s in found]
        pref = AgentPreference(agent, bool(order), tuple(order))
        self._cache[key] = pref
        return pref

    def _header_says_no(self) -> bool:
        return self._header_usage.get("train-ai") == "n"




def site_preferences(resources: Mapping[ResourceKind | str, Evidence]) -> SitePreferences:
    """Decide a site's use preferences from what was observed of each resource kind (absent kinds: unknown)."""
    robots = resources.get("robots")
    rules = robots_rules(robots)
    home = resources.get("homepage")
    page = _signals(home) if home is not None and home.status == "ok" else {}
    entries = _page_entries(page)
    generic = ai_directives([e for e in entries if not e.get("ua_scope")])
    fetched_home = home is not None

    tdm_body = _ok_body(resources.get("tdmrep"))
    tdm = tdm_effective(
        tdm_for_path(tdmrep_file(tdm_body)["rules"], "/") if tdm_body is not None else None,
        page.get("tdm_header", {}), page.get("tdm_meta", {}),
    )  # fmt: skip

    star_cs = _star_content_signal(rules)
    header_cs = content_signal(page.get("content_signal_header") or "")
    cs = {**_public(star_cs), **_public(header_cs)}
    if star_cs.get("ai-train") == "no" or header_cs.get("ai-train") == "no":
        cs["ai-train"] = "no"

    usage = content_usage_for(rules, "*") if rules is not None else {}
    header_usage = {k: v for k, v in content_usage(page.get("content_usage_header") or "").items()
                    if k in AIPREF_LABELS}  # fmt: skip
    merged_usage = {k: v for k, v in usage.items() if k in AIPREF_LABELS}
    for k, v in header_usage.items():
        merged_usage[k] = "n" if "n" in (v, merged_usage.get(k)) else v

    licenses = rsl_license_urls(rules, {}, {"rsl": [r for r in page.get("rsl", []) if "url" in r]})
    licenses += [{"url": u, "location": "link_header"} for u in page.get("link_header_license", [])]
    rsl = _rsl(resources.get("rsl"))
    ai = ai_txt(_ok_body(resources.get("ai_txt")))
    tos = _tos(resources.get("terms"), page.get("tos_link"))

    sources: list[OptoutSource] = []
    if cs.get("ai-train") == "no":
        sources.append("content_signal")
    if merged_usage.get("train-ai") == "n":
        sources.append("content_usage")
    if any(generic[d] for d in TRAINING_DIRECTIVES):
        sources.append("noai")
    if tdm["reservation"]:
        sources.append("tdmrep")
    if ai.get("stance") == "full_optout":
        sources.append("ai_txt")
    if (rsl or {}).get("training") == "prohibited":
        sources.append("rsl")
    if tos.get("ai_training") == "prohibited":
        sources.append("tos")
    return SitePreferences(
        noai=generic["noai"] if fetched_home else None,
        noml=generic["noml"] if fetched_home else None,
        noimageai=generic["noimageai"] if fetched_home else None,
        noarchive=generic["noarchive"] if fetched_home else None,
        tdm_reservation=tdm["reservation"],
        tdm_policy=tdm["policy"],
        content_signal=cs,
        content_usage=merged_usage,
        rsl_license=licenses[0]["url"] if licenses else None,
        rsl=rsl,
        ai_txt=bool(ai.get("present")) if "ai_txt" in resources else None,
        ai_txt_stance=ai.get("stance"),
        llms_txt=bool(llms_txt(_ok_body(resources.get("llms_txt"))).get("present"))
        if "llms_txt" in resources
        else None,
        tos=tos,
        homepage_status=home.status if home is not None else "absent",
        sources=tuple(sources),
        _rules=rules,
        _entries=entries,
        _header_usage=header_usage,
    )


def _rsl(rsl: Evidence | None) -> dict[str, Any] | None:
    if rsl is None or rsl.status == "absent":
        return None
    if rsl.status != "ok":
        return {"status": rsl.status}
    doc = rsl_document(rsl.body)
    return {k: doc.get(k) for k in ("status", "permits", "prohibits", "payments", "training")}


def _tos(terms: Evidence | None, declared: str | None) -> dict[str, Any]:
    if terms is None:  # never looked for: unknown
        return {"url": declared, "scraping": "unknown", "ai_training": "unknown", "evidence": None}
    info = _signals(terms)
    if terms.status != "ok":
        return {"url": info.get("url") or declared, "host": info.get("host"), "scraping": "unknown",
                "ai_training": "unknown", "evidence": None, "found": False}  # fmt: skip
    return {"url": info.get("url"), "host": info.get("host"),
            "scraping": _TOS_EXPORT.get(info.get("scraping", ""), "unknown"),
            "ai_training": _TOS_EXPORT.get(info.get("ai_training", ""), "unknown"),
            "evidence": info.get("evidence"), "flags": info.get("flags", []), "found": True}  # fmt: skip


# -- adoption of single signals over time (trends --signal) ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class Adoption:
    """How one signal is read from one resource kind's versions, and what adopting it means."""

    kind: ResourceKind
    test: Callable[[Evidence], bool]
    definition: str
    #: Lower-case bytes a body must contain to adopt the signal (a robots.txt without "content-signal" cannot say
    #: ai-train=no): a cheap test before parsing, which makes a series over a million versions affordable.
    needs: bytes = b""
    #: Whether adopting it restricts AI use (False for an invitation such as llms.txt): change events say
    #: "restriction"/"reversal" only for signals that restrict.
    restricts: bool = True


def _robots_cs(e: Evidence) -> bool:
    return _star_content_signal(robots_rules(e)).get("ai-train") == "no"


def _robots_cu(e: Evidence) -> bool:
    rules = robots_rules(e)
    return rules is not None and content_usage_for(rules, "*").get("train-ai") == "n"


def _robots_license(e: Evidence) -> bool:
    rules = robots_rules(e)
    return rules is not None and bool(rules.records_named("license"))


def _page(test: Callable[[Mapping[str, Any]], bool]) -> Callable[[Evidence], bool]:
    return lambda e: e.status == "ok" and test(_signals(e))


def _generic(directives: tuple[str, ...]) -> Callable[[Mapping[str, Any]], bool]:
    def test(page: Mapping[str, Any]) -> bool:
        d = ai_directives([e for e in _page_entries(page) if not e.get("ua_scope")])
        return any(d[x] for x in directives)

    return test


def _tdmrep_reserves(e: Evidence) -> bool:
    body = _ok_body(e)
    return body is not None and (tdm_for_path(tdmrep_file(body)["rules"], "/") or {}).get("reservation") == 1


#: Signal name → how its adoption is read. Definitions are printed with every series.
ADOPTION: dict[SignalName, Adoption] = {
    "content_signal": Adoption("robots", _robots_cs, "robots.txt '*' group says Content-Signal ai-train=no",
                               b"content-signal"),
    "content_usage": Adoption("robots", _robots_cu, "robots.txt '*' group says Content-Usage train-ai=n for /",
                              b"content-usage"),
    "rsl_license": Adoption("robots", _robots_license, "robots.txt declares an RSL License:", b"license"),
    "noai": Adoption("homepage", _page(_generic(TRAINING_DIRECTIVES)),
                     "homepage meta robots or X-Robots-Tag has noai or noml (not scoped to one agent)"),
    "noimageai": Adoption("homepage", _page(_generic(("noimageai",))),
                          "homepage meta robots or X-Robots-Tag has noimageai"),
    "tdm_meta": Adoption("homepage", _page(_page_tdm_reserved), "homepage tdm-reservation meta or header is 1"),
    "tdmrep": Adoption("tdmrep", _tdmrep_reserves, "/.well-known/tdmrep.json reserves TDM rights for /"),
    "ai_txt": Adoption("ai_txt", lambda e: ai_txt(_ok_body(e)).get("stance") == "full_optout",
                       "ai.txt opts everything out"),
    "llms_txt": Adoption("llms_txt", lambda e: bool(llms_txt(_ok_body(e)).get("present")),
                         "an llms.txt is present (an invitation, not a restriction)", restricts=False),
    "tos_ai_training": Adoption("terms", _page(lambda s: s.get("ai_training") == "prohibited"),
                                "terms of service prohibit AI training"),
    "tos_scraping": Adoption("terms", _page(lambda s: s.get("scraping") == "prohibited"),
                             "terms of service prohibit scraping"),
}  # fmt: skip
assert tuple(ADOPTION) == SIGNAL_NAMES, "the vocabulary and the adoption table must name the same signals"
#: Bump when an adoption test changes, so cached adoptions (store ``adoptions``) are recomputed.
ADOPTION_VERSION = "1"


def adopts(name: SignalName, evidence: Evidence) -> bool:
    """Whether one version of a resource adopts the signal; a value that cannot be read counts as not adopting."""
    needs = ADOPTION[name].needs
    if needs and (evidence.body is None or needs not in evidence.body.lower()):
        return False
    try:
        return bool(ADOPTION[name].test(evidence))
    except Exception:  # lenient: an unreadable stored value is "not adopting", never a crash of the series
        return False

