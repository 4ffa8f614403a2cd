"""Reading HTML pages with a real parser: the tags and links the signals need, and a page's text.

libxml2's HTML parser (through lxml, the parser under beautifulsoup4's ``lxml`` builder; libxml2 ≥ 2.14 tokenises
as HTML5 does) builds the tree in C, and only the few elements the signals look at are visited from Python. So a
commented-out ``<meta name="robots" content="noai">``, one inside a ``<script>`` string or a ``<textarea>``, is
text, never a tag. A full BeautifulSoup tree of a 160 KB homepage costs ~40 ms, a SoupStrainer'd one ~30 ms,
this ~2 ms (``bench/html_bench.py``), and the crawler reads one homepage per site.

Pure and lenient: bytes or text in, values out; nothing here raises (an empty or binary body scans as empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

__all__ = ["HTML_SCAN_BYTES", "Anchor", "PageScan", "page_text", "scan_html"]

#: Bytes of a page that are read (the crawler caps homepages at this size too).
HTML_SCAN_BYTES = 512 * 1024

#: Elements whose start and end break text into lines (for terms-of-service sentences and list items).
_BLOCKS = frozenset(
    {
        "p",
        "li",
        "br",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "tr",
        "table",
        "blockquote",
        "pre",
        "hr",
        "address",
        "aside",
        "figure",
        "figcaption",
        "form",
        "fieldset",
        "details",
        "summary",
    }
)
_INVISIBLE = ("script", "style", "noscript", "template", "head", "title", "textarea", "select", "svg", "math")
_NOT_FOOTER = frozenset({"html", "body", "head", "main", "article"})


def _is_footer(el: Any) -> bool:
    """A footer element: <footer>, role=contentinfo, or an id or class that says footer."""
    if el.tag == "footer":
        return True
    if el.tag in _NOT_FOOTER:
        return False
    if (el.get("role") or "").lower() == "contentinfo":
        return True
    return "footer" in (el.get("id") or "").lower() or "footer" in (el.get("class") or "").lower()


def _in_footer(el: Any, memo: dict[Any, bool]) -> bool:
    """Whether an element sits inside a footer; each ancestor is judged once per page (``memo``)."""
    chain = []
    node = el.getparent()
    found = False
    while node is not None:
        hit = memo.get(node)
        if hit is not None:
            found = hit
            break
        if _is_footer(node):
            found = True
            chain.append(node)
            break
        chain.append(node)
        node = node.getparent()
    for n in chain:
        memo[n] = found
    return found


@dataclass(frozen=True, slots=True)
class Anchor:
    """A link on the page: its href as written, its visible text, and whether it sits in a footer."""

    href: str
    text: str
    in_footer: bool


@dataclass(frozen=True, slots=True)
class PageScan:
    """What the signals read from a page, in document order."""

    metas: tuple[tuple[str, str, str], ...] = ()  # (name lower-cased, name as written, content)
    links: tuple[tuple[frozenset[str], str, str], ...] = ()  # (rel tokens lower-cased, type lower-cased, href)
    rsl_scripts: tuple[str, ...] = ()  # bodies of <script type="application/rsl+xml">
    anchors: tuple[Anchor, ...] = ()
    jsonld: tuple[str, ...] = ()  # bodies of <script type="application/ld+json"> (schema.org)


def _to_bytes(html: bytes | str | None) -> bytes:
    if html is None:
        return b""
    if isinstance(html, str):
        return html.encode("utf-8", "replace")
    return bytes(html)


def _parse(html: bytes | str | None) -> Any:
    """The document's root element, or None (empty, binary beyond repair, or anything the parser refuses)."""
    data = _to_bytes(html)[:HTML_SCAN_BYTES]
    if not data.strip():
        return None
    try:
        data.decode("utf-8")
        encoding: str | None = "utf-8"  # valid UTF-8 is UTF-8, whatever a stale <meta charset> claims
    except UnicodeDecodeError:
        encoding = None  # let the parser read the declared charset (or guess)
    parser = etree.HTMLParser(
        recover=True,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        default_doctype=False,
        huge_tree=False,
        encoding=encoding,
    )
    try:
        return etree.fromstring(data, parser)
    except Exception:  # lxml raises on input it cannot make a document of: lenient, so that is an empty page
        return None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def scan_html(html: bytes | str | None) -> PageScan:
    """Scan a page for meta tags, link tags, inline RSL scripts and anchors (the first 512 KiB; never raises)."""
    root = _parse(html)
    if root is None:
        return PageScan()
    metas: list[tuple[str, str, str]] = []
    links: list[tuple[frozenset[str], str, str]] = []
    scripts: list[str] = []
    jsonld: list[str] = []
    anchors: list[tuple[Any, str, str]] = []
    for el in root.iter("meta", "link", "script", "a"):
        tag = el.tag
        if tag == "meta":
            name = (el.get("name") or el.get("property") or "").strip()  # og:type is a property
            if name:
                metas.append((name.lower(), name, (el.get("content") or "").strip()))
        elif tag == "link":
            href = (el.get("href") or "").strip()
            if href:
                rel = frozenset((el.get("rel") or "").lower().split())
                links.append((rel, (el.get("type") or "").strip().lower(), href))
        elif tag == "script":
            kind = (el.get("type") or "").strip().lower()
            if kind == "application/rsl+xml":
                scripts.append((el.text or "").strip()[:20_000])
            elif kind == "application/ld+json" and len(jsonld) < 20:
                jsonld.append((el.text or "").strip()[:100_000])
        else:
            href = (el.get("href") or "").strip()
            if href:
                anchors.append((el, href, _clean("".join(el.itertext()))))
    memo: dict[Any, bool] = {}
    return PageScan(
        tuple(metas),
        tuple(links),
        tuple(scripts),
        tuple(Anchor(href, text, _in_footer(el, memo)) for el, href, text in anchors),
        tuple(jsonld),
    )


def page_text(html: bytes | str | None) -> str:
    """The visible text of a page, one line per block element (paragraphs, list items, headings…)."""
    root = _parse(html)
    if root is None:
        return ""
    parts: list[str] = []
    skip_depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if skip_depth or tag in _INVISIBLE:
                skip_depth += 1
                continue
            if tag in _BLOCKS:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
        else:
            if skip_depth:
                skip_depth -= 1
                if skip_depth:
                    continue
            elif tag in _BLOCKS:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(el.tail)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
