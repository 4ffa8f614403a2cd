"""Signals beyond robots.txt allow/disallow: every way a site says "not for AI" (signals.md §2–§8, §11).

Pure and lenient: bytes or text in, plain JSON-ready values out; nothing here raises on bad input. Each value
keeps where it came from, and crawl permission (robots.txt) stays apart from use preferences (everything else):

- meta robots and X-Robots-Tag: ``noai``, ``noimageai``, ``noarchive``/``nocache`` (training controls for Bing and
  Amazon), with agent-scoped forms (``X-Robots-Tag: GPTBot: noai``, ``<meta name="GPTBot" …>``);
- TDMRep: ``/.well-known/tdmrep.json`` (first matching rule in array order), headers, meta; meta > header > file;
- ai.txt (Spawning): robots-like rules over file types;
- Content-Signal (robots.txt line per group, or header): ``search``, ``ai-input``, ``ai-train``, ``use``;
- Content-Usage (aipref vocab-07 / attach-05): a Structured-Fields dictionary of ``y``/``n`` tokens, path-scoped
  lines in robots.txt, most restrictive on conflict; legacy labels kept raw;
- RSL: ``License:`` lines, ``Link: …; rel="license"; type="application/rsl+xml"``, HTML link/script; the RSL
  document's permitted and prohibited usages;
- llms.txt: presence and title (AI-friendliness, not a restriction).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree

from tracker.robots import RobotsRules, extract_token, parse_robots, path_of

__all__ = [
    "ai_txt",
    "combine",
    "content_signal",
    "content_signals_for",
    "content_usage",
    "content_usage_for",
    "html_signals",
    "llms_txt",
    "parse_directives",
    "rsl_document",
    "rsl_license_urls",
    "tdm_for_path",
    "tdmrep_file",
    "x_robots_tag",
]

HTML_SCAN_BYTES = 512 * 1024

# Directive names that themselves contain ':' (so a leading "name:" before them is not a user-agent scope).
_KNOWN_DIRECTIVES = {
    "all", "none", "noindex", "nofollow", "noarchive", "nocache", "nosnippet", "noimageindex", "notranslate",
    "max-snippet", "max-image-preview", "max-video-preview", "unavailable_after", "indexifembedded", "noai",
    "noimageai", "noml", "index", "follow",
}  # fmt: skip
AI_DIRECTIVES = ("noai", "noimageai", "noml", "noarchive", "nocache")

_TAG = re.compile(rb"<(meta|link|script)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_SCRIPT_RSL = re.compile(
    rb"""<script\b[^>]*type\s*=\s*["']?application/rsl\+xml["']?[^>]*>(.*?)</script>""", re.IGNORECASE | re.DOTALL
)
_LINK_HEADER = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def _attrs(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        name = m.group(1).decode("ascii", "replace").lower()
        value = m.group(2) or m.group(3) or m.group(4) or b""
        out.setdefault(name, value.decode("utf-8", "replace").strip())
    return out


# -- meta robots / X-Robots-Tag -------------------------------------------------------------------------------
def parse_directives(value: str) -> list[str]:
    """Split a robots directive list ('noindex, noai') into lower-case directives."""
    return [d.strip().lower() for d in value.split(",") if d.strip()]


def x_robots_tag(values: Iterable[str]) -> list[dict[str, Any]]:
    """Parse X-Robots-Tag header values (the header may repeat): [{ua_scope, directives}]."""
    out: list[dict[str, Any]] = []
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
            out.append({"source": "header", "ua_scope": scope, "directives": directives})
    return out


def html_signals(html: bytes | str | None, robots_tokens: Iterable[str] = ()) -> dict[str, Any]:
    """Signals in an HTML page's tags: meta robots (generic and per agent), TDMRep meta, RSL links and scripts,
    and the page's declared ToS link if any. Reads the first 512 KiB; never raises."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else (html or b"")
    data = data[:HTML_SCAN_BYTES]
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
                directives = parse_directives(content)
                if directives:
                    meta.append({"source": "meta", "ua_scope": None if name == "robots" else a.get("name"),
                                 "directives": directives})  # fmt: skip
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


def ai_directives(entries: Iterable[Mapping[str, Any]], agent: str | None = None) -> dict[str, bool]:
    """noai / noimageai / noml / noarchive / nocache in effect for an agent (generic entries apply to all)."""
    found: set[str] = set()
    a = (agent or "").lower()
    for e in entries:
        scope = (e.get("ua_scope") or "").lower()
        if scope and scope != a:
            continue
        found.update(d for d in e.get("directives", ()) if d in AI_DIRECTIVES)
    return {d: d in found for d in AI_DIRECTIVES}


# -- TDMRep ---------------------------------------------------------------------------------------------------
def _tdm_value(v: Any) -> tuple[int | None, bool]:
    """(reservation 0/1 or None, lenient?) — the spec says other values are protocol errors (unset)."""
    if v in (0, 1) and not isinstance(v, bool):
        return int(v), False
    if isinstance(v, str) and v.strip() in ("0", "1"):
        return int(v.strip()), True
    if isinstance(v, bool):
        return int(v), True
    return None, False


def tdmrep_file(body: bytes | str | None, content_type: str | None = None) -> dict[str, Any]:
    """Parse /.well-known/tdmrep.json: {status: valid|invalid|html|empty|absent, rules: [...], lenient: bool}."""
    if body is None:
        return {"status": "absent", "rules": [], "lenient": False}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return {"status": "empty", "rules": [], "lenient": False}
    if stripped[:1] == "<" or (content_type or "").lower().startswith("text/html"):
        return {"status": "html", "rules": [], "lenient": False}
    try:
        doc = json.loads(stripped)
    except ValueError:
        return {"status": "invalid", "rules": [], "lenient": False, "error": "not JSON"}
    status = "valid"
    lenient = False
    if isinstance(doc, dict):
        doc, status = [doc], "invalid"  # the spec wants an array; read an object leniently, flagged
    if not isinstance(doc, list):
        return {"status": "invalid", "rules": [], "lenient": False, "error": "not an array of rules"}
    rules = []
    for item in doc:
        if not isinstance(item, dict):
            status = "invalid"
            continue
        loc = item.get("location")
        res, was_lenient = _tdm_value(item.get("tdm-reservation"))
        lenient = lenient or was_lenient
        if not isinstance(loc, str) or "tdm-reservation" not in item:
            status = "invalid"
            continue
        if not loc.startswith("/") and not loc.startswith("*"):
            loc = "/" + loc
            lenient = True
        policy = item.get("tdm-policy")
        rules.append({"location": loc, "reservation": res, "policy": policy if isinstance(policy, str) else None})
    return {"status": status, "rules": rules, "lenient": lenient}


def tdm_for_path(rules: list[dict[str, Any]], path: str = "/") -> dict[str, Any] | None:
    """The first rule in array order whose location matches the path (robots.txt matching), or None."""
    for rule in rules:
        probe = parse_robots(f"User-agent: *\nDisallow: {rule['location']}\n".encode("utf-8", "replace"))
        if not probe.verdict("x", path).allowed:
            return rule
    return None


def tdm_effective(
    file_rule: dict[str, Any] | None, headers: Mapping[str, str], meta: Mapping[str, str]
) -> dict[str, Any]:
    """TDMRep for a page: file < header < HTML meta, absent values never reset earlier ones."""
    reservation: int | None = None
    policy: str | None = None
    source = None
    if file_rule is not None and file_rule.get("reservation") is not None:
        reservation, policy, source = file_rule["reservation"], file_rule.get("policy"), "file"
    for layer, values in (("header", headers), ("meta", meta)):
        r, _ = _tdm_value((values.get("tdm-reservation") or "").strip())
        if r is not None:
            reservation, source = r, layer
        if values.get("tdm-policy"):
            policy = values["tdm-policy"].strip()
    if reservation == 0:
        policy = None  # "SHOULD NOT be processed when the reservation is 0"
    return {"reservation": None if reservation is None else bool(reservation), "policy": policy, "source": source}


# -- ai.txt ---------------------------------------------------------------------------------------------------
def ai_txt(body: bytes | str | None, content_type: str | None = None) -> dict[str, Any]:
    """Spawning ai.txt: {present, format: spawning|markdown|other, stance: full_optout|by_filetype|allowed, types}."""
    if body is None:
        return {"present": False, "format": None, "stance": None, "types": []}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    head = text.lstrip()[:200].lower()
    if head.startswith("<") or (content_type or "").lower().startswith("text/html"):
        return {"present": False, "format": "html", "stance": None, "types": []}
    if head.startswith("#") and "user-agent" not in text.lower():
        return {"present": True, "format": "markdown", "stance": None, "types": []}
    disallowed: list[str] = []
    star = False
    group_star = False
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, _, value = line.partition(":")
        k, v = key.strip().lower(), value.strip()
        if k == "user-agent":
            group_star = v == "*"
        elif k == "disallow" and group_star and v:
            if v in ("/", "*", "/*"):
                star = True
            else:
                disallowed.append(v)
    types = sorted({d.lstrip("*").lstrip(".").lower() for d in disallowed if d.startswith("*.")})
    if "user-agent" not in text.lower():
        return {"present": True, "format": "other", "stance": None, "types": []}
    stance = "full_optout" if star else "by_filetype" if types else "allowed"
    return {"present": True, "format": "spawning", "stance": stance, "types": types}


# -- Content-Signal -------------------------------------------------------------------------------------------
_CS_VALUES = {"yes": "yes", "y": "yes", "allow": "yes", "no": "no", "n": "no", "disallow": "no"}


def content_signal(raw: str) -> dict[str, Any]:
    """'search=yes, ai-train=no' → {'search': 'yes', 'ai-train': 'no'} (+ '_nonstandard' when y/n/allow…)."""
    out: dict[str, Any] = {}
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
    if nonstandard:
        out["_nonstandard"] = True
    return out


def content_signals_for(rules: RobotsRules, agent: str) -> dict[str, Any]:
    """Content-Signal lines of robots.txt: the group that applies to the agent, and any '*' group."""
    named_groups, star_groups = _group_indices(rules, agent)
    group_value: dict[str, Any] = {}
    star_value: dict[str, Any] = {}
    for r in rules.records_named("content-signal"):
        if r.group is None:
            continue
        if r.group in (named_groups or star_groups):
            group_value.update(content_signal(r.value))
        if r.group in star_groups:
            star_value.update(content_signal(r.value))
    return {"group": group_value, "star": star_value}


def _group_indices(rules: RobotsRules, agent: str) -> tuple[set[int], set[int]]:
    key = agent.lower()
    named = {g.index for g in rules.groups if any(not a.is_global and a.token.lower() == key for a in g.agents)}
    star = {g.index for g in rules.groups if g.is_global}
    return named, star


# -- Content-Usage (aipref) -----------------------------------------------------------------------------------
_SF_KEY = re.compile(r"^[a-z*][a-z0-9_.*-]*$")
_SF_TOKEN = re.compile(r"^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$")
AIPREF_LABELS = ("train-ai", "search")


def content_usage(raw: str) -> dict[str, Any]:
    """Parse an RFC 9651 dictionary of aipref preferences: {'train-ai': 'n', ...}; {} if it does not parse.

    Only Token values y/n count for a defined label; unknown keys and parameters are ignored except that labels
    of older drafts are returned raw under '_legacy'. Duplicate keys: the last wins.
    """
    out: dict[str, Any] = {}
    legacy: dict[str, str] = {}
    text = raw.strip()
    if not text:
        return {}
    for member in _split_sf(text):
        if member is None:
            return {}  # a parsing failure makes every preference unknown
        item = member.split(";", 1)[0].strip()
        key, sep, value = item.partition("=")
        key = key.strip()
        if not _SF_KEY.match(key):
            return {}
        if not sep:
            val = "?1"  # a bare key is Boolean true: not y/n → unknown
        else:
            val = value.strip()
            if not (_SF_TOKEN.match(val) or (val.startswith('"') and val.endswith('"')) or val.startswith("?")):
                return {}
        if key in AIPREF_LABELS:
            if val in ("y", "n"):
                out[key] = val
            else:
                out.pop(key, None)
        else:
            legacy[key] = val
    if legacy:
        out["_legacy"] = legacy
    return out


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


def content_usage_for(rules: RobotsRules, agent: str, url: str = "/") -> dict[str, Any]:
    """The Content-Usage preference for a path: longest path prefix wins, 'n' wins on equal paths; no preference
    on paths the agent may not crawl (attach-05)."""
    path = path_of(url)
    if not rules.verdict(agent, path).allowed:
        return {}
    named, star = _group_indices(rules, agent)
    groups = named or star
    best_len = -1
    best: dict[str, Any] = {}
    for r in rules.records_named("content-usage"):
        if r.group not in groups:
            continue
        value = r.value.split("#", 1)[0].strip()
        scope = "/"
        if value.startswith("/"):
            scope, _, value = value.partition(" ")
            value = value.strip()
        probe = parse_robots(f"User-agent: *\nDisallow: {scope}\n".encode("utf-8", "replace"))
        if probe.verdict("x", path).allowed:
            continue
        prefs = {k: v for k, v in content_usage(value).items() if k in AIPREF_LABELS}
        n = len(scope)
        if n > best_len:
            best_len, best = n, prefs
        elif n == best_len:  # same path, conflicting values: the most restrictive wins (vocab §7.1)
            for k, v in prefs.items():
                best[k] = "n" if "n" in (v, best.get(k)) else v
    return best


# -- RSL ------------------------------------------------------------------------------------------------------
def rsl_license_urls(
    rules: RobotsRules | None, headers: Mapping[str, str], html: Mapping[str, Any] | None
) -> list[dict]:
    """Where RSL licenses are declared: robots.txt License lines (with their group), Link headers, HTML."""
    out: list[dict[str, Any]] = []
    if rules is not None:
        for r in rules.records_named("license"):
            out.append({"url": r.value, "location": "robots_global" if r.group is None else "robots_group",
                        "group": r.group})  # fmt: skip
    link = headers.get("link", "")
    for m in _LINK_HEADER.finditer(link):
        params = m.group(2).lower()
        if re.search(r'rel\s*=\s*"?license"?', params) and "application/rsl+xml" in params:
            out.append({"url": m.group(1).strip(), "location": "link_header"})
    if html:
        for item in html.get("rsl", []):
            if "url" in item:
                out.append({"url": item["url"], "location": item["location"]})
    return out


_RSL_AI_TRAIN = {"ai-train", "ai-all", "all", "train-ai", "train-genai"}


def rsl_document(xml: bytes | str | None) -> dict[str, Any]:
    """Parse an RSL document: permitted and prohibited usages for '/', payment types, and a training verdict."""
    if not xml:
        return {"status": "absent"}
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return {"status": "invalid"}
    except Exception:  # defusedxml-style entity tricks and the like: treat as invalid, never raise
        return {"status": "invalid"}
    permits: set[str] = set()
    prohibits: set[str] = set()
    has_usage_permits = False
    payments: set[str] = set()
    for content in root.iter():
        if not content.tag.endswith("content"):
            continue
        url = content.get("url", "")
        if url not in ("/", "") and not url.endswith("/*") and path_of(url) != "/":
            continue
        for el in content.iter():
            tag = el.tag.rsplit("}", 1)[-1]
            kind = el.get("type", "usage")
            values = set(re.split(r"[\s,]+", (el.text or "").strip())) - {""}
            if tag == "permits" and kind == "usage":
                permits |= values
                has_usage_permits = True
            elif tag == "prohibits" and kind == "usage":
                prohibits |= values
            elif tag == "payment":
                payments.add(el.get("type", "free"))
    if prohibits & _RSL_AI_TRAIN or (has_usage_permits and not permits & _RSL_AI_TRAIN):
        training = "prohibited"
    elif permits & _RSL_AI_TRAIN and payments - {"free", "attribution", ""}:
        training = "licensed"
    elif has_usage_permits or permits:
        training = "permitted"
    else:
        training = "unspecified"
    return {"status": "valid", "permits": sorted(permits), "prohibits": sorted(prohibits),
            "payments": sorted(payments), "training": training}  # fmt: skip


# -- llms.txt -------------------------------------------------------------------------------------------------
def llms_txt(body: bytes | str | None, content_type: str | None = None) -> dict[str, Any]:
    """llms.txt: {present, title, sections, links, has_optional}. An HTML page or no H1 is not an llms.txt."""
    if body is None:
        return {"present": False}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if (content_type or "").lower().startswith("text/html") or "<html" in text[:1000].lower():
        return {"present": False}
    m = re.match(r"^#\s+(\S.*)$", first.strip())
    if not m:
        return {"present": False}
    sections = re.findall(r"(?m)^##\s+(.+)$", text)
    links = re.findall(r"(?m)^\s*-\s*\[[^\]]*\]\([^)]*\)", text)
    return {"present": True, "title": m.group(1).strip()[:200], "sections": len(sections), "links": len(links),
            "has_optional": any(s.strip().lower() == "optional" for s in sections)}  # fmt: skip


# -- the combined view ----------------------------------------------------------------------------------------
def combine(
    agent: str,
    *,
    robots: RobotsRules | None,
    homepage: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    tdmrep: Mapping[str, Any] | None = None,
    ai: Mapping[str, Any] | None = None,
    llms: Mapping[str, Any] | None = None,
    rsl: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One agent's view of a site: crawl permission (robots.txt) apart from use preferences (everything else).

    ``training_optout_sources`` lists every source that says "no training"; ``training_optout_any`` follows the
    aipref combining rule (any 'no' wins). A site can be crawlable and still opt out of training.
    """
    headers = headers or {}
    homepage = homepage or {}
    crawl_allowed = robots.verdict(agent, "/").allowed if robots is not None else True
    sources: list[str] = []
    cs = content_signals_for(robots, agent) if robots is not None else {"group": {}, "star": {}}
    if cs["group"].get("ai-train") == "no" or cs["star"].get("ai-train") == "no":
        sources.append("content_signal")
    header_cs = content_signal(headers.get("content-signal", "")) if headers.get("content-signal") else {}
    if header_cs.get("ai-train") == "no":
        sources.append("content_signal_header")
    cu = content_usage_for(robots, agent) if robots is not None else {}
    if cu.get("train-ai") == "n":
        sources.append("content_usage")
    header_cu = content_usage(headers.get("content-usage", ""))
    if header_cu.get("train-ai") == "n":
        sources.append("content_usage_header")
    xrt = x_robots_tag([headers["x-robots-tag"]]) if headers.get("x-robots-tag") else []
    directives = ai_directives(list(homepage.get("meta_robots", [])) + xrt, agent)
    if directives["noai"] or directives["noml"]:
        sources.append("noai")
    tdm_rule = tdm_for_path(list(tdmrep.get("rules", [])), "/") if tdmrep else None
    tdm = tdm_effective(tdm_rule, headers, homepage.get("tdm_meta", {}))
    if tdm["reservation"]:
        sources.append("tdmrep")
    if ai and ai.get("stance") == "full_optout":
        sources.append("ai_txt")
    if rsl and rsl.get("training") == "prohibited":
        sources.append("rsl")
    return {
        "agent": agent,
        "crawl_allowed": crawl_allowed,
        "use": {
            "content_signal": cs, "content_signal_header": header_cs, "content_usage": cu,
            "content_usage_header": header_cu, "directives": directives, "tdm": tdm,
            "ai_txt": dict(ai or {}), "rsl": dict(rsl or {}), "llms_txt": bool(llms and llms.get("present")),
        },
        "training_optout_sources": sources,
        "training_optout_any": bool(sources),
    }  # fmt: skip


def token_of(name: str) -> str:
    """The product token a meta name or header scope names (as robots.txt would read it)."""
    return extract_token(name)
