"""Benchmark: reading a homepage's signals with a real HTML parser, against the regular expressions it replaced.

What the crawler does with every homepage — meta robots and TDMRep meta, RSL links and scripts, the terms-of-service
link (footer first) — done three ways on the same pages in the same process:

- ours: ``tracker.rules.signals`` (libxml2's HTML5 tokenizer through lxml; the tree is built in C, only the few
  elements the signals need are visited from Python);
- regex: the regular-expression scan this project used until November 2026 (kept here, verbatim, as the peer:
  it read commented-out and scripted tags as real ones);
- bs4: a full BeautifulSoup tree with the lxml builder, when beautifulsoup4 is installed (it is not a dependency).

Pages: the real archived homepages (≥ 50 KB) among the Wayback responses of the shared corpus, and a synthetic
160 KB news homepage (heavy head, 700 teaser blocks, inline JSON, nested footer). Budget: ≤ 10 ms median a page.

    uv run python bench/html_bench.py [--corpus ../shared/corpus] [--repeat 30]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.rules import signals  # noqa: E402

# -- the peer: the regular-expression scan this project used before (tracker/rules/signals.py, November 2026) ---------
_TAG = re.compile(rb"<(meta|link|script)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_SCRIPT_RSL = re.compile(
    rb"""<script\b[^>]*type\s*=\s*["']?application/rsl\+xml["']?[^>]*>(.*?)</script>""", re.IGNORECASE | re.DOTALL
)


def _attrs(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        name = m.group(1).decode("ascii", "replace").lower()
        value = m.group(2) or m.group(3) or m.group(4) or b""
        out.setdefault(name, value.decode("utf-8", "replace").strip())
    return out


def regex_html_signals(html: bytes | str | None, robots_tokens: Iterable[str] = ()) -> dict[str, Any]:
    """Signals in an HTML page's tags: meta robots (generic and per agent), TDMRep meta, RSL links and scripts,
    and the page's declared ToS link if any. Reads the first 512 KiB; never raises."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else (html or b"")
    data = data[: 512 * 1024]
    tokens = {t.lower() for t in robots_tokens}
    meta: list[dict[str, Any]] = []
    tdm: dict[str, str] = {}
    rsl: list[dict[str, str]] = []
    tos: str | None = None
    for m in _TAG.finditer(data):
        tag = m.group(1).lower()
        a = _attrs(m.group(2))
        if tag == b"meta":
            name = a.get("name", "").lower()
            content = a.get("content", "")
            if name == "robots" or name in tokens:
                directives = [d.strip().lower() for d in content.split(",") if d.strip()]
                if directives:
                    meta.append(
                        {
                            "source": "meta",
                            "ua_scope": None if name == "robots" else a.get("name"),
                            "directives": directives,
                        }
                    )
            elif name in ("tdm-reservation", "tdm-policy"):
                tdm.setdefault(name, content)
        elif tag == b"link":
            rel = a.get("rel", "").lower().split()
            if "license" in rel and a.get("type", "").lower() == "application/rsl+xml" and a.get("href"):
                rsl.append({"url": a["href"], "location": "html_link"})
            if "terms-of-service" in rel and a.get("href") and tos is None:
                tos = a["href"]
    for m in _SCRIPT_RSL.finditer(data):
        rsl.append({"inline": m.group(1).decode("utf-8", "replace").strip()[:20000], "location": "html_inline"})
    return {"meta_robots": meta, "tdm_meta": tdm, "rsl": rsl, "tos_link": tos}


_TOS_TEXT = re.compile(
    r"\b(terms(\s+(of|&|and)\s+(service|use|conditions))?|conditions\s+of\s+use|user\s+agreement|legal|"
    r"nutzungsbedingungen|agb|allgemeine\s+geschäftsbedingungen|cgu|conditions\s+générales|mentions\s+légales|"
    r"términos|condiciones|termini|condizioni|gebruiksvoorwaarden|termos|regulamin|利用規約|服务条款|用户协议|"
    r"이용약관|условия\s+использования)\b",
    re.IGNORECASE,
)
_TOS_HREF = re.compile(
    r"/(terms|tos|legal|terms-of-use|terms-of-service|terms-and-conditions|agb|cgu|nutzungsbedingungen)([/._-]|$)",
    re.IGNORECASE,
)
_ANCHOR = re.compile(rb"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_FOOTER = re.compile(
    rb"<(footer)\b[^>]*>(.*?)</footer\s*>|<(div|section|nav)\b[^>]*(?:role\s*=\s*[\"']?contentinfo|"
    rb"(?:id|class)\s*=\s*[\"'][^\"']*footer)[^>]*>(.*?)</\3\s*>",
    re.IGNORECASE | re.DOTALL,
)
_TAGS = re.compile(rb"<[^>]+>")


def _text(fragment: bytes) -> str:
    return re.sub(r"\s+", " ", _TAGS.sub(b" ", fragment).decode("utf-8", "replace")).strip()


def regex_find_tos_links(html: bytes | str | None) -> list[tuple[str, str]]:
    """Candidate terms-of-service links, best first: (href, found_via) with found_via one of link_rel,
    footer_text, page_text, href_pattern. Terms of sale and API terms rank after terms of use/service."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else (html or b"")
    data = data[: 512 * 1024]
    out: list[tuple[str, str]] = []
    declared = regex_html_signals(data).get("tos_link")
    if declared:
        out.append((declared, "link_rel"))
    footers = b" ".join(m.group(2) or m.group(4) or b"" for m in _FOOTER.finditer(data))
    for region, via in ((footers, "footer_text"), (data, "page_text")):
        ranked = []
        for m in _ANCHOR.finditer(region):
            href = _attrs(m.group(1)).get("href", "")
            text = _text(m.group(2))
            if href and _TOS_TEXT.search(text) and not href.startswith(("mailto:", "javascript:", "#")):
                penalty = 1 if re.search(r"sale|selling|api|developer|seller", text + href, re.IGNORECASE) else 0
                ranked.append((penalty, href, via))
        out += [(h, v) for _, h, v in sorted(ranked, key=lambda t: t[0])]
    for m in _ANCHOR.finditer(data):
        href = _attrs(m.group(1)).get("href", "")
        if href and _TOS_HREF.search(href.split("?", 1)[0]):
            out.append((href, "href_pattern"))
    seen: dict[str, str] = {}
    for href, via in out:
        seen.setdefault(href, via)
    return list(seen.items())


# -- pages --------------------------------------------------------------------------------------------------------
def synthetic_homepage() -> bytes:
    """A 160 KB news homepage: a heavy head, inline JSON, 700 teasers, a footer nested two divs deep."""
    head = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The Daily Example</title>']
    head += [
        f'<meta property="og:x{i}" content="v{i}"><link rel="preload" href="/static/a{i}.js" as="script">'
        for i in range(40)
    ]
    head.append('<meta name="robots" content="index, follow, noai"><meta name="GPTBot" content="noimageai">')
    head.append('<link rel="license" type="application/rsl+xml" href="/license.xml">')
    pad = "x" * 20000
    head.append('<script>window.__DATA__ = {"html": "<meta name=robots content=noai>", "pad": "' + pad + '"};</script>')
    body = [
        f'<div class="teaser t{i}"><div><a href="/story/{i}"><span>Story {i} headline</span></a>'
        f"<p>{'lorem ipsum dolor ' * 7}</p></div></div>"
        for i in range(700)
    ]
    body.append(
        '<footer class="site-footer"><div class="cols"><div class="col"><a href="/legal/terms">Terms of Use</a>'
        '<a href="/privacy">Privacy</a></div></div></footer>'
    )
    return ("".join(head) + "</head><body>" + "".join(body) + "</body></html>").encode()


def pages(corpus: Path) -> dict[str, bytes]:
    out = {"synthetic news homepage": synthetic_homepage()}
    cassettes = corpus / "wayback" / "edgi_cassettes"
    seen: set[bytes] = set()
    for f in sorted(cassettes.glob("*.body")) if cassettes.is_dir() else []:
        data = f.read_bytes()
        if len(data) >= 50_000 and b"<html" in data[:2000].lower() and data not in seen:
            seen.add(data)
            out[f.name] = data
    return out


# -- runs ---------------------------------------------------------------------------------------------------------
def ours(data: bytes) -> Any:
    scan = signals.scan_html(data)
    return signals.html_signals(scan, ["GPTBot"]), signals.find_tos_links(scan)


def regex(data: bytes) -> Any:
    return regex_html_signals(data, ["GPTBot"]), regex_find_tos_links(data)


def bs4_full(data: bytes) -> Any:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    return soup.find_all("meta"), soup.find_all("a")


def median_ms(fn: Callable[[bytes], Any], data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    runners: list[tuple[str, Callable[[bytes], Any]]] = [("ours (lxml)", ours), ("regex (before)", regex)]
    try:
        import bs4  # noqa: F401

        runners.append(("bs4 full tree", bs4_full))
    except ImportError:
        print("(beautifulsoup4 not installed: its column is left out)")
    print(f"{'page':58s} {'KB':>5s} " + " ".join(f"{n:>15s}" for n, _ in runners) + "   median ms a page")
    ours_all: list[float] = []
    regex_all: list[float] = []
    for name, data in pages(args.corpus).items():
        cells = [median_ms(fn, data, args.repeat) for _, fn in runners]
        ours_all.append(cells[0])
        regex_all.append(cells[1])
        print(f"{name[:58]:58s} {len(data) / 1000:5.0f} " + " ".join(f"{c:15.2f}" for c in cells))
        (page, links), (theirs, their_links) = ours(data), regex(data)
        mine = page.as_dict()  # the record's JSON, on the keys the regex reads (it has no headers' part)
        if ({k: mine[k] for k in theirs}, links) != (theirs, their_links):
            print(f"  {'':56s} the readings differ (the regex took text for tags, or missed nested footers)")
    print(
        f"median over pages: ours {statistics.median(ours_all):.2f} ms, regex {statistics.median(regex_all):.2f} ms"
        f" (budget 10 ms); ours/regex time {statistics.median(ours_all) / statistics.median(regex_all):.2f}"
    )


if __name__ == "__main__":
    main()
