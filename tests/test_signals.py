"""Unit tables for every signal parser (signals.md §2–§8, §11), and hypothesis: no parser raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import corpus_path, needs_corpus
from tests.test_preferences import Res
from tracker.rules import signals as sig
from tracker.rules.robots import parse_robots


# -- meta robots / X-Robots-Tag -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["noai, noimageai"], [{"source": "header", "ua_scope": None, "directives": ["noai", "noimageai"]}]),
        (["GPTBot: noai"], [{"source": "header", "ua_scope": "GPTBot", "directives": ["noai"]}]),
        (
            ["max-snippet:50, noarchive"],
            [{"source": "header", "ua_scope": None, "directives": ["max-snippet:50", "noarchive"]}],
        ),
        (
            ["unavailable_after: 25 Jun 2030 15:00:00 PST"],
            [{"source": "header", "ua_scope": None, "directives": ["unavailable_after: 25 jun 2030 15:00:00 pst"]}],
        ),
        (
            ["NOAI", "googlebot: noindex"],
            [
                {"source": "header", "ua_scope": None, "directives": ["noai"]},
                {"source": "header", "ua_scope": "googlebot", "directives": ["noindex"]},
            ],
        ),
        ([""], []),
    ],
)
def test_x_robots_tag(values: list[str], expected: list[dict]) -> None:
    assert sig.x_robots_tag(values) == expected


def test_html_meta_and_links() -> None:
    html = b"""<html><head>
      <META NAME="robots" CONTENT="noindex, NoAI">
      <meta name='GPTBot' content='noimageai'>
      <meta name="OtherBot" content="noai">
      <meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://x.test/policy.json">
      <link rel="license" type="application/rsl+xml" href="https://x.test/license.xml">
      <link rel="terms-of-service" href="/terms">
      <script type="application/rsl+xml"><rsl xmlns="https://rslstandard.org/rsl"></rsl></script>
    </head><body>hello</body></html>"""
    got = sig.html_signals(html, robots_tokens=["GPTBot"])
    assert got["meta_robots"] == [
        {"source": "meta", "ua_scope": None, "directives": ["noindex", "noai"]},
        {"source": "meta", "ua_scope": "GPTBot", "directives": ["noimageai"]},
    ]
    assert got["tdm_meta"] == {"tdm-reservation": "1", "tdm-policy": "https://x.test/policy.json"}
    assert got["rsl"][0] == {"url": "https://x.test/license.xml", "location": "html_link"}
    assert got["rsl"][1]["location"] == "html_inline" and got["tos_link"] == "/terms"
    d = sig.ai_directives(got["meta_robots"], "GPTBot")
    assert d["noai"] and d["noimageai"] and not d["noarchive"]
    assert not sig.ai_directives(got["meta_robots"], "CCBot")["noimageai"]  # scoped to GPTBot


# -- TDMRep ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "n_rules", "lenient"),
    [
        ('[{"location": "/", "tdm-reservation": 1, "tdm-policy": "https://p.test/p.json"}]', "valid", 1, False),
        ('{"location": "/", "tdm-reservation": 1}', "invalid", 1, False),  # an object, not an array: flagged
        ('[{"location": "/", "tdm-reservation": "1"}]', "valid", 1, True),  # a string: lenient, flagged
        ('[{"location": "/", "tdm-reservation": 2}]', "valid", 1, False),  # other values: unset
        ("<!doctype html><html>Not found</html>", "html", 0, False),
        ("{not json", "invalid", 0, False),
        ("", "empty", 0, False),
        ('[{"tdm-reservation": 1}]', "invalid", 0, False),
        ('[{"location": "news/*", "tdm-reservation": 1}]', "valid", 1, True),
    ],
)
def test_tdmrep_file(body: str, status: str, n_rules: int, lenient: bool) -> None:
    got = sig.tdmrep_file(body.encode())
    assert (got["status"], len(got["rules"]), got["lenient"]) == (status, n_rules, lenient)


def test_tdmrep_first_match_in_array_order_and_precedence() -> None:
    rules = sig.tdmrep_file(
        b'[{"location": "/news/*", "tdm-reservation": 0}, {"location": "/", "tdm-reservation": 1}]'
    )["rules"]
    assert sig.tdm_for_path(rules, "/news/a")["reservation"] == 0  # type: ignore[index]
    assert sig.tdm_for_path(rules, "/shop")["reservation"] == 1  # type: ignore[index]
    assert sig.tdm_for_path([], "/") is None
    file_rule = {"reservation": 1, "policy": "https://p/1"}
    assert sig.tdm_effective(file_rule, {}, {}) == {"reservation": True, "policy": "https://p/1", "source": "file"}
    # a header supersedes the file, meta supersedes the header; absence resets nothing
    assert sig.tdm_effective(file_rule, {"tdm-reservation": "0"}, {})["reservation"] is False
    assert sig.tdm_effective(file_rule, {"tdm-reservation": "0"}, {"tdm-reservation": "1"})["source"] == "meta"
    assert sig.tdm_effective(file_rule, {"tdm-policy": "https://p/2"}, {})["policy"] == "https://p/2"
    assert sig.tdm_effective(None, {"tdm-reservation": "yes"}, {})["reservation"] is None  # protocol error: unset


# -- ai.txt ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "stance", "types"),
    [
        (
            "# Spawning AI\nUser-Agent: *\nDisallow: *.jpg\nDisallow: *.PNG\nDisallow: /\nDisallow: *\n",
            "full_optout",
            ["jpg", "png"],
        ),
        ("User-Agent: *\nDisallow: *.txt\nDisallow: *.pdf\n", "by_filetype", ["pdf", "txt"]),
        ("User-Agent: *\nAllow: /\n", "allowed", []),
        ("# About this site\nWe love AI.\n", None, []),
    ],
)
def test_ai_txt(body: str, stance: str | None, types: list[str]) -> None:
    got = sig.ai_txt(body)
    assert (got["stance"], got["types"]) == (stance, types)


def test_ai_txt_html_is_not_present() -> None:
    assert sig.ai_txt("<html><body>404</body></html>")["present"] is False
    assert sig.ai_txt(None)["present"] is False


# -- Content-Signal -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("search=yes, ai-train=no", {"search": "yes", "ai-train": "no"}),
        (
            "search=yes,ai-input=yes,ai-train=no,use=reference",
            {"search": "yes", "ai-input": "yes", "ai-train": "no", "use": "reference"},
        ),
        ("ai-train=disallow", {"ai-train": "no", "_nonstandard": True}),
        ("ai-train", {}),
        ("", {}),
    ],
)
def test_content_signal(raw: str, expected: dict) -> None:
    assert sig.content_signal(raw) == expected


def test_content_signal_group_and_star() -> None:
    rules = parse_robots(
        "User-Agent: *\nContent-signal: search=yes, ai-train=no\nAllow: /\n\n"
        "User-agent: GPTBot\nContent-Signal: ai-train=yes\nDisallow: /private/\n"
    )
    assert sig.content_signals_for(rules, "GPTBot") == {
        "group": {"ai-train": "yes"},
        "star": {"search": "yes", "ai-train": "no"},
    }
    assert sig.content_signals_for(rules, "CCBot")["group"] == {"search": "yes", "ai-train": "no"}


# -- Content-Usage --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("train-ai=n", {"train-ai": "n"}),
        ("train-ai=y, search=n", {"train-ai": "y", "search": "n"}),
        ("train-ai=n;foo=1, search=y", {"train-ai": "n", "search": "y"}),  # parameters ignored
        ("train-ai", {}),  # Boolean true: not y/n → unknown
        ('train-ai="n"', {}),  # a String: unknown
        ("Train-AI=n", {}),  # uppercase keys do not parse: everything unknown
        ("train-ai=n, train-ai=y", {"train-ai": "y"}),  # duplicate: last wins
        ("ai=n, tdm=n", {"_legacy": {"ai": "n", "tdm": "n"}}),  # older drafts' labels kept raw
        ("train-ai=n,,", {}),
    ],
)
def test_content_usage(raw: str, expected: dict) -> None:
    assert sig.content_usage(raw) == expected


def test_content_usage_in_robots_matches_the_draft_example() -> None:
    rules = parse_robots(
        "User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok/ train-ai=y\n"
        "User-Agent: ExampleBot\nAllow: /\nContent-Usage: train-ai=y\n"
    )
    assert sig.content_usage_for(rules, "AnyBot", "/test") == {"train-ai": "n"}
    assert sig.content_usage_for(rules, "AnyBot", "/never/test") == {}  # not crawlable: no preference
    assert sig.content_usage_for(rules, "AnyBot", "/ai-ok/test") == {"train-ai": "y"}
    assert sig.content_usage_for(rules, "ExampleBot", "/test") == {"train-ai": "y"}
    conflict = parse_robots("User-Agent: *\nContent-Usage: /x/ train-ai=y\nContent-Usage: /x/ train-ai=n\n")
    assert sig.content_usage_for(conflict, "a", "/x/1") == {"train-ai": "n"}  # most restrictive on a tie


# -- RSL ------------------------------------------------------------------------------------------------------
RSL = """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/" server="https://licensing.example.com">
    <license><permits type="usage">search ai-input</permits><prohibits type="usage">ai-train</prohibits>
    <payment type="attribution"/></license>
  </content></rsl>"""


def test_rsl_document_and_discovery() -> None:
    doc = sig.rsl_document(RSL)
    assert doc["training"] == "prohibited" and doc["permits"] == ["ai-input", "search"]
    paid = sig.rsl_document(
        RSL.replace('<prohibits type="usage">ai-train</prohibits>', "")
        .replace("search ai-input", "search ai-train")
        .replace('"attribution"', '"subscription"')
    )
    assert paid["training"] == "licensed"
    assert sig.rsl_document("<rsl><oops>")["status"] == "invalid"
    assert sig.rsl_document(None)["status"] == "absent"
    rules = parse_robots("License: https://x.test/l.xml\nUser-agent: *\nLicense: https://x.test/g.xml\nAllow: /\n")
    urls = sig.rsl_license_urls(
        rules, {"link": '<https://x.test/h.xml>; rel="license"; type="application/rsl+xml"'}, None
    )
    assert [(u["url"], u["location"]) for u in urls] == [
        ("https://x.test/l.xml", "robots_global"),
        ("https://x.test/g.xml", "robots_group"),
        ("https://x.test/h.xml", "link_header"),
    ]


# -- llms.txt -------------------------------------------------------------------------------------------------
def test_llms_txt() -> None:
    body = "# Example Docs\n> Short summary\n\n## Docs\n- [Intro](https://x/intro.md): start\n\n## Optional\n- [More](https://x/m)\n"
    assert sig.llms_txt(body) == {
        "present": True,
        "title": "Example Docs",
        "sections": 2,
        "links": 2,
        "has_optional": True,
    }
    assert sig.llms_txt("<!doctype html><html>")["present"] is False
    assert sig.llms_txt("no heading here")["present"] is False


# -- properties -----------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(data=st.one_of(st.binary(max_size=3000), st.text(max_size=3000)))
@pytest.mark.slow
def test_no_parser_raises(data: bytes | str) -> None:
    text = data if isinstance(data, str) else data.decode("latin-1")
    sig.html_signals(data)
    sig.x_robots_tag([text])
    sig.tdmrep_file(data)
    sig.ai_txt(data)
    sig.content_signal(text)
    sig.content_usage(text)
    sig.rsl_document(data)
    sig.llms_txt(data)
    sig.scan_html(data)
    sig.page_text(data)
    sig.find_tos_links(data)
    page = sig.page_signals(data, {"content-usage": text, "content-signal": text, "x-robots-tag": text})
    prefs = sig.site_preferences(
        {
            "robots": Res("ok", data if isinstance(data, bytes) else data.encode("utf-8", "replace")),
            "homepage": Res("ok", signals=page),
            "tdmrep": Res("ok", data),
            "ai_txt": Res("ok", data),
            "rsl": Res("ok", data),
        }
    )
    prefs.for_agent("GPTBot")
    prefs.as_dict()


@needs_corpus
@pytest.mark.slow
def test_real_robots_files_signals_never_raise() -> None:
    files = [p for p in corpus_path("history_lowercased").rglob("*.txt")][:400]
    assert files
    found = 0
    for f in files:
        prefs = sig.site_preferences({"robots": Res("ok", f.read_bytes())})
        found += "content_signal" in prefs.for_agent("gptbot").sources
    assert found > 0  # the 2025-26 snapshots include Cloudflare's managed Content-Signal lines


# -- terms of service -----------------------------------------------------------------------------------------
EN_TOS = """Terms of Use

You agree not to:
- use any robot, spider, scraper or other automated means to access the Service;
- use the Content to train, fine-tune or otherwise develop any artificial intelligence or machine learning model.

We reserve our rights to text and data mining under Article 4(3) of Directive (EU) 2019/790.
"""


@pytest.mark.parametrize(
    ("text", "scraping", "ai_training", "flags"),
    [
        (EN_TOS, "prohibited", "prohibited", ["eu_tdm_reservation_art4"]),
        # a general scraping ban is not an AI-training ban
        ("You may not use any robot, spider or scraper to access the site.", "prohibited", "not_mentioned", []),
        (
            "You may not crawl the site without our prior written consent, except for search engines.",
            "conditional",
            "not_mentioned",
            ["search_engine_exception"],
        ),
        (
            "Die Nutzung von Crawlern ist untersagt. Das Training von KI-Modellen mit unseren Inhalten ist ohne unsere "
            "vorherige schriftliche Zustimmung nicht gestattet.",
            "prohibited",
            "conditional",
            [],
        ),
        (
            "You shall not use the Services to develop a competing product or to train AI models.",
            "not_mentioned",
            "prohibited",
            ["non_compete"],
        ),
        ("Welcome! We love readers. Crawling is how search works.", "not_mentioned", "not_mentioned", []),
    ],
)
def test_classify_tos(text: str, scraping: str, ai_training: str, flags: list[str]) -> None:
    got = sig.classify_tos(text)
    assert (got["scraping"], got["ai_training"], got["flags"]) == (scraping, ai_training, flags)
    for axis in ("scraping", "ai_training"):
        assert (axis in got["evidence"]) == (got[axis] != "not_mentioned")


def test_find_tos_links_prefers_footer_terms_of_use() -> None:
    html = (
        b'<html><body><a href="/about">About</a><a href="/help">Terms</a>'
        b'<footer><a href="/legal/terms-of-sale">Terms of sale</a> <a href="/legal/terms">Terms of Use</a></footer>'
        b'<a href="/tos">x</a></body></html>'
    )
    links = sig.find_tos_links(html)
    assert links[0] == ("/legal/terms", "footer_text") and links[1] == ("/legal/terms-of-sale", "footer_text")
    assert ("/tos", "href_pattern") in links
    assert sig.find_tos_links(b'<link rel="terms-of-service" href="https://x/t">')[0] == ("https://x/t", "link_rel")
    assert sig.find_tos_links(b"<p>nothing</p>") == []


def test_tos_signals_hash_and_text() -> None:
    page = (
        "<html><head><style>p{}</style><script>var x='You agree not to scrape'</script></head><body>"
        + EN_TOS.replace("\n", "<br>")
        + "</body></html>"
    )
    got = sig.tos_signals(page, "https://x/terms", "footer_text")
    assert got["scraping"] == "prohibited" and got["url"] == "https://x/terms" and len(got["text_sha256"]) == 64
    assert sig.tos_signals(page, "u", "v")["text_sha256"] == got["text_sha256"]


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=3000))
def test_tos_parsers_never_raise(text: str) -> None:
    sig.classify_tos(text)
    sig.find_tos_links(text)
    sig.tos_signals(text, "u", "v")
