"""Signals beyond robots.txt allow/disallow: every way a site says "not for AI" (signals.md §2–§9, §11).

Pure and lenient: bytes or text in, plain JSON-ready values out; nothing here raises on bad input. Each value keeps
where it came from, and crawl permission (robots.txt) stays apart from use preferences (everything else).

    tracker.rules.signals.html         HTML read by a real parser (lxml): the tags and links the signals need, page text
    tracker.rules.signals.directives   meta robots / X-Robots-Tag, Content-Signal, Content-Usage (aipref)
    tracker.rules.signals.wellknown    TDMRep, ai.txt, RSL, llms.txt
    tracker.rules.signals.page         a homepage's normalised signals (what its stored version is made of)
    tracker.rules.signals.tos          terms of service: finding the page, classifying it
    tracker.rules.signals.preferences  the one rule that decides a site's and an agent's training opt-out
"""

from __future__ import annotations

from tracker.rules.signals.directives import (
    AI_DIRECTIVES,
    AIPREF_LABELS,
    ai_directives,
    content_signal,
    content_signals_for,
    content_usage,
    content_usage_for,
    parse_directives,
    x_robots_tag,
)
from tracker.rules.signals.html import HTML_SCAN_BYTES, Anchor, PageScan, page_text, scan_html
from tracker.rules.signals.page import html_signals, page_signals
from tracker.rules.signals.preferences import (
    ADOPTION,
    AgentPreference,
    SitePreferences,
    adopts,
    robots_rules,
    site_preferences,
)
from tracker.rules.signals.tos import classify_tos, find_tos_links, tos_signals
from tracker.rules.signals.wellknown import (
    ai_txt,
    link_header_licenses,
    llms_txt,
    rsl_document,
    rsl_license_urls,
    tdm_effective,
    tdm_for_path,
    tdm_value,
    tdmrep_file,
)

__all__ = [
    "ADOPTION",
    "AIPREF_LABELS",
    "AI_DIRECTIVES",
    "HTML_SCAN_BYTES",
    "AgentPreference",
    "Anchor",
    "PageScan",
    "SitePreferences",
    "adopts",
    "ai_directives",
    "ai_txt",
    "classify_tos",
    "content_signal",
    "content_signals_for",
    "content_usage",
    "content_usage_for",
    "find_tos_links",
    "html_signals",
    "link_header_licenses",
    "llms_txt",
    "page_signals",
    "page_text",
    "parse_directives",
    "robots_rules",
    "rsl_document",
    "rsl_license_urls",
    "scan_html",
    "site_preferences",
    "tdm_effective",
    "tdm_for_path",
    "tdm_value",
    "tdmrep_file",
    "tos_signals",
    "x_robots_tag",
]
