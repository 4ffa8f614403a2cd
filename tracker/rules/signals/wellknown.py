"""Files at well-known places, and the documents they point to: TDMRep, ai.txt, RSL, llms.txt.

- TDMRep: ``/.well-known/tdmrep.json`` (first matching rule in array order), headers, meta; meta > header > file;
- ai.txt (Spawning): robots-like rules over file types;
- RSL: ``License:`` lines, ``Link: …; rel="license"; type="application/rsl+xml"``, HTML link/script; the RSL
  document's permitted and prohibited usages;
- llms.txt: presence and title (AI-friendliness, not a restriction).

Pure and lenient: nothing here raises on bad input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree

from tracker.records.signals import AiTxt, LicenseLink, LlmsTxt, RslDocument, TdmReading, TdmRepFile, TdmRule
from tracker.rules.robots import RobotsRules, path_of, pattern_matches

__all__ = [
    "ai_txt",
    "link_header_licenses",
    "llms_txt",
    "rsl_document",
    "rsl_license_urls",
    "tdm_effective",
    "tdm_for_path",
    "tdm_value",
    "tdmrep_file",
]

_LINK_HEADER = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


# -- TDMRep ---------------------------------------------------------------------------------------------------
def tdm_value(v: Any) -> tuple[int | None, bool]:
    """A tdm-reservation value as (0/1 or None, read leniently?); the spec says other values are errors (unset)."""
    if v in (0, 1) and not isinstance(v, bool):
        return int(v), False
    if isinstance(v, str) and v.strip() in ("0", "1"):
        return int(v.strip()), True
    if isinstance(v, bool):
        return int(v), True
    return None, False


def tdmrep_file(body: bytes | str | None, content_type: str | None = None) -> TdmRepFile:
    """Parse /.well-known/tdmrep.json: {status: valid|invalid|html|empty|absent, rules: [...], lenient: bool}."""
    if body is None:
        return TdmRepFile("absent")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return TdmRepFile("empty")
    if stripped[:1] == "<" or (content_type or "").lower().startswith("text/html"):
        return TdmRepFile("html")
    try:
        doc = json.loads(stripped)
    except ValueError:
        return TdmRepFile("invalid", error="not JSON")
    status = "valid"
    lenient = False
    if isinstance(doc, dict):
        doc, status = [doc], "invalid"  # the spec wants an array; read an object leniently, flagged
    if not isinstance(doc, list):
        return TdmRepFile("invalid", error="not an array of rules")
    rules: list[TdmRule] = []
    for item in doc:
        if not isinstance(item, dict):
            status = "invalid"
            continue
        loc = item.get("location")
        res, was_lenient = tdm_value(item.get("tdm-reservation"))
        lenient = lenient or was_lenient
        if not isinstance(loc, str) or "tdm-reservation" not in item:
            status = "invalid"
            continue
        if not loc.startswith("/") and not loc.startswith("*"):
            loc = "/" + loc
            lenient = True
        policy = item.get("tdm-policy")
        rules.append(TdmRule(loc, res, policy if isinstance(policy, str) else None))
    return TdmRepFile(status, tuple(rules), lenient)


def tdm_for_path(rules: Iterable[TdmRule], path: str = "/") -> TdmRule | None:
    """The first rule in array order whose location matches the path (robots.txt matching), or None."""
    for rule in rules:
        if pattern_matches(rule.location, path):
            return rule
    return None


def tdm_effective(file_rule: TdmRule | None, headers: Mapping[str, str], meta: Mapping[str, str]) -> TdmReading:
    """TDMRep for a page: file < header < HTML meta, absent values never reset earlier ones."""
    reservation: int | None = None
    policy: str | None = None
    source = None
    if file_rule is not None and file_rule.reservation is not None:
        reservation, policy, source = file_rule.reservation, file_rule.policy, "file"
    for layer, values in (("header", headers), ("meta", meta)):
        r, _ = tdm_value((values.get("tdm-reservation") or "").strip())
        if r is not None:
            reservation, source = r, layer
        if values.get("tdm-policy"):
            policy = values["tdm-policy"].strip()
    if reservation == 0:
        policy = None  # "SHOULD NOT be processed when the reservation is 0"
    return TdmReading(None if reservation is None else bool(reservation), policy, source)


# -- ai.txt ---------------------------------------------------------------------------------------------------
def ai_txt(body: bytes | str | None, content_type: str | None = None) -> AiTxt:
    """Spawning ai.txt: {present, format: spawning|markdown|other, stance: full_optout|by_filetype|allowed, types}."""
    if body is None:
        return AiTxt(False)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    head = text.lstrip()[:200].lower()
    if head.startswith("<") or (content_type or "").lower().startswith("text/html"):
        return AiTxt(False, "html")
    if head.startswith("#") and "user-agent" not in text.lower():
        return AiTxt(True, "markdown")
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
        return AiTxt(True, "other")
    stance = "full_optout" if star else "by_filetype" if types else "allowed"
    return AiTxt(True, "spawning", stance, tuple(types))


# -- RSL ------------------------------------------------------------------------------------------------------
def rsl_license_urls(
    rules: RobotsRules | None, headers: Mapping[str, str], html_links: Iterable[Mapping[str, str]] = ()
) -> list[LicenseLink]:
    """Where RSL licenses are declared: robots.txt License lines (with their group), Link headers, HTML links
    (a page's ``rsl`` entries with a ``url``)."""
    out: list[LicenseLink] = []
    if rules is not None:
        for r in rules.records_named("license"):
            out.append(LicenseLink(r.value, "robots_global" if r.group is None else "robots_group", r.group))
    out += [LicenseLink(u, "link_header") for u in link_header_licenses(headers.get("link", ""))]
    out += [LicenseLink(item["url"], item.get("location", "html_link")) for item in html_links if "url" in item]
    return out


def link_header_licenses(link: str) -> list[str]:
    """RSL license URLs of a Link header: ``<url>; rel="license"; type="application/rsl+xml"``."""
    out = []
    for m in _LINK_HEADER.finditer(link or ""):
        params = m.group(2).lower()
        if re.search(r'rel\s*=\s*"?license"?', params) and "application/rsl+xml" in params:
            out.append(m.group(1).strip())
    return out


_RSL_AI_TRAIN = {"ai-train", "ai-all", "all", "train-ai", "train-genai"}


def rsl_document(xml: bytes | str | None) -> RslDocument:
    """Parse an RSL document: permitted and prohibited usages for '/', payment types, and a training verdict."""
    if not xml:
        return RslDocument("absent")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return RslDocument("invalid")
    except Exception:  # defusedxml-style entity tricks and the like: treat as invalid, never raise
        return RslDocument("invalid")
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
    return RslDocument("valid", tuple(sorted(permits)), tuple(sorted(prohibits)), tuple(sorted(payments)), training)


# -- llms.txt -------------------------------------------------------------------------------------------------
def llms_txt(body: bytes | str | None, content_type: str | None = None) -> LlmsTxt:
    """llms.txt: {present, title, sections, links, has_optional}. An HTML page or no H1 is not an llms.txt."""
    if body is None:
        return LlmsTxt(False)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if (content_type or "").lower().startswith("text/html") or "<html" in text[:1000].lower():
        return LlmsTxt(False)
    m = re.match(r"^#\s+(\S.*)$", first.strip())
    if not m:
        return LlmsTxt(False)
    sections = re.findall(r"(?m)^##\s+(.+)$", text)
    links = re.findall(r"(?m)^\s*-\s*\[[^\]]*\]\([^)]*\)", text)
    return LlmsTxt(
        True,
        title=m.group(1).strip()[:200],
        sections=len(sections),
        links=len(links),
        has_optional=any(s.strip().lower() == "optional" for s in sections),
    )
