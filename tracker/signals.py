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
    "classify_tos",
    "combine",
    "content_signal",
    "content_signals_for",
    "content_usage",
    "content_usage_for",
    "find_tos_links",
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


# -- terms of service -----------------------------------------------------------------------------------------
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


def find_tos_links(html: bytes | str | None) -> list[tuple[str, str]]:
    """Candidate terms-of-service links, best first: (href, found_via) with found_via one of link_rel,
    footer_text, page_text, href_pattern. Terms of sale and API terms rank after terms of use/service."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else (html or b"")
    data = data[:HTML_SCAN_BYTES]
    out: list[tuple[str, str]] = []
    declared = html_signals(data).get("tos_link")
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


_PROHIBIT = re.compile(
    r"\b(you\s+(may|shall|will|must)\s+not|(you\s+)?agree\s+not\s+to|(is|are)\s+(strictly\s+)?prohibited|"
    r"not\s+(permitted|allowed)|prohibits?|forbidden|must\s+not|shall\s+not|may\s+not|do\s+not|"
    r"ist\s+(nicht\s+gestattet|untersagt|verboten)|sind\s+(nicht\s+gestattet|untersagt|verboten)|untersagt|"
    r"nicht\s+gestattet|verboten|est\s+interdit|sont\s+interdits?|interdit|está\s+prohibido|prohibido|vietato)\b",
    re.IGNORECASE,
)
_CONDITIONAL = re.compile(
    r"\b(without\s+(our|the)\s+(prior\s+)?(express\s+)?(written\s+)?(consent|permission|authori[sz]ation)|"
    r"unless\s+(you\s+have\s+)?(a\s+)?(licen[cs]e|agreement|permission)|except\s+(for\s+)?(search\s+engines?|as\s+"
    r"permitted)|ohne\s+(unsere\s+)?(vorherige\s+)?(ausdrückliche\s+)?(schriftliche\s+)?(zustimmung|genehmigung|"
    r"einwilligung)|sans\s+(notre\s+)?(autorisation|accord|consentement))",
    re.IGNORECASE,
)
_SCRAPING = re.compile(
    r"\b(scrap(e|es|ing|er|ers)|crawl(s|ing|er|ers)?|spider(s|ing)?|robots?\b|bots?\b|harvest(ing)?|"
    r"data\s+mining|text\s+and\s+data\s+mining|tdm\b|automated\s+(means|systems?|tools?|access|queries)|"
    r"extract(ion|ing)?\s+(of\s+)?data|screen\s+scraping|automatisiert\w*|crawler\w*|text-\s+und\s+data-mining|"
    r"data-mining|moissonn\w+|extraction\s+automatis\w+)",
    re.IGNORECASE,
)
_AI = re.compile(
    r"(\bartificial\s+intelligence\b|\bAI\b|\bmachine\s+learning\b|\btrain(ing|s)?\b[^.]{0,60}\b(models?|"
    r"algorithms?|systems?|neural)|\bLLMs?\b|\blarge\s+language\s+models?\b|\bgenerative\s+(AI|models?)\b|"
    r"\bfoundation\s+models?\b|\bneural\s+networks?\b|\bdatasets?\s+for\s+training\b|künstliche\w*\s+intelligenz|"
    r"\bKI\b|maschinell\w*\s+lernen|\bTraining\b[^.]{0,40}\bModell|intelligence\s+artificielle|"
    r"apprentissage\s+automatique|inteligencia\s+artificial)",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(r"(you\s+agree\s+not\s+to|you\s+(may|shall|must)\s+not|prohibited|untersagt|nicht\s+gestattet|"
                      r"insbesondere\s+ist\s+es\s+untersagt|you\s+will\s+not)\s*[:;]?\s*$", re.IGNORECASE)  # fmt: skip
_EU_TDM = re.compile(r"(article\s+4|art\.?\s*4|directive\s+\(eu\)\s+2019/790|2019/790|§\s*44b\s+urhg|"
                     r"text\s+and\s+data\s+mining[^.]{0,80}reserv|text-\s+und\s+data-mining[^.]{0,80}vorbehalt)",
                     re.IGNORECASE)  # fmt: skip
_NON_COMPETE = re.compile(r"(compet(e|ing|itive)\s+(product|service|model)|develop[^.]{0,60}compet)", re.IGNORECASE)
_SEARCH_EXC = re.compile(r"(search\s+engines?|suchmaschinen)", re.IGNORECASE)
_ROBOTS_REF = re.compile(r"robots\.txt", re.IGNORECASE)


def _units(text: str) -> list[tuple[str, bool]]:
    """Sentences and list items, each with whether it sits under a prohibition lead-in ('You agree not to:')."""
    out: list[tuple[str, bool]] = []
    under_lead = False
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-•*·]|\(?[a-z0-9]{1,3}[.)])\s)", text):
        for line in block.split("\n"):
            line = line.strip()
            if not line:
                continue
            is_item = bool(re.match(r"^(?:[-•*·]|\(?[a-z0-9]{1,3}[.)])\s", line))
            if not is_item:
                under_lead = False
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])", line):
                out.append((sentence.strip(), under_lead and is_item))
            if _LEAD_IN.search(line):
                under_lead = True
    return out


def classify_tos(text: str) -> dict[str, Any]:
    """Classify terms of service on two separate axes, scraping and ai_training: prohibited, conditional or
    not_mentioned, with the matching sentences as evidence, and flags (non_compete, eu_tdm_reservation_art4,
    search_engine_exception, refers_to_robots_txt). A general scraping ban does not imply an AI-training ban."""
    result: dict[str, Any] = {"scraping": "not_mentioned", "ai_training": "not_mentioned", "evidence": {},
                              "flags": []}  # fmt: skip
    rank = {"not_mentioned": 0, "conditional": 1, "prohibited": 2}
    flags: set[str] = set()
    for unit, under_lead in _units(text[:400_000]):
        if len(unit) < 8:
            continue
        prohibited = bool(_PROHIBIT.search(unit)) or under_lead
        conditional = bool(_CONDITIONAL.search(unit))
        if not (prohibited or conditional):
            if _EU_TDM.search(unit):
                flags.add("eu_tdm_reservation_art4")
            continue
        verdict = "conditional" if conditional else "prohibited"
        for axis, rx in (("scraping", _SCRAPING), ("ai_training", _AI)):
            if rx.search(unit) and rank[verdict] >= rank[result[axis]]:
                if rank[verdict] > rank[result[axis]] or axis not in result["evidence"]:
                    result["evidence"][axis] = unit[:500]
                result[axis] = verdict
        if _EU_TDM.search(unit):
            flags.add("eu_tdm_reservation_art4")
        if _NON_COMPETE.search(unit):
            flags.add("non_compete")
        if _SEARCH_EXC.search(unit) and (_SCRAPING.search(unit) or _AI.search(unit)):
            flags.add("search_engine_exception")
        if _ROBOTS_REF.search(unit):
            flags.add("refers_to_robots_txt")
    result["flags"] = sorted(flags)
    return result


def tos_signals(html: bytes | str | None, url: str, found_via: str) -> dict[str, Any]:
    """A terms page → its normalised signals (what its version is made of) with a hash of its text."""
    import hashlib

    data = html.encode("utf-8", "replace") if isinstance(html, str) else (html or b"")
    data = re.sub(rb"(?is)<(script|style|noscript)\b.*?</\1\s*>", b" ", data[:HTML_SCAN_BYTES])
    data = re.sub(rb"(?i)<(br|/p|/li|/h[1-6]|/div|li|p)\b[^>]*>", b"\n", data)
    text = re.sub(r"[ \t\r\f\v]+", " ", _TAGS.sub(b" ", data).decode("utf-8", "replace"))
    text = re.sub(r"\n\s*", "\n", text).strip()
    verdict = classify_tos(text)
    return {"url": url, "found_via": found_via, "text_sha256": hashlib.sha256(text.encode()).hexdigest(), **verdict}
