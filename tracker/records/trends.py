"""The records of restriction and adoption trends: a period's row, the definition a figure carries, a signal's
adoption row and coverage — frozen values, one JSON shape each (``as_dict``), the one ``trends --format json`` prints.
Computed by tracker.analysis.trends; read by every face.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tracker.records.json import Json
from tracker.records.vocabulary import GroupBy, Rule

__all__ = ["Definition", "SignalCoverage", "SignalRow", "TrendRow"]


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One period's state for one agent (or group of agents)."""

    period: str
    period_end: str
    agent: str
    sites: int
    blocked: int
    blocked_named: int
    blocked_share: float
    blocked_named_share: float
    full_block: int
    near_full_block: int
    partial_block: int
    no_robots: int
    unreachable: int
    blocked_share_reachable: float
    weighting: str
    sites_weight: float
    blocked_weight: float
    weight_measured_share: float  # of sites_weight, the part measured (the rest filled in; 1.0 unweighted)
    full_block_weight: float  # the weight of the sites whose stance is full_block (their count, unweighted)
    # which sites: "all sites", a tracked list ("panel 'panel'", "top 'tranco-top' (Tranco …)"), either in a category
    # ("sites in category 'news'", "top 'tranco-top' in category 'news'")
    sample: str
    rule: str = Rule.any.value  # a group's site is blocked when any (or all) of its agents are

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for CSV/JSON)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Definition:
    """What a restriction figure counts — over which agents, any or all, which sample, dates and weighting — made
    with the figure by :func:`define` and rendered by every face (``text``, ``as_dict``), so no face writes its
    own sentence about what a number means."""

    figure: str  # the group or agent: "training", "OpenAI", "GPTBot"
    group_by: str  # agent, company or purpose
    agents: tuple[str, ...]
    rule: str  # any or all (one agent: any)
    sample: str
    sites: int  # observed at the end
    date_from: str | None
    date_to: str | None
    weighting: str  # "sites", or the weights' label
    weight_measured_share: float | None  # of the weight, the part measured (None: unweighted)

    @property
    def counts(self) -> str:
        """What makes a site count, in one sentence."""
        via = "by a group naming it or by 'User-agent: *'"
        if len(self.agents) == 1:
            return f"a site counts when its robots.txt does not let {self.agents[0]} fetch '/' ({via})"
        training = self.group_by == GroupBy.purpose and self.figure == "training"
        who = (
            f"the {len(self.agents)} agents that collect for or control AI training"
            if training
            else f"the {len(self.agents)} agents of {self.figure}"
        )
        how = "every one" if self.rule == Rule.all else "at least one"
        return f"a site counts when its robots.txt keeps {how} of {who} from fetching '/' ({via})"

    @property
    def members(self) -> str:
        """Which agents, in one sentence."""
        listed = ", ".join(self.agents)
        if self.group_by == GroupBy.purpose and self.figure == "training":
            return (
                f"Agents: the training crawlers and the tokens that control training use (Google-Extended, "
                f"Applebot-Extended …): {listed}. Search-only and user-triggered agents never count."
            )
        return f"Agents: {listed}."

    @property
    def text(self) -> str:
        """The whole definition as one paragraph."""
        dates = f"{self.date_from} → {self.date_to}" if self.date_from else "no observations"
        if self.weight_measured_share is None:
            weighting = "each site counts once"
        else:
            weighting = (
                f"{self.weighting}, {self.weight_measured_share:.1%} of the weight measured (the rest filled in)"
            )
        rule = "" if len(self.agents) == 1 else f" ({self.rule})"
        return (
            f"Restricts {self.figure}{rule}: {self.counts}. {self.members} No robots.txt counts as not "
            "restricting; an unreachable robots.txt (429, 5xx, network error) stays in the denominator, counted "
            f"neither as allowed nor as blocked. Sample: {self.sample}, {self.sites:,} sites observed at the end; "
            f"{dates}, each month's state as of its last day. Weighting: {weighting}."
        )

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, with the rendered ``counts`` and ``text``."""
        return {
            **asdict(self),
            "agents": list(self.agents),
            "counts": self.counts,
            "members": self.members,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class SignalRow:
    """One period's adoption of one signal."""

    period: str
    period_end: str
    signal: str
    sites: int  # sites whose reading is known: the signal's primary resource observed, or another one saying yes
    adopting: int
    share: float
    definition: str

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for CSV/JSON)."""
        return asdict(self)


#: What each resource kind is called when a signal was never observed.
_KIND_NAMES = {
    "robots": "robots.txt",
    "homepage": "homepage",
    "tdmrep": "/.well-known/tdmrep.json",
    "ai_txt": "ai.txt",
    "llms_txt": "llms.txt",
    "terms": "terms-of-service page",
    "rsl": "RSL license",
}


@dataclass(frozen=True, slots=True)
class SignalCoverage:
    """Which of a signal's resources this database ever observed: none (never observed: a face says so instead of
    drawing a zero), some (read from those alone), or all."""

    signal: str
    observed: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def never(self) -> bool:
        """No resource that carries the signal was ever observed."""
        return not self.observed

    @property
    def message(self) -> str:
        """'noai: never observed (no homepage fetched in this database)', or what a partial reading rests on."""
        missing = " or ".join(_KIND_NAMES.get(k, k) for k in self.missing)
        if self.never:
            return f"{self.signal}: never observed (no {missing} fetched in this database)"
        if self.missing:
            alone = " and ".join(_KIND_NAMES.get(k, k) for k in self.observed)
            return f"{self.signal}: read from {alone} alone (no {missing} fetched in this database)"
        return f"{self.signal}: observed"

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON)."""
        return {
            "signal": self.signal,
            "observed": list(self.observed),
            "missing": list(self.missing),
            "message": self.message,
        }
