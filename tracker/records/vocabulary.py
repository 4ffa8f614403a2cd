"""The project's vocabulary, defined once: resource kinds, fetch statuses, stances, run kinds and statuses,
version sources, signal names, training opt-out sources, purposes, and the choices the faces offer.

Pure (no imports from the rest of the project): the parsers, the network code, the store, the analysis, the CLI
and the dashboard all import their names from here, so a spelling cannot drift between them. Literals type the
values; the tuples and frozensets beside them are what code iterates over and checks against.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args

__all__ = [
    "BODY_KINDS",
    "CATEGORIES",
    "CHANGE_TYPES",
    "CONTROL_USE",
    "FETCH_STATUSES",
    "JOBS",
    "LABEL_SOURCES",
    "NO_RULES",
    "OPTOUT_SOURCES",
    "PURPOSES",
    "RESOURCE_KINDS",
    "RUN_KIND_NAMES",
    "SIGNAL_NAMES",
    "STANCES",
    "STANCE_MEANINGS",
    "UNREACHABLE",
    "UNREAD",
    "VERSION_SOURCES",
    "VIA",
    "Category",
    "ChangeType",
    "ExportFormat",
    "FetchStatus",
    "Freq",
    "GroupBy",
    "GroupSource",
    "JobName",
    "LabelSource",
    "OptoutSource",
    "OutputFormat",
    "Purpose",
    "ReportFormat",
    "ResourceKind",
    "Rule",
    "RunKind",
    "RunStatus",
    "SignalName",
    "StanceName",
    "VersionSource",
    "Via",
    "Weighting",
]

#: What the crawler fetches from a site; each is a separate history (versions) in the store.
ResourceKind = Literal["robots", "homepage", "tdmrep", "ai_txt", "llms_txt", "terms", "rsl"]
RESOURCE_KINDS: tuple[ResourceKind, ...] = get_args(ResourceKind)
#: Kinds whose bodies are stored (capped); homepages and terms pages keep only their extracted signals.
BODY_KINDS: frozenset[ResourceKind] = frozenset({"robots", "tdmrep", "ai_txt", "llms_txt", "rsl"})

#: The outcome class of a fetch. ``no_robots`` is a 4xx robots.txt, ``absent`` a 4xx for any other resource,
#: ``disallowed`` a resource not requested (our robots.txt group forbids it, or robots.txt was unreachable).
FetchStatus = Literal[
    "ok",
    "empty",
    "soft404_html",
    "no_robots",
    "absent",
    "blocked_4xx",
    "redirect_loop",
    "unreachable",
    "network_error",
    "disallowed",
]
FETCH_STATUSES: tuple[FetchStatus, ...] = get_args(FetchStatus)
#: Statuses under which a site has no robots.txt rules at all (crawlers may fetch anything).
NO_RULES: frozenset[FetchStatus] = frozenset({"empty", "soft404_html", "no_robots", "blocked_4xx", "redirect_loop"})
#: Statuses under which RFC 9309 says "assume complete disallow": reported apart, never as allowed or blocked.
UNREACHABLE: frozenset[FetchStatus] = frozenset({"unreachable", "network_error"})
#: Statuses under which a fetch says nothing about consent: it failed, or we did not make it (our robots.txt group
#: forbade it, or robots.txt was unreachable).
UNREAD: frozenset[str] = frozenset(UNREACHABLE | {"disallowed"})

#: An agent's standing in one robots.txt (README: "What the stance means").
StanceName = Literal[
    "no_robots", "unreachable", "allowed", "explicit_allow", "partial_block", "near_full_block", "full_block"
]
STANCES: tuple[StanceName, ...] = get_args(StanceName)
#: What each stance means, over the five probe paths ('/', '/index.html', '/a1b2c3/', '/a1b2c3/x.html', '/?q=1').
STANCE_MEANINGS: dict[StanceName, str] = {
    "no_robots": "no robots.txt (4xx, empty, an HTML page, too many redirects): anything may be fetched",
    "unreachable": "429, 5xx or a network error: RFC 9309 says assume complete disallow; reported apart",
    "allowed": "no Disallow applies",
    "explicit_allow": "a group naming the agent allows it (e.g. Allow: /)",
    "partial_block": "some Disallow rule applies, but ordinary pages are allowed",
    "near_full_block": "only '/' or single files (/llms.txt, …$) allowed, everything else disallowed",
    "full_block": "every probe disallowed",
}
#: Which robots.txt group decided: one naming the agent, the '*' group, or none.
GroupSource = Literal["specific", "wildcard", "none"]
#: How a stance came about, as every face and the SQL views say it: from a group naming the agent, inherited from
#: the '*' group, or no group at all.
Via = Literal["named", "inherited", "none"]
VIA: dict[GroupSource, Via] = {"specific": "named", "wildcard": "inherited", "none": "none"}

#: Where a version came from, and what kind of run recorded it.
VersionSource = Literal["live", "archive", "wayback"]
VERSION_SOURCES: tuple[VersionSource, ...] = get_args(VersionSource)
RunKind = VersionSource
#: What each kind of run is called where a reader sees where the data came from (the report's provenance).
RUN_KIND_NAMES: dict[str, str] = {
    "live": "live crawl",
    "archive": "archive import",
    "wayback": "Wayback Machine backfill",
}
RunStatus = Literal["running", "done", "failed", "interrupted"]

#: Use-preference signals whose adoption ``trends --signal`` follows (definitions: tracker.rules.signals.preferences).
SignalName = Literal[
    "content_signal",
    "content_usage",
    "rsl_license",
    "noai",
    "noimageai",
    "tdm_meta",
    "tdmrep",
    "ai_txt",
    "llms_txt",
    "tos_ai_training",
    "tos_scraping",
]
SIGNAL_NAMES: tuple[SignalName, ...] = get_args(SignalName)
#: The sources that can say "no training" (``training_optout_sources`` in exports).
OptoutSource = Literal["content_signal", "content_usage", "noai", "noarchive", "tdmrep", "ai_txt", "rsl", "tos"]
OPTOUT_SOURCES: tuple[OptoutSource, ...] = get_args(OptoutSource)

#: What a change event does: ``restriction`` (an agent loses '/' or a restricting signal is adopted), ``reversal``
#: (the reverse: a site unblocks an agent or drops a signal — often after a licensing deal), ``modification``
#: (anything else: full_block → partial_block is still blocked for '/', an invitation such as llms.txt appears).
ChangeType = Literal["restriction", "reversal", "modification"]
CHANGE_TYPES: tuple[ChangeType, ...] = get_args(ChangeType)

#: What kind of site it is (tracker.analysis.categories; the forecast's categories too).
Category = Literal[
    "news",
    "social",
    "reference",
    "academic",
    "government",
    "commerce",
    "code",
    "entertainment",
    "adult",
    "other",
    "unknown",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)
#: Where a category label comes from, the most trusted first (a user's own list wins).
LabelSource = Literal["user", "curated", "annotation", "homepage", "tld"]
LABEL_SOURCES: tuple[LabelSource, ...] = get_args(LabelSource)

#: What an agent's operator uses its fetches for.
Purpose = Literal["training", "search", "user", "control", "unknown"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
#: The use a ``control`` token governs: every control token in the registry (Google-Extended, Applebot-Extended,
#: Webzio-Extended) never crawls and exists to opt out of AI training, so it counts with the training agents.
CONTROL_USE: Purpose = "training"


class OutputFormat(StrEnum):
    """How a read command prints."""

    table = "table"
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    """What ``report`` writes."""

    md = "md"
    html = "html"
    pdf = "pdf"
    csv = "csv"


#: The scheduler's jobs, and what each does.
JobName = Literal["robots", "signals", "wayback"]
JOBS: dict[JobName, str] = {
    "robots": "crawl every tracked site's robots.txt",
    "signals": "crawl every resource of every tracked site (robots.txt, homepage, TDMRep, ai.txt, llms.txt, …)",
    "wayback": "top up the robots.txt history from the Wayback Machine (the last two months)",
}
assert tuple(JOBS) == get_args(JobName)


class ExportFormat(StrEnum):
    """How ``export latest`` writes."""

    jsonl = "jsonl"
    csv = "csv"


class Freq(StrEnum):
    """The period of a time series."""

    day = "day"
    week = "week"
    month = "month"


class GroupBy(StrEnum):
    """How agents are grouped in a restriction series."""

    agent = "agent"
    company = "company"
    purpose = "purpose"


class Rule(StrEnum):
    """When a group of agents counts as restricted on a site: any one of them blocked, or every one."""

    any = "any"
    all = "all"


class Weighting(StrEnum):
    """What each site counts for in a share."""

    none = "none"
    tokens = "tokens"
    rank = "rank"
