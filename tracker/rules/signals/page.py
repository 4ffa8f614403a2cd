"""What a homepage says, normalised: its meta robots (generic and per agent), TDMRep meta and headers,
Content-Signal and Content-Usage headers, RSL links and inline documents, X-Robots-Tag, and its declared terms link.

A homepage's bytes change on every visit; these signals are what its version in the store is made of.
Pure and lenient: nothing here raises.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from tracker.records.signals import PageSignals, RobotsDirectives
from tracker.rules.signals.directives import parse_directives, x_robots_tag
from tracker.rules.signals.html import PageScan, scan_html
from tracker.rules.signals.wellknown import link_header_licenses

__all__ = ["html_signals", "page_signals", "schema_types"]


def html_signals(html: PageScan | bytes | str | None, robots_tokens: Iterable[str] = ()) -> PageSignals:
    """Signals in an HTML page's tags: meta robots (generic, and for the given agent tokens), TDMRep meta, RSL
    links and inline scripts (``{"inline": text}``), and the page's declared terms-of-service link. Reads the first
    512 KiB. (The headers' part is :func:`page_signals`'.)"""
    scan = html if isinstance(html, PageScan) else scan_html(html)
    tokens = {t.lower() for t in robots_tokens}
    meta: list[RobotsDirectives] = []
    tdm: dict[str, str] = {}
    for lower, name, content in scan.metas:
        if lower == "robots" or lower in tokens:
            directives = parse_directives(content)
            if directives:
                meta.append(RobotsDirectives("meta", None if lower == "robots" else name, tuple(directives)))
        elif lower in ("tdm-reservation", "tdm-policy"):
            tdm.setdefault(lower, content)
    rsl: list[dict[str, str]] = [
        {"url": href, "location": "html_link"}
        for rel, type_, href in scan.links
        if "license" in rel and type_ == "application/rsl+xml"
    ]
    rsl += [{"inline": body, "location": "html_inline"} for body in scan.rsl_scripts]
    tos = next((href for rel, _, href in scan.links if "terms-of-service" in rel), None)
    og_type = next((content.lower() for lower, _, content in scan.metas if lower == "og:type" and content), None)
    return PageSignals(
        meta_robots=tuple(meta),
        tdm_meta=tdm,
        rsl=tuple(rsl),
        tos_link=tos,
        og_type=og_type,
        schema_types=tuple(schema_types(scan.jsonld)),
    )


def schema_types(blocks: Iterable[str]) -> list[str]:
    """The schema.org ``@type`` values of JSON-LD blocks (in ``@graph`` too), sorted, at most 20."""
    found: set[str] = set()

    def walk(node: Any, depth: int) -> None:
        if depth > 4 or len(found) >= 20:
            return
        if isinstance(node, list):
            for item in node[:50]:
                walk(item, depth + 1)
        elif isinstance(node, dict):
            t = node.get("@type")
            for v in t if isinstance(t, list) else [t]:
                if isinstance(v, str) and v:
                    found.add(v.rsplit("/", 1)[-1][:60])
            if "@graph" in node:
                walk(node["@graph"], depth + 1)

    for block in blocks:
        try:
            walk(json.loads(block), 0)
        except ValueError:
            continue
    return sorted(found)


def page_signals(
    html: PageScan | bytes | str | None, headers: Mapping[str, str], robots_tokens: Iterable[str] = ()
) -> PageSignals:
    """The normalised signals of a homepage and its response headers (lower-case names; repeated X-Robots-Tag
    values one per line): what the homepage's version is made of (the store keeps its ``as_dict()``)."""
    page = html_signals(html, robots_tokens)
    xrt = headers.get("x-robots-tag")
    return replace(
        page,
        x_robots_tag=tuple(x_robots_tag(xrt.split("\n"))) if xrt else (),
        tdm_header={k: headers[k] for k in ("tdm-reservation", "tdm-policy") if k in headers},
        content_signal_header=headers.get("content-signal"),
        content_usage_header=headers.get("content-usage"),
        rsl=tuple(r for r in page.rsl if "url" in r)
        + tuple(
            {"location": "html_inline", "sha256": hashlib.sha256(r["inline"].encode()).hexdigest()}
            for r in page.rsl
            if "inline" in r
        ),
        link_header_license=tuple(link_header_licenses(headers.get("link", ""))),
    )
