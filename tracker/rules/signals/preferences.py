"""A site's and an agent's use preferences: the one place that decides what counts as "no AI training", and the
one reading of each signal's adoption.

Every face — ``export latest``, ``site``, ``trends --signal``, the change events and the dashboard — reads its
answers from here. Crawl permission (robots.txt Allow/Disallow) stays apart: a site can be crawlable and still
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

Observed. A version *says something* (:func:`observed`) when it was fetched: a page (homepage, terms) with status
``ok`` — a 404 page shows no meta tags — and any other resource with any status but a failure or a fetch we did
not make (:data:`UNREAD`: a 404 ``tdmrep.json`` says "no such file"; a 404 robots.txt, "no rules"). Never
observed is ``None``, never ``False``: ``training_optout`` is ``True`` when any observed source says "no",
``False`` only when robots.txt *and the homepage* were observed (the two resources that carry most sources:
robots.txt lines, meta robots, X-Robots-Tag, Content-Signal/Content-Usage/TDMRep headers, the terms and RSL links)
and none says "no", and ``None`` otherwise — after an archive import, a Wayback backfill or ``crawl --resources
robots`` (no homepage), every agent's ``training_optout`` is ``None``. Resources fetched besides (tdmrep.json,
ai.txt, terms, the RSL document) can turn it true; when they were not fetched their own values in ``signals`` are
``None``.

Adoption (:data:`ADOPTION`). Each signal is read from the resources that carry it — Content-Signal from robots.txt
(any group) and the homepage header, TDMRep from the file, the header and the meta tag — by one
:class:`Adoption` reading that the export (``adoption``), ``site``, ``trends --signal``, the change events and the
dashboard all use. A site has adopted a signal that is a source of the rule above when that source says "no" to at
least one agent (any product token, named in robots.txt or not); the other signals (noimageai, tdm_meta,
rsl_license, llms_txt, tos_scraping) by their definitions. The first resource kind of a signal is its *primary* one:
a reading is ``True`` when any observed resource says so, ``False`` when the primary one was observed and nothing
observed says so, and ``None`` (not in a series' sample) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tracker.records.json import Json, JsonObject
from tracker.records.signals import LicenseLink, PageSignals, RobotsDirectives, TdmRule, TermsPage
from tracker.records.site import SiteSignals, TermsSummary
from tracker.records.vocabulary import (
    BODY_KINDS,
    OPTOUT_SOURCES,
    SIGNAL_NAMES,
    UNREAD,
    OptoutSource,
    ResourceKind,
    SignalName,
)
from tracker.rules.robots import RobotsRules, parse_robots
from tracker.rules.signals.directives import (
    AIPREF_LABELS,
    ai_directives,
    content_signal,
    content_usage,
    content_usage_for,
    group_indices,
)
from tracker.rules.signals.wellknown import (
    ai_txt,
    llms_txt,
    rsl_document,
    rsl_license_urls,
    tdm_effective,
    tdm_for_path,
    tdmrep_file,
)

__all__ = [
    "ADOPTION",
    "ADOPTION_VERSION",
    "TRAINING_DIRECTIVES",
    "VENDOR_DIRECTIVES",
    "Adoption",
    "AgentPreference",
    "Evidence",
    "Part",
    "SitePreferences",
    "adopts",
    "observed",
    "robots_rules",
    "site_preferences",
]

#: Meta robots / X-Robots-Tag directives that opt a page out of AI training for every agent.
TRAINING_DIRECTIVES = ("noai", "noml")
#: Directives that only some operators read as "no training" (signals.md §2, §10): agent token → directives.
VENDOR_DIRECTIVES: dict[str, tuple[str, ...]] = {"amazonbot": ("noarchive",), "bingbot": ("noarchive",)}
#: Kinds whose versions keep a page's extracted signals (not a body): they say something only when fetched with 200.
_PAGE_KINDS: frozenset[str] = frozenset({"homepage", "terms"})

#: signals.md §9.3 labels (stored) → the export's vocabulary: prohibited / conditional / unrestricted / unknown.
_TOS_EXPORT = {
    "prohibited": "prohibited",
    "conditional": "conditional",
    "permitted_explicitly": "unrestricted",
    "not_mentioned": "unrestricted",
    "tos_not_found": "unknown",
}


class Evidence(Protocol):
    """What was observed of one resource (the store's current or historical version of it)."""

    @property
    def status(self) -> str: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def signals(self) -> JsonObject | None: ...


def observed(kind: str, evidence: Evidence | None) -> bool:
    """Whether a version of a resource kind says anything: a page (homepage, terms) fetched with status ``ok``; any
    other resource fetched at all (a 404 tdmrep.json says "no such file"), not failed nor left unfetched."""
    if evidence is None:
        return False
    if kind in _PAGE_KINDS:
        return evidence.status == "ok"
    return evidence.status not in UNREAD


@dataclass(frozen=True, slots=True)
class AgentPreference:
    """One agent's use preference on a site: opted out of training (``None``: not observed), and which sources say
    so."""

    agent: str
    training_optout: bool | None
    sources: tuple[OptoutSource, ...]


def robots_rules(evidence: Evidence | None) -> RobotsRules | None:
    """The parsed rules of a robots.txt observation, or None when it gave no rules to read."""
    if evidence is None or evidence.status != "ok" or evidence.body is None:
        return None
    return parse_robots(evidence.body, truncated=evidence.truncated)


def _ok_body(evidence: Evidence | None) -> bytes | None:
    return evidence.body if evidence is not None and evidence.status == "ok" else None


def _signals(evidence: Evidence | None) -> JsonObject:
    if evidence is None or evidence.signals is None:
        return {}
    return evidence.signals


_NO_PAGE = PageSignals()


def _page(evidence: Evidence | None) -> PageSignals:
    """A homepage's signals when it was observed (fetched with 200), else nothing."""
    if evidence is None or evidence.status != "ok" or not evidence.signals:
        return _NO_PAGE
    return PageSignals.from_dict(evidence.signals)


def _terms(evidence: Evidence | None) -> TermsPage | None:
    """A terms page's stored signals (whatever its status), or None when it was never looked for."""
    return TermsPage.from_dict(_signals(evidence)) if evidence is not None else None


def _star_content_signal(rules: RobotsRules | None) -> dict[str, str]:
    if rules is None:
        return {}
    _, star = group_indices(rules, "*")
    out: dict[str, str] = {}
    for r in rules.records_named("content-signal"):
        if r.group in star:
            out.update(content_signal(r.value).values)
    return out


def _cs_no_groups(rules: RobotsRules | None) -> frozenset[int]:
    """The robots.txt groups whose Content-Signal lines say ``ai-train=no`` (a line outside any group says nothing)."""
    if rules is None:
        return frozenset()
    return frozenset(
        r.group
        for r in rules.records_named("content-signal")
        if r.group is not None and content_signal(r.value).get("ai-train") == "no"
    )


def _cs_no_for(rules: RobotsRules | None, agent: str) -> bool:
    """robots.txt says Content-Signal ``ai-train=no`` to the agent: in a ``*`` group or a group naming it."""
    no = _cs_no_groups(rules)
    if not no or rules is None:
        return False
    named, star = group_indices(rules, agent)
    return bool(no & (named | star))


def _cu_no_for(rules: RobotsRules | None, agent: str) -> bool:
    """robots.txt says Content-Usage ``train-ai=n`` for ``/`` to the agent (the group that applies to it)."""
    return rules is not None and content_usage_for(rules, agent).get("train-ai") == "n"


def _header_cs(page: PageSignals) -> dict[str, str]:
    return dict(content_signal(page.content_signal_header or "").values)


def _header_usage(page: PageSignals) -> dict[str, str]:
    return {k: v for k, v in content_usage(page.content_usage_header or "").values.items() if k in AIPREF_LABELS}


def _generic(page: PageSignals) -> dict[str, bool]:
    return ai_directives([e for e in page.directives if not e.ua_scope])


def _noai_for(entries: Sequence[RobotsDirectives], agent: str | None) -> bool:
    """noai or noml in effect for the agent (generic entries, and those scoped to it); None: generic only."""
    d = ai_directives(entries, agent)
    return any(d[x] for x in TRAINING_DIRECTIVES)


def _page_tdm(page: PageSignals) -> bool | None:
    """The homepage's TDMRep layers (header < meta): reserved, not reserved, or silent (None)."""
    return tdm_effective(None, page.tdm_header, page.tdm_meta).reservation


def _file_tdm_rule(evidence: Evidence | None) -> TdmRule | None:
    body = _ok_body(evidence)
    return tdm_for_path(tdmrep_file(body).rules, "/") if body is not None else None


@dataclass(slots=True)
class SitePreferences:
    """A site's use preferences from its current (or as-of) resources. Build with :func:`site_preferences`."""

    #: The site's signals as read: the export's ``signals`` record (None in a field: not observed).
    signals: SiteSignals
    #: Sources that say "no training" to every agent.
    sources: tuple[OptoutSource, ...]
    #: Whether robots.txt and the homepage were both observed: the least that lets ``training_optout`` be False.
    optout_observed: bool
    #: Each signal's adoption (:data:`ADOPTION`): True, False, or None when not observed.
    adoption: dict[SignalName, bool | None] = field(default_factory=dict)
    _rules: RobotsRules | None = field(default=None, repr=False)
    _entries: tuple[RobotsDirectives, ...] = field(default=(), repr=False)
    _header_cs_no: bool = field(default=False, repr=False)
    _header_cu_no: bool = field(default=False, repr=False)
    _cache: dict[str, AgentPreference] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Json]:
        """The export's ``signals`` object (:attr:`signals` as JSON)."""
        return self.signals.as_dict()

    def for_agent(self, agent: str) -> AgentPreference:
        """The agent's training preference: the site-wide sources plus those scoped to it; None when neither a
        source says "no" nor robots.txt and the homepage were observed."""
        key = agent.lower()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found: set[OptoutSource] = set(self.sources)
        rules = self._rules
        # Most sites have no group-scoped preference lines: then nothing below can differ from the site-wide answer.
        if rules is not None and (rules.records_named("content-signal") or rules.records_named("content-usage")):
            if _cs_no_for(rules, agent):
                found.add("content_signal")
            # Content-Usage lines belong to groups: the group that applies to the agent replaces '*'.
            found.discard("content_usage")
            if _cu_no_for(rules, agent) or self._header_cu_no:
                found.add("content_usage")
        scoped = any((e.ua_scope or "").lower() == key for e in self._entries)
        if scoped and _noai_for(self._entries, agent):
            found.add("noai")
        vendor = VENDOR_DIRECTIVES.get(key)
        if vendor and self._entries:
            d = ai_directives(self._entries, agent)
            if any(d.get(x) for x in vendor):
                found.add("noarchive")
        order = tuple(s for s in OPTOUT_SOURCES if s in found)
        pref = AgentPreference(agent, True if order else (False if self.optout_observed else None), order)
        self._cache[key] = pref
        return pref


def site_preferences(resources: Mapping[ResourceKind | str, Evidence]) -> SitePreferences:
    """Decide a site's use preferences from what was observed of each resource kind (absent kinds: unknown)."""
    robots = resources.get("robots")
    rules = robots_rules(robots)
    home = resources.get("homepage")
    page = _page(home)
    entries = page.directives
    generic = _generic(page)
    fetched_home = observed("homepage", home)

    file_rule = _file_tdm_rule(resources.get("tdmrep"))
    tdm = tdm_effective(file_rule, page.tdm_header, page.tdm_meta)

    star_cs = _star_content_signal(rules)
    header_cs = _header_cs(page)
    cs = {**_public(star_cs), **_public(header_cs)}
    if star_cs.get("ai-train") == "no" or header_cs.get("ai-train") == "no":
        cs["ai-train"] = "no"

    usage = content_usage_for(rules, "*") if rules is not None else {}
    header_usage = _header_usage(page)
    merged_usage = {k: v for k, v in usage.items() if k in AIPREF_LABELS}
    for k, v in header_usage.items():
        merged_usage[k] = "n" if "n" in (v, merged_usage.get(k)) else v

    licenses = rsl_license_urls(rules, {}, page.rsl)
    licenses += [LicenseLink(u, "link_header") for u in page.link_header_license]
    rsl = _rsl(resources.get("rsl"))
    ai = ai_txt(_ok_body(resources.get("ai_txt")))
    tos = _tos(resources.get("terms"), page.tos_link)
    adoption = {name: ADOPTION[name].reading(resources) for name in SIGNAL_NAMES}

    sources: list[OptoutSource] = []
    if cs.get("ai-train") == "no":
        sources.append("content_signal")
    if merged_usage.get("train-ai") == "n":
        sources.append("content_usage")
    if any(generic[d] for d in TRAINING_DIRECTIVES):
        sources.append("noai")
    # The signals whose site-wide form is their adoption: one reading, whichever face asks.
    if adoption["tdmrep"]:
        sources.append("tdmrep")
    if adoption["ai_txt"]:
        sources.append("ai_txt")
    if (rsl or {}).get("training") == "prohibited":
        sources.append("rsl")
    if adoption["tos_ai_training"]:
        sources.append("tos")
    return SitePreferences(
        signals=SiteSignals(
            noai=generic["noai"] if fetched_home else None,
            noml=generic["noml"] if fetched_home else None,
            noimageai=generic["noimageai"] if fetched_home else None,
            noarchive=generic["noarchive"] if fetched_home else None,
            tdm_reservation=tdm.reservation,
            tdm_policy=tdm.policy,
            content_signal=dict(cs),
            content_usage=dict(merged_usage),
            rsl_license=licenses[0].url if licenses else None,
            rsl=rsl,
            ai_txt=ai.present if observed("ai_txt", resources.get("ai_txt")) else None,
            ai_txt_stance=ai.stance,
            llms_txt=llms_txt(_ok_body(resources.get("llms_txt"))).present
            if observed("llms_txt", resources.get("llms_txt"))
            else None,
            tos=tos,
            homepage_status=home.status if home is not None else None,
        ),
        sources=tuple(sources),
        optout_observed=observed("robots", robots) and fetched_home,
        adoption=adoption,
        _rules=rules,
        _entries=entries,
        _header_cs_no=header_cs.get("ai-train") == "no",
        _header_cu_no=header_usage.get("train-ai") == "n",
    )


def _public(d: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _rsl(rsl: Evidence | None) -> JsonObject | None:
    if rsl is None or rsl.status == "absent":
        return None
    if rsl.status != "ok":
        return {"status": rsl.status}
    doc = rsl_document(rsl.body).as_dict()
    return {k: doc.get(k) for k in ("status", "permits", "prohibits", "payments", "training")}


def _tos(terms: Evidence | None, declared: str | None) -> TermsSummary:
    info = _terms(terms)
    if terms is None or info is None:  # never looked for: unknown
        return TermsSummary(url=declared, scraping="unknown", ai_training="unknown")
    if terms.status != "ok":
        return TermsSummary(
            url=info.url or declared, host=info.host, scraping="unknown", ai_training="unknown", found=False
        )
    reading = info.reading
    return TermsSummary(
        url=info.url,
        host=info.host,
        scraping=_TOS_EXPORT.get(reading.scraping, "unknown") if reading else "unknown",
        ai_training=_TOS_EXPORT.get(reading.ai_training, "unknown") if reading else "unknown",
        evidence=dict(reading.evidence) if reading else None,
        flags=reading.flags if reading else (),
        found=True,
    )


# -- adoption: one reading per signal ---------------------------------------------------------------------------
#: What one observed resource says towards a signal: yes, no, or (a layer that may be silent, TDMRep's) nothing.
Part = bool | None


@dataclass(frozen=True, slots=True)
class Adoption:
    """How one signal is read from a site's resources, and what adopting it means.

    ``kinds`` are the resource kinds that carry it, the primary one first; ``parts`` what each kind's version says
    (same order). With ``layered`` the kinds are precedence layers, lowest first (TDMRep: file < header < meta) and
    a later non-silent part replaces an earlier one; otherwise any part saying yes is an adoption."""

    kinds: tuple[ResourceKind, ...]
    parts: tuple[Callable[[Evidence], Part], ...]
    definition: str
    #: Lower-case bytes a body must contain to say yes (a robots.txt without "content-signal" cannot say
    #: ai-train=no): a cheap test before parsing, which makes a series over a million versions affordable.
    needs: bytes = b""
    #: Whether adopting it restricts AI use (False for an invitation such as llms.txt): change events say
    #: "restriction"/"reversal" only for signals that restrict.
    restricts: bool = True
    layered: bool = False

    @property
    def kind(self) -> ResourceKind:
        """The primary resource kind: a site whose version of it was observed is in the signal's sample."""
        return self.kinds[0]

    @property
    def body_kind(self) -> ResourceKind | None:
        """The one carrier whose versions are bodies (their parts are cached per body in the store), if any."""
        return next((k for k in self.kinds if k in BODY_KINDS), None)

    def part(self, kind: str, evidence: Evidence) -> Part:
        """What one observed version of a carrier kind says; a value that cannot be read says no."""
        if kind in BODY_KINDS and self.needs and (evidence.body is None or self.needs not in evidence.body.lower()):
            return False
        try:
            return self.parts[self.kinds.index(kind)](evidence)
        except Exception:  # lenient: an unreadable stored value is "not adopting", never a crash of the series
            return False

    def read(self, parts: Mapping[str, Part]) -> bool | None:
        """The reading from the parts of the carriers observed (a kind missing from ``parts``: not observed)."""
        if self.layered:
            value: Part = None
            for k in self.kinds:
                if parts.get(k) is not None:
                    value = parts[k]
            yes = value is True
        else:
            yes = any(parts.get(k) is True for k in self.kinds)
        if yes:
            return True
        return False if self.kind in parts else None

    def reading(self, resources: Mapping[ResourceKind | str, Evidence]) -> bool | None:
        """The reading of a site's resources (kind → its version in effect)."""
        parts: dict[str, Part] = {}
        for k in self.kinds:
            e = resources.get(k)
            if e is not None and observed(k, e):
                parts[k] = self.part(k, e)
        return self.read(parts)


def _robots_part(test: Callable[[RobotsRules], bool]) -> Callable[[Evidence], Part]:
    def part(e: Evidence) -> Part:
        rules = robots_rules(e)
        return rules is not None and test(rules)

    return part


def _page_part(test: Callable[[PageSignals], Part]) -> Callable[[Evidence], Part]:
    return lambda e: test(_page(e))


def _terms_part(axis: str) -> Callable[[Evidence], Part]:
    """The terms prohibit ``axis`` (scraping, ai_training): read only from a terms page fetched with 200."""

    def part(e: Evidence) -> Part:
        terms = _terms(e) if e.status == "ok" else None
        reading = terms.reading if terms is not None else None
        return reading is not None and getattr(reading, axis) == "prohibited"

    return part


def _any_cu_no(rules: RobotsRules) -> bool:
    # Every agent is '*' or a token some group names: those are all the answers the file can give.
    return any(_cu_no_for(rules, t) for t in ("*", *rules.agents_named()))


def _any_noai(page: PageSignals) -> bool:
    entries = page.directives
    scopes = {e.ua_scope or None for e in entries}
    return any(_noai_for(entries, scope) for scope in scopes)


def _file_reserves(e: Evidence) -> Part:
    rule = _file_tdm_rule(e)
    return rule is not None and rule.reservation == 1


#: Signal name → how its adoption is read. Definitions are printed with every series.
ADOPTION: dict[SignalName, Adoption] = {
    "content_signal": Adoption(
        ("robots", "homepage"),
        (_robots_part(lambda r: bool(_cs_no_groups(r))), _page_part(lambda p: _header_cs(p).get("ai-train") == "no")),
        "Content-Signal ai-train=no in robots.txt (the '*' group or a group naming any agent) or in the homepage's "
        "header",
        b"content-signal",
    ),
    "content_usage": Adoption(
        ("robots", "homepage"),
        (_robots_part(_any_cu_no), _page_part(lambda p: _header_usage(p).get("train-ai") == "n")),
        "Content-Usage train-ai=n for / in robots.txt (the group that applies to some agent) or in the homepage's "
        "header",
        b"content-usage",
    ),
    "rsl_license": Adoption(
        ("robots", "homepage"),
        (_robots_part(lambda r: bool(r.records_named("license"))), _page_part(lambda p: bool(p.licenses))),
        "an RSL license is declared: robots.txt License:, the homepage's Link header or HTML link",
        b"license",
    ),
    "noai": Adoption(
        ("homepage",),
        (_page_part(_any_noai),),
        "homepage meta robots or X-Robots-Tag has noai or noml (generic, or naming any agent)",
    ),
    "noimageai": Adoption(
        ("homepage",),
        (_page_part(lambda p: _generic(p)["noimageai"]),),
        "homepage meta robots or X-Robots-Tag has noimageai (not scoped to one agent)",
    ),
    "tdm_meta": Adoption(
        ("homepage",),
        (_page_part(lambda p: _page_tdm(p) is True),),
        "the homepage's TDMRep layers (tdm-reservation header < meta) reserve TDM rights",
    ),
    "tdmrep": Adoption(
        ("tdmrep", "homepage"),
        (_file_reserves, _page_part(_page_tdm)),
        "TDMRep reserves TDM rights for /: /.well-known/tdmrep.json < the homepage's tdm-reservation header < meta",
        layered=True,
    ),
    "ai_txt": Adoption(
        ("ai_txt",), (lambda e: ai_txt(_ok_body(e)).stance == "full_optout",), "ai.txt opts everything out"
    ),
    "llms_txt": Adoption(
        ("llms_txt",),
        (lambda e: llms_txt(_ok_body(e)).present,),
        "an llms.txt is present (an invitation, not a restriction)",
        restricts=False,
    ),
    "tos_ai_training": Adoption(
        ("terms",),
        (_terms_part("ai_training"),),
        "terms of service prohibit AI training",
    ),
    "tos_scraping": Adoption(("terms",), (_terms_part("scraping"),), "terms of service prohibit scraping"),
}
assert tuple(ADOPTION) == SIGNAL_NAMES, "the vocabulary and the adoption table must name the same signals"
# A body's part is cached per (body, signal): a signal may have one body-carrying kind only (bodies are shared by
# sha256, so the same bytes may be a robots.txt and an ai.txt).
assert all(sum(k in BODY_KINDS for k in a.kinds) <= 1 for a in ADOPTION.values())
#: Bump when an adoption reading changes, so cached parts (store ``adoptions``) and change events are recomputed.
#: 2: one reading per signal over every resource that carries it (was: one resource kind each).
ADOPTION_VERSION = "2"


def adopts(name: SignalName, evidence: Evidence, kind: str | None = None) -> bool:
    """Whether one version of one resource kind (default: the signal's primary kind) says the signal is adopted."""
    a = ADOPTION[name]
    k = kind or a.kind
    return bool(a.part(k, evidence)) if observed(k, evidence) else False
