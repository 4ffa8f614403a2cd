"""Directives that travel in headers and robots.txt lines: meta robots / X-Robots-Tag, Content-Signal and
Content-Usage (aipref).

- meta robots and X-Robots-Tag: ``noai``, ``noimageai``, ``noml``, ``noarchive``/``nocache`` (training controls for
  Bing and Amazon), with agent-scoped forms (``X-Robots-Tag: GPTBot: noai``, ``<meta name="GPTBot" …>``);
- Content-Signal (a robots.txt line per group, or a header): ``search``, ``ai-input``, ``ai-train``, ``use``;
- Content-Usage (aipref vocab-07 / attach-05): a Structured-Fields dictionary of ``y``/``n`` tokens, path-scoped
  lines in robots.txt, most restrictive on conflict; legacy labels kept raw.

Pure and lenient: nothing here raises on bad input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tracker.records.signals import ContentSignal, ContentUsage, RobotsDirectives
from tracker.rules.robots import RobotsRules, path_of, pattern_matches

__all__ = [
    "AIPREF_LABELS",
    "AI_DIRECTIVES",
    "ai_directives",
    "content_signal",
    "content_signals_for",
    "content_usage",
    "content_usage_for",
    "group_indices",
    "parse_directives",
    "x_robots_tag",
]

# Directive names that themselves contain ':' (so a leading "name:" before them is not a user-agent scope).
_KNOWN_DIRECTIVES = {
    "all",
    "none",
    "noindex",
    "nofollow",
    "noarchive",
    "nocache",
    "nosnippet",
    "noimageindex",
    "notranslate",
    "max-snippet",
    "max-image-preview",
    "max-video-preview",
    "unavailable_after",
    "indexifembedded",
    "noai",
    "noimageai",
    "noml",
    "index",
    "follow",
}
AI_DIRECTIVES = ("noai", "noimageai", "noml", "noarchive", "nocache")


# -- meta robots / X-Robots-Tag -------------------------------------------------------------------------------
def parse_directives(value: str) -> list[str]:
    """Split a robots directive list ('noindex, noai') into lower-case directives."""
    return [d.strip().lower() for d in value.split(",") if d.strip()]


def x_robots_tag(values: Iterable[str]) -> list[RobotsDirectives]:
    """Parse X-Robots-Tag header values (the header may repeat): one entry per value with directives."""
    out: list[RobotsDirectives] = []
    for raw in values:
        value = raw.strip()
        scope = None
        head, sep, rest = value.partition(":")
        # "googlebot: noindex" is scoped; "max-snippet:50" and "unavailable_after: …" are directives.
        if sep and head.strip() and " " not in head.strip() and "," not in head:
            name = head.strip().lower()
            if name not in _KNOWN_DIRECTIVES:
                scope, value = head.strip(), rest
        directives = parse_directives(value)
        if directives:
            out.append(RobotsDirectives("header", scope, tuple(directives)))
    return out


def ai_directives(entries: Iterable[RobotsDirectives], agent: str | None = None) -> dict[str, bool]:
    """noai / noimageai / noml / noarchive / nocache in effect for an agent (generic entries apply to all)."""
    found: set[str] = set()
    a = (agent or "").lower()
    for e in entries:
        scope = (e.ua_scope or "").lower()
        if scope and scope != a:
            continue
        found.update(d for d in e.directives if d in AI_DIRECTIVES)
    return {d: d in found for d in AI_DIRECTIVES}


# -- Content-Signal -------------------------------------------------------------------------------------------
_CS_VALUES = {"yes": "yes", "y": "yes", "allow": "yes", "no": "no", "n": "no", "disallow": "no"}


def content_signal(raw: str) -> ContentSignal:
    """'search=yes, ai-train=no' → {'search': 'yes', 'ai-train': 'no'} (nonstandard when y/n/allow…)."""
    out: dict[str, str] = {}
    nonstandard = False
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        k, v = key.strip().lower(), value.strip().lower()
        if not sep or not k:
            continue
        if k == "use":
            out["use"] = v  # Cloudflare's newer key (immediate | reference | full): stored raw
            continue
        norm = _CS_VALUES.get(v)
        if norm is None:
            nonstandard = True
            continue
        nonstandard = nonstandard or v not in ("yes", "no")
        out[k] = norm
    return ContentSignal(out, nonstandard)


def content_signals_for(rules: RobotsRules, agent: str) -> dict[str, dict[str, str]]:
    """Content-Signal lines of robots.txt: the group that applies to the agent, and any '*' group."""
    named_groups, star_groups = group_indices(rules, agent)
    group_value: dict[str, str] = {}
    star_value: dict[str, str] = {}
    for r in rules.records_named("content-signal"):
        if r.group is None:
            continue
        if r.group in (named_groups or star_groups):
            group_value.update(content_signal(r.value).values)
        if r.group in star_groups:
            star_value.update(content_signal(r.value).values)
    return {"group": group_value, "star": star_value}


def group_indices(rules: RobotsRules, agent: str) -> tuple[set[int], set[int]]:
    """Indices of the groups naming the agent, and of the '*' groups."""
    named, star = rules.group_index(agent)
    return set(named), set(star)


# -- Content-Usage (aipref) -----------------------------------------------------------------------------------
_SF_KEY = re.compile(r"^[a-z*][a-z0-9_.*-]*$")
_SF_TOKEN = re.compile(r"^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$")
AIPREF_LABELS = ("train-ai", "search")


def content_usage(raw: str) -> ContentUsage:
    """Parse an RFC 9651 dictionary of aipref preferences: {'train-ai': 'n', ...}; {} if it does not parse.

    Only Token values y/n count for a defined label; unknown keys and parameters are ignored except that labels
    of older drafts are returned raw under '_legacy'. Duplicate keys: the last wins.
    """
    out: dict[str, str] = {}
    legacy: dict[str, str] = {}
    text = raw.strip()
    if not text:
        return ContentUsage()
    for member in _split_sf(text):
        if member is None:
            return ContentUsage()  # a parsing failure makes every preference unknown
        item = member.split(";", 1)[0].strip()
        key, sep, value = item.partition("=")
        key = key.strip()
        if not _SF_KEY.match(key):
            return ContentUsage()
        if not sep:
            val = "?1"  # a bare key is Boolean true: not y/n → unknown
        else:
            val = value.strip()
            if not (_SF_TOKEN.match(val) or (val.startswith('"') and val.endswith('"')) or val.startswith("?")):
                return ContentUsage()
        if key in AIPREF_LABELS:
            if val in ("y", "n"):
                out[key] = val
            else:
                out.pop(key, None)
        else:
            legacy[key] = val
    return ContentUsage(out, legacy)


def _split_sf(text: str) -> list[str | None]:
    parts: list[str | None] = []
    cur = ""
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(cur.strip() or None)
            cur = ""
        else:
            cur += ch
    if quoted:
        return [None]
    parts.append(cur.strip() or None)
    return parts


def content_usage_for(rules: RobotsRules, agent: str, url: str = "/") -> dict[str, str]:
    """The Content-Usage preference for a path: longest path prefix wins, 'n' wins on equal paths; no preference
    on paths the agent may not crawl (attach-05)."""
    path = path_of(url)
    if not rules.verdict(agent, path).allowed:
        return {}
    named, star = group_indices(rules, agent)
    groups = named or star
    best_len = -1
    best: dict[str, str] = {}
    for r in rules.records_named("content-usage"):
        if r.group not in groups:
            continue
        value = r.value.split("#", 1)[0].strip()
        scope = "/"
        if value.startswith("/"):
            scope, _, value = value.partition(" ")
            value = value.strip()
        if not pattern_matches(scope, path):
            continue
        prefs = {k: v for k, v in content_usage(value).values.items() if k in AIPREF_LABELS}
        n = len(scope)
        if n > best_len:
            best_len, best = n, prefs
        elif n == best_len:  # same path, conflicting values: the most restrictive wins (vocab §7.1)
            for k, v in prefs.items():
                best[k] = "n" if "n" in (v, best.get(k)) else v
    return best
