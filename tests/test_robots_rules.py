"""Unit tables for the robots.txt engine: every rule the issue names, plus stance classification."""

from __future__ import annotations

import pytest

from tests.conftest import load_corpus_json, needs_corpus
from tracker.rules.robots import escape_path, extract_token, parse_robots, path_of

# (id, robots.txt, agent, url, allowed, named)
VERDICTS = [
    ("empty_file_allows", "", "GPTBot", "/x", True, False),
    ("star_disallow", "User-agent: *\nDisallow: /\n", "GPTBot", "/x", False, False),
    ("named_disallow", "User-agent: GPTBot\nDisallow: /\n", "GPTBot", "/x", False, True),
    ("case_insensitive_token", "user-agent: gptbot\ndisallow: /\n", "GPTBot", "/x", False, True),
    ("versioned_ua_value", "User-agent: GPTBot/1.1\nDisallow: /\n", "GPTBot", "/x", False, True),
    ("prefix_is_not_a_match", "User-agent: Google\nDisallow: /\n", "Google-Extended", "/x", True, False),
    ("longer_is_not_a_match", "User-agent: Google-Extended\nDisallow: /\n", "Google", "/x", True, False),
    ("substring_is_not_a_match", "User-agent: bot\nDisallow: /\n", "GPTBot", "/", True, False),
    (
        "specific_replaces_star",
        "User-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nAllow: /\n",
        "GPTBot",
        "/",
        True,
        True,
    ),
    (
        "specific_group_without_rules_wins",
        "User-agent: *\nDisallow: /\nUser-agent: GPTBot\n",
        "GPTBot",
        "/",
        True,
        True,
    ),
    (
        "merge_same_agent_groups",
        "User-agent: GPTBot\nDisallow: /a\nUser-agent: CCBot\nDisallow: /\nUser-agent: GPTBot\nDisallow: /b\n",
        "GPTBot",
        "/b/1",
        False,
        True,
    ),
    (
        "merge_two_star_groups",
        "User-agent: *\nDisallow: /a\nUser-agent: X\nDisallow: /\nUser-agent: *\nDisallow: /b\n",
        "GPTBot",
        "/b",
        False,
        False,
    ),
    ("longest_match_allow", "User-agent: *\nDisallow: /a\nAllow: /a/b\n", "x", "/a/b/c", True, False),
    ("longest_match_disallow", "User-agent: *\nAllow: /a\nDisallow: /a/b\n", "x", "/a/b/c", False, False),
    ("tie_allow_wins", "User-agent: *\nDisallow: /*\nAllow: /$\n", "x", "/", True, False),
    ("tie_allow_wins_other_path", "User-agent: *\nDisallow: /*\nAllow: /$\n", "x", "/page", False, False),
    ("star_wildcard", "User-agent: *\nDisallow: /*.pdf\n", "x", "/docs/a.pdf?x=1", False, False),
    ("dollar_anchor", "User-agent: *\nDisallow: /*.pdf$\n", "x", "/docs/a.pdf?x=1", True, False),
    ("dollar_midpattern_literal", "User-agent: *\nDisallow: /a$b\n", "x", "/a$b", False, False),
    ("path_case_sensitive", "User-agent: *\nDisallow: /Private\n", "x", "/private", True, False),
    ("empty_disallow_allows", "User-agent: *\nDisallow:\n", "x", "/anything", True, False),
    (
        "blank_lines_do_not_end_group",
        "User-agent: GPTBot\n\nUser-agent: CCBot\n\nDisallow: /\n",
        "GPTBot",
        "/",
        False,
        True,
    ),
    (
        "sitemap_does_not_end_group",
        "User-agent: GPTBot\nSitemap: https://x/s.xml\nDisallow: /\n",
        "GPTBot",
        "/",
        False,
        True,
    ),
    (
        "content_signal_does_not_end_group",
        "User-agent: *\nContent-Signal: ai-train=no\nDisallow: /\n",
        "x",
        "/",
        False,
        False,
    ),
    (
        "crawl_delay_does_not_end_group",
        "User-agent: GPTBot\nCrawl-delay: 5\nUser-agent: CCBot\nDisallow: /\n",
        "GPTBot",
        "/",
        False,
        True,
    ),
    ("rules_before_ua_ignored", "Disallow: /\nUser-agent: X\nDisallow: /x\n", "GPTBot", "/", True, False),
    ("typo_dissallow", "User-agent: *\nDissallow: /\n", "x", "/", False, False),
    ("typo_useragent", "Useragent: GPTBot\nDisallow: /\n", "GPTBot", "/", False, True),
    ("missing_colon", "User-agent GPTBot\nDisallow /\n", "GPTBot", "/", False, True),
    ("missing_colon_three_words_dropped", "User-agent: GPTBot\nDisallow / x\n", "GPTBot", "/", True, True),
    ("bom", "\ufeffUser-agent: GPTBot\nDisallow: /\n", "GPTBot", "/", False, True),
    ("crlf", "User-agent: GPTBot\r\nDisallow: /\r\n", "GPTBot", "/", False, True),
    ("cr_only", "User-agent: GPTBot\rDisallow: /\r", "GPTBot", "/", False, True),
    ("comment_in_path", "User-agent: *\nDisallow: /a#b\n", "x", "/a", False, False),
    ("non_ascii_pattern_encoded", "User-agent: *\nDisallow: /caf\u00e9\n", "x", "/caf%C3%A9", False, False),
    ("lowercase_escape_upcased", "User-agent: *\nDisallow: /a%2fb\n", "x", "/a%2Fb", False, False),
    ("star_with_trailing_text", "User-agent: * bot\nDisallow: /\n", "x", "/", False, False),
    ("index_html_allows_dir", "User-agent: *\nDisallow: /d/\nAllow: /d/index.html\n", "x", "/d/", True, False),
    ("full_url", "User-agent: *\nDisallow: /a\n", "x", "https://example.com/a?x#frag", False, False),
    ("query_matched", "User-agent: *\nDisallow: /*?\n", "x", "https://example.com/p?q=1", False, False),
    ("nul_byte_cuts_line", "User-agent: *\nDisallow: /a\x00bc\n", "x", "/ab", False, False),
    ("star_agent_token", "User-agent: *\nDisallow: /\n", "*", "/", False, False),
]


@pytest.mark.parametrize(
    ("robots", "agent", "url", "allowed", "named"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_verdict_table(robots: str, agent: str, url: str, allowed: bool, named: bool) -> None:
    v = parse_robots(robots).verdict(agent, url)
    assert (v.allowed, v.named) == (allowed, named)


def test_verdict_reports_the_deciding_line() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n")
    v = rules.verdict("x", "/a/b/c/d")
    assert not v.allowed and v.line == 4 and str(v.rule) == "Disallow: /a/b/c"
    assert rules.verdict("x", "/a/b/x").line == 3
    assert rules.verdict("x", "/z").rule is None


def test_records_are_kept_with_their_group() -> None:
    body = (
        "License: https://example.com/license.xml\n"
        "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"
        "User-agent: GPTBot\nContent-Usage: train-ai=n\nCrawl-delay: 10\nDisallow: /\n"
        "Sitemap: https://example.com/sitemap.xml\n"
    )
    rules = parse_robots(body)
    assert rules.sitemaps == ["https://example.com/sitemap.xml"]
    lic = rules.records_named("License")
    assert [(r.value, r.group) for r in lic] == [("https://example.com/license.xml", None)]
    assert [(r.value, r.group) for r in rules.records_named("content-signal")] == [("search=yes, ai-train=no", 0)]
    assert [(r.value, r.group) for r in rules.records_named("content-usage")] == [("train-ai=n", 1)]
    assert rules.records_named("crawl-delay")[0].value == "10"
    assert len(rules.groups) == 2 and rules.rule_count == 2


def test_cloudflare_managed_block_two_star_groups_merge() -> None:
    body = (
        "# BEGIN Cloudflare Managed content\nUser-Agent: *\nContent-signal: search=yes,ai-train=no\nAllow: /\n"
        "User-agent: GPTBot\nDisallow: /\n# END Cloudflare Managed Content\n"
        "User-agent: *\nDisallow: /admin/\n"
    )
    rules = parse_robots(body)
    assert rules.cloudflare_managed
    assert not rules.verdict("x", "/admin/x").allowed  # the origin's '*' group merged with Cloudflare's
    assert rules.verdict("x", "/news").allowed
    assert not rules.verdict("GPTBot", "/news").allowed


def test_truncates_at_500_kib_and_flags_it() -> None:
    filler = "# " + "x" * 1000 + "\n"
    body = "User-agent: *\nDisallow: /early\n" + filler * 600 + "Disallow: /late\n"
    rules = parse_robots(body)
    assert rules.truncated and 511_000 < rules.bytes_read <= 512_000 and rules.input_bytes > 512_000
    assert rules.cut_line is not None  # the comment line the limit cut is dropped
    assert not rules.verdict("x", "/early").allowed
    assert rules.verdict("x", "/late").allowed  # beyond the parsing limit, as RFC 9309 §2.5 permits


def test_ten_megabyte_body_parses_quickly_and_whole_first_part() -> None:
    body = b"User-agent: *\nDisallow: /a\n" + b"Disallow: /zzz\n" * 700_000
    rules = parse_robots(body)
    assert rules.truncated and not rules.verdict("x", "/a").allowed


def test_invalid_utf8_and_binary_do_not_raise() -> None:
    body = b"User-agent: *\nDisallow: /\xff\xfe\n\x00\x01\x02\x89PNG\r\n"
    rules = parse_robots(body)
    assert not rules.verdict("x", "/%FF%FE").allowed


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("GPTBot/1.1", "GPTBot"),
        ("Foo Bar", "Foo"),
        ("AI2Bot", "AI"),
        ("*", ""),
        ("Google-Extended", "Google-Extended"),
    ],
)
def test_extract_token(value: str, token: str) -> None:
    assert extract_token(value) == token


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("http://example.com", "/"),
        ("http://example.com/a/b?c=d#e", "/a/b?c=d"),
        ("http://example.com?x", "/?x"),
        ("/only/path", "/only/path"),
        ("example.com/a", "/a"),
        ("http://example.com#frag/x", "/"),
    ],
)
def test_path_of(url: str, path: str) -> None:
    assert path_of(url) == path


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("/café", "/caf%C3%A9"),
        ("/a%2fb", "/a%2Fb"),
        ("/%62az", "/baz"),
        ("/a b", "/a%20b"),
        ("/x%C3%A9", "/x%C3%A9"),
    ],
)
def test_escape_path(raw: str, escaped: str) -> None:
    assert escape_path(raw) == escaped
    assert escape_path(escaped) == escaped  # idempotent


def test_verdict_escape_option_applies_rfc_normalisation() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /café\n")
    assert rules.verdict("x", "/café").allowed  # as given: Google matches the raw URL, which is not escaped
    assert not rules.verdict("x", "/café", escape=True).allowed


# (id, robots.txt, agent, stance, named)
STANCES = [
    ("full_named", "User-agent: GPTBot\nDisallow: /\n", "GPTBot", "full_block", True),
    ("full_wildcard", "User-agent: *\nDisallow: /\n", "GPTBot", "full_block", False),
    ("near_full_root_only", "User-agent: GPTBot\nDisallow: /*\nAllow: /$\n", "GPTBot", "near_full_block", True),
    (
        "near_full_narrow_files",
        "User-agent: GPTBot\nAllow: /llms.txt\nAllow: /index.html$\nDisallow: /\n",
        "GPTBot",
        "near_full_block",
        True,
    ),
    ("partial", "User-agent: GPTBot\nDisallow: /private/\n", "GPTBot", "partial_block", True),
    ("partial_blocks_a_probe", "User-agent: *\nDisallow: /*?\n", "GPTBot", "partial_block", False),
    ("allowed_empty_disallow", "User-agent: GPTBot\nDisallow:\n", "GPTBot", "allowed", True),
    ("explicit_allow", "User-agent: GPTBot\nAllow: /\n", "GPTBot", "explicit_allow", True),
    ("allowed_no_group", "User-agent: CCBot\nDisallow: /\n", "GPTBot", "allowed", False),
    ("wildcard_allow_is_not_explicit", "User-agent: *\nAllow: /\n", "GPTBot", "allowed", False),
    ("no_robots_blank", "  \n\n", "GPTBot", "no_robots", False),
    ("trailing_ua_no_rules", "User-agent: *\nDisallow: /\nUser-agent: GPTBot\n", "GPTBot", "allowed", True),
]


@pytest.mark.parametrize(("robots", "agent", "stance", "named"), [s[1:] for s in STANCES], ids=[s[0] for s in STANCES])
def test_stance_table(robots: str, agent: str, stance: str, named: bool) -> None:
    st = parse_robots(robots).stance(agent)
    assert (st.stance, st.named) == (stance, named)
    assert st.root_allowed is (stance != "full_block")


def test_stance_lenient_match_disagreement() -> None:
    st = parse_robots("User-agent: AI2Bot\nDisallow: /\n").stance("AI2Bot")
    assert not st.named and st.lenient_named and st.match_mode_disagreement
    assert st.stance == "allowed"  # strictly, 'AI2Bot' is read as 'AI', which does not name AI2Bot
    st2 = parse_robots("User-agent: GPTBot/1.1\nDisallow: /\n").stance("GPTBot")
    assert st2.named and st2.lenient_named and st2.named_as == ("GPTBot/1.1",)


def test_stance_reports_deciding_rules() -> None:
    st = parse_robots("User-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nDisallow: /\n").stance("GPTBot")
    assert st.deciding_rules == ("line 5: Disallow: /",)
    part = parse_robots("User-agent: *\nDisallow: /private/\n").stance("GPTBot")
    assert part.deciding_rules == ("line 2: Disallow: /private/",)


def _vectors() -> list[dict]:
    return load_corpus_json("specs", "robots_test_vectors.json") or []


# The one vector where RFC 9309 and Google's reference disagree: RFC says /robots.txt is implicitly allowed,
# Google's library (and its conformance suite, which we pass) does not special-case it.
_GOOGLE_OVER_RFC = {"robots_txt_implicitly_allowed"}


@needs_corpus
@pytest.mark.parametrize("vec", _vectors(), ids=[v["id"] for v in _vectors()])
def test_disagreement_vectors(vec: dict) -> None:
    v = parse_robots(vec["robots_txt"]).verdict(vec["agent"], vec["url"])
    if vec["id"] in _GOOGLE_OVER_RFC:
        assert v.allowed is (not vec["expected_rfc_google"])
    else:
        assert v.allowed is vec["expected_rfc_google"]
