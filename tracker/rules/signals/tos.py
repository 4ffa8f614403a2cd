"""Terms of service: finding the terms page from a homepage, and classifying what it says about scraping and
AI training (signals.md §9).

The classifier is keyword-based (English, German, some French/Spanish/Italian cues), on two separate axes —
``scraping`` and ``ai_training`` — each ``prohibited``, ``conditional`` or ``not_mentioned``, with the sentence
that decided it as evidence. A scraping ban alone is not an AI-training ban. Read the evidence before quoting.
"""

from __future__ import annotations

import hashlib
import re

from tracker.records.signals import TermsPage, TosReading
from tracker.rules.signals.html import PageScan, page_text, scan_html

__all__ = ["classify_tos", "find_tos_links", "tos_signals"]

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
_SECONDARY = re.compile(r"sale|selling|api|developer|seller", re.IGNORECASE)


def find_tos_links(page: PageScan | bytes | str | None) -> list[tuple[str, str]]:
    """Candidate terms-of-service links, best first: (href, found_via) with found_via one of link_rel,
    footer_text, page_text, href_pattern. Terms of sale and API terms rank after terms of use/service."""
    scan = page if isinstance(page, PageScan) else scan_html(page)
    out: list[tuple[str, str]] = [(href, "link_rel") for rel, _, href in scan.links if "terms-of-service" in rel][:1]
    usable = [a for a in scan.anchors if not a.href.startswith(("mailto:", "javascript:", "#"))]
    for via, anchors in (("footer_text", [a for a in usable if a.in_footer]), ("page_text", usable)):
        ranked = [(1 if _SECONDARY.search(a.text + a.href) else 0, a.href) for a in anchors if _TOS_TEXT.search(a.text)]
        out += [(href, via) for _, href in sorted(ranked, key=lambda t: t[0])]
    out += [(a.href, "href_pattern") for a in scan.anchors if _TOS_HREF.search(a.href.split("?", 1)[0])]
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
_LEAD_IN = re.compile(
    r"(you\s+agree\s+not\s+to|you\s+(may|shall|must)\s+not|prohibited|untersagt|nicht\s+gestattet|"
    r"insbesondere\s+ist\s+es\s+untersagt|you\s+will\s+not)\s*[:;]?\s*$",
    re.IGNORECASE,
)
_EU_TDM = re.compile(
    r"(article\s+4|art\.?\s*4|directive\s+\(eu\)\s+2019/790|2019/790|§\s*44b\s+urhg|"
    r"text\s+and\s+data\s+mining[^.]{0,80}reserv|text-\s+und\s+data-mining[^.]{0,80}vorbehalt)",
    re.IGNORECASE,
)
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


def classify_tos(text: str) -> TosReading:
    """Classify terms of service on two separate axes, scraping and ai_training: prohibited, conditional or
    not_mentioned, with the matching sentences as evidence, and flags (non_compete, eu_tdm_reservation_art4,
    search_engine_exception, refers_to_robots_txt). A general scraping ban does not imply an AI-training ban."""
    result = {"scraping": "not_mentioned", "ai_training": "not_mentioned"}  # axis → verdict
    evidence: dict[str, str] = {}  # axis → the sentence that decided it
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
                if rank[verdict] > rank[result[axis]] or axis not in evidence:
                    evidence[axis] = unit[:500]
                result[axis] = verdict
        if _EU_TDM.search(unit):
            flags.add("eu_tdm_reservation_art4")
        if _NON_COMPETE.search(unit):
            flags.add("non_compete")
        if _SEARCH_EXC.search(unit) and (_SCRAPING.search(unit) or _AI.search(unit)):
            flags.add("search_engine_exception")
        if _ROBOTS_REF.search(unit):
            flags.add("refers_to_robots_txt")
    return TosReading(result["scraping"], result["ai_training"], evidence, tuple(sorted(flags)))


def tos_signals(html: bytes | str | None, url: str, found_via: str, host: str | None = None) -> TermsPage:
    """A terms page → its normalised signals (what its version is made of) with a hash of its text."""
    text = page_text(html)
    return TermsPage(url, host, found_via, hashlib.sha256(text.encode()).hexdigest(), classify_tos(text))
