"""The simulated web of the demo: sites, their robots.txt history and their signals today — made up, deterministic.

Adoption follows the public record in shape (not in names): CCBot blocked by a few news sites for years; GPTBot
blocks from August 2023 (announced the 7th), fast among news sites; Google-Extended from the end of September
2023; ClaudeBot from spring 2024; a few reversals in 2024–2025 (a site unblocks GPTBot, as after a licensing
deal); Content-Signal lines from autumn 2025; llms.txt rising in 2025. Live, some sites show the faults the crawler
meets in real life (slow, 5xx, a bot wall, an HTML page as robots.txt, a redirect loop, an oversized file, binary
garbage), and a few "drifting" sites change their robots.txt while the demo runs, so scheduled crawls find changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = ["DemoSite", "World", "build_world"]

#: Fault kinds a live site may show (served by tracker.operations.demo.web).
FAULTS = ("slow", "status_503", "bot_wall", "soft404", "redirect_loop", "huge", "binary", "www_redirect")
_CATEGORY_ODDS = {  # category → (share of sites, chance to block GPTBot by 2025)
    "news": (0.30, 0.62),
    "reference": (0.10, 0.35),
    "commerce": (0.20, 0.22),
    "social": (0.08, 0.30),
    "entertainment": (0.12, 0.25),
    "code": (0.06, 0.15),
    "academic": (0.07, 0.20),
    "government": (0.07, 0.05),
}
_WORDS = (
    "north",
    "harbor",
    "city",
    "river",
    "summit",
    "pine",
    "lake",
    "valley",
    "metro",
    "coast",
    "prairie",
    "iron",
    "cedar",
    "bright",
    "open",
    "daily",
    "global",
    "union",
    "granite",
    "maple",
    "silver",
    "eagle",
    "bay",
    "sun",
)
_TAILS = {
    "news": ("times", "post", "gazette", "herald", "ledger", "tribune"),
    "reference": ("wiki", "facts", "atlas"),
    "commerce": ("shop", "mart", "deals", "store"),
    "social": ("chat", "circle", "forum"),
    "entertainment": ("tv", "games", "films", "music"),
    "code": ("dev", "git", "stack"),
    "academic": ("journal", "press", "scholar"),
    "government": ("gov", "council", "agency"),
}
START = date(2019, 1, 1)


@dataclass
class DemoSite:
    """One simulated site."""

    domain: str
    rank: int
    category: str
    #: agent → (blocked from, unblocked from or None)
    blocks: dict[str, tuple[date, date | None]] = field(default_factory=dict)
    content_signal_from: date | None = None
    llms_txt: bool = False
    noai: bool = False
    tdmrep: bool = False
    ai_txt: bool = False
    terms_prohibit_ai: bool = False
    fault: str | None = None
    drift_minutes: float | None = None  # minutes after the demo starts when it blocks ClaudeBot and CCBot

    def robots(self, on: date, *, drifted: bool = False) -> str:
        """Its robots.txt as of a day (``drifted``: after its live change)."""
        lines = [
            "# simulated by consent-tracker up --demo",
            "User-agent: *",
            "Disallow: /search",
            "Disallow: /account/",
        ]
        if self.content_signal_from and on >= self.content_signal_from:
            lines.append("Content-Signal: search=yes, ai-train=no")
        lines.append("")
        blocked = [a for a, (start, end) in sorted(self.blocks.items()) if start <= on and (end is None or on < end)]
        if drifted:
            blocked = sorted(set(blocked) | {"ClaudeBot", "CCBot"})
        for agent in blocked:
            lines += [f"User-agent: {agent}", "Disallow: /", ""]
        lines.append(f"Sitemap: https://{self.domain}/sitemap.xml")
        return "\n".join(lines) + "\n"

    def robots_history(self, until: date) -> list[tuple[date, str]]:
        """(first day, robots.txt) of each version from the start until a day."""
        days = {START, *(d for s, e in self.blocks.values() for d in (s, e) if d is not None)}
        if self.content_signal_from:
            days.add(self.content_signal_from)
        return [(d, self.robots(d)) for d in sorted(x for x in days if x <= until)]


@dataclass
class World:
    """Every simulated site, by domain."""

    sites: dict[str, DemoSite]
    today: date

    def ranked(self) -> list[DemoSite]:
        """Sites by rank."""
        return sorted(self.sites.values(), key=lambda s: s.rank)


def _when(rng: random.Random, start: date, scale_days: float, until: date) -> date | None:
    d = start + timedelta(days=int(rng.expovariate(1 / scale_days)))
    return d if d <= until else None


def build_world(n: int = 200, *, seed: int = 2023, today: date | None = None) -> World:
    """A deterministic simulated web of ``n`` sites."""
    rng = random.Random(seed)
    today = today or date.today()
    cats = list(_CATEGORY_ODDS)
    weights = [_CATEGORY_ODDS[c][0] for c in cats]
    sites: dict[str, DemoSite] = {}
    rank = 0
    while len(sites) < n:
        cat = rng.choices(cats, weights)[0]
        domain = f"{rng.choice(_WORDS)}{rng.choice(_TAILS[cat])}.test"
        if domain in sites:
            domain = f"{domain[:-5]}{len(sites)}.test"
        rank += 1
        site = DemoSite(domain, rank, cat)
        odds = _CATEGORY_ODDS[cat][1] * (1.25 if rank <= n // 4 else 1.0)  # the biggest sites moved first
        if cat == "news" and rng.random() < 0.15:
            site.blocks["CCBot"] = (_when(rng, date(2019, 6, 1), 600, today) or today, None)
        if rng.random() < odds:
            gpt = _when(rng, date(2023, 8, 8), 120, today)
            if gpt:
                site.blocks["GPTBot"] = (gpt, None)
                if rng.random() < 0.6:
                    site.blocks.setdefault("CCBot", (gpt, None))
                if rng.random() < 0.65:
                    ge = _when(rng, max(gpt, date(2023, 9, 29)), 90, today)
                    if ge:
                        site.blocks["Google-Extended"] = (ge, None)
                if rng.random() < 0.45:
                    cb = _when(rng, max(gpt, date(2024, 4, 1)), 150, today)
                    if cb:
                        site.blocks["ClaudeBot"] = (cb, None)
                if rng.random() < 0.06:  # a licensing deal: GPTBot allowed again
                    back = _when(rng, max(gpt + timedelta(days=60), date(2024, 5, 1)), 200, today)
                    if back:
                        site.blocks["GPTBot"] = (gpt, back)
        if rng.random() < 0.12:
            site.content_signal_from = _when(rng, date(2025, 9, 25), 60, today)
        site.llms_txt = rng.random() < (0.18 if cat in ("code", "commerce") else 0.06)
        site.noai = rng.random() < 0.05
        site.tdmrep = cat in ("news", "academic") and rng.random() < 0.12
        site.ai_txt = rng.random() < 0.03
        site.terms_prohibit_ai = cat == "news" and rng.random() < 0.45
        sites[domain] = site
    ordered = sorted(sites.values(), key=lambda s: s.rank)
    for i, site in enumerate(ordered[10::17][: len(FAULTS)]):
        site.fault = FAULTS[i]
    for k, site in enumerate(s for s in ordered[5:] if s.fault is None and "ClaudeBot" not in s.blocks):
        if k >= 3:
            break
        site.drift_minutes = 1.0 + 2.0 * k
    return World(sites, today)
