"""Every real robots.txt in the corpus parses without raising, and properties hold for any input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import corpus_path, needs_corpus
from tracker.rules.agents import CORE_PANEL
from tracker.rules.robots import PROBE_PATHS, parse_robots

REAL_DIRS = ["real_robots", "history", "history_lowercased"]


def _files(sub: str) -> list[Path]:
    root = corpus_path(sub)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


@needs_corpus
@pytest.mark.parametrize("sub", REAL_DIRS)
@pytest.mark.slow
def test_every_real_file_parses_and_evaluates(sub: str) -> None:
    files = _files(sub)
    assert len(files) > 500, f"expected a large corpus under {sub}"
    groups = 0
    for f in files:
        rules = parse_robots(f.read_bytes())
        groups += len(rules.groups)
        for agent in ("GPTBot", "Google-Extended", "CCBot", "*"):
            st = rules.stance(agent)
            assert st.root_allowed is st.probes[0].allowed
            assert len(st.probes) == len(PROBE_PATHS)
    assert groups > len(files)  # real files are mostly rules, not noise: the parser must find them


@needs_corpus
def test_text_and_bytes_inputs_agree_on_real_files() -> None:
    for f in _files("real_robots")[:400]:
        data = f.read_bytes()
        text = data.decode("utf-8", "surrogateescape")
        a, b = parse_robots(data), parse_robots(text)
        assert [(len(g.agents), len(g.rules)) for g in a.groups] == [(len(g.agents), len(g.rules)) for g in b.groups]


@needs_corpus
def test_known_site_blocks_gptbot_by_name() -> None:
    # nytimes.com added a GPTBot group in August 2023; its 2024 file names it and blocks everything.
    hist = corpus_path("history", "nytimes.com")
    files = sorted(hist.iterdir())
    before = [f for f in files if f.name < "2023-08-01"]
    after = [f for f in files if f.name >= "2024-01-01"]
    assert before and after
    assert parse_robots(before[-1].read_bytes()).stance("GPTBot").named is False
    late = parse_robots(after[-1].read_bytes()).stance("GPTBot")
    assert late.named and late.stance == "full_block"


robots_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "User-agent: *",
                "User-agent: GPTBot",
                "user-agent: gptbot/1.0",
                "Disallow: /",
                "Allow: /",
                "Disallow:",
                "Allow: /$",
                "Disallow: /*.pdf$",
                "Sitemap: x",
                "Content-Signal: ai-train=no",
                "# comment",
                "",
                "Disallow: /a*b",
                "Allow: /a/index.html",
            ]
        ),
        st.text(max_size=40),
    ),
    max_size=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    body=st.one_of(st.binary(max_size=2000), st.text(max_size=2000), robots_lines.map("\n".join)),
    url=st.text(max_size=50),
)
@pytest.mark.slow
def test_parser_never_raises_and_is_deterministic(body: str | bytes, url: str) -> None:
    first = parse_robots(body)
    second = parse_robots(body)
    for agent in ("GPTBot", "*", "", "Foo Bar"):
        v1, v2 = first.verdict(agent, url), second.verdict(agent, url)
        assert (v1.allowed, v1.named, v1.line) == (v2.allowed, v2.named, v2.line)
        assert first.stance(agent).stance == second.stance(agent).stance


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(lines=robots_lines)
def test_named_group_matches_allow_all_when_it_has_no_disallow(lines: list[str]) -> None:
    body = "\n".join(lines) + "\nUser-agent: CoreTestBot\nAllow: /\n"
    # A group that names the agent and allows everything wins over any '*' rules, whatever came before.
    rules = parse_robots(body)
    st_ = rules.stance("CoreTestBot")
    assert st_.named
    assert rules.verdict("CoreTestBot", "/").allowed or any("coretestbot" in line.lower() for line in lines)


def test_core_panel_tokens_are_evaluable() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /\n")
    assert all(not rules.verdict(t, "/").allowed for t in CORE_PANEL)


# -- the 500 KiB limit ------------------------------------------------------------------------------------------
def _cut_at_line(data: bytes, limit: int) -> bytes:
    head = data[:limit]
    return head[: max(head.rfind(b"\n"), head.rfind(b"\r")) + 1]


@needs_corpus
@pytest.mark.slow
def test_a_line_cut_by_the_limit_is_dropped_not_read_as_a_rule() -> None:
    # primevideo.com's 516,025-byte file: byte 512,000 falls inside "Disallow: /dp/B0B5VZWS2V", which read as
    # "Disallow: /" would report every agent fully blocked on a site that blocks none.
    data = corpus_path("history", "primevideo.com", "2022-07-28.txt").read_bytes()
    assert len(data) > 512_000
    whole = parse_robots(data)
    at_boundary = parse_robots(_cut_at_line(data, 512_000))
    stored = parse_robots(data[:512_000], truncated=True)  # a capped body, as the store keeps it
    assert whole.truncated and whole.cut_line is not None and stored.cut_line == whole.cut_line
    for rules in (whole, stored):
        for agent in ("GPTBot", "CCBot", "Googlebot", "*"):
            for url in ("/", "/dp/B0B5VZWS2V", "/region/eu/", "/gp/video/detail/x"):
                assert rules.verdict(agent, url).allowed == at_boundary.verdict(agent, url).allowed, (agent, url)
        assert rules.stance("GPTBot").stance == at_boundary.stance("GPTBot").stance
    assert whole.verdict("GPTBot", "/").allowed


@needs_corpus
@pytest.mark.slow
def test_every_corpus_file_over_the_limit_parses_as_its_last_whole_line() -> None:
    big = [f for sub in ("history", "real_robots") for f in _files(sub) if f.stat().st_size > 512_000]
    assert len(big) >= 10
    for f in big:
        data = f.read_bytes()
        whole, boundary = parse_robots(data), parse_robots(_cut_at_line(data, 512_000))
        assert [(len(g.agents), [(r.allow, r.pattern) for r in g.rules]) for g in whole.groups] == [
            (len(g.agents), [(r.allow, r.pattern) for r in g.rules]) for g in boundary.groups
        ], f.name


def test_limit_cut_rule_table() -> None:
    pad = b"# " + b"x" * 97 + b"\n"  # 100 bytes
    body = b"User-agent: *\nDisallow: /private\n" + pad * 10
    limit = len(body) + len(b"Disallow: /")
    rules = parse_robots(body + b"Disallow: /dp/abc\nAllow: /\n", max_bytes=limit)
    assert rules.truncated and rules.cut_line == 13
    assert rules.verdict("x", "/").allowed  # the cut "Disallow: /" is not a rule
    assert not rules.verdict("x", "/private").allowed
    # A line that ends exactly at the limit is kept; one whose newline lies past it is not.
    exact = b"User-agent: *\nDisallow: /a\n"
    assert parse_robots(exact + b"Disallow: /b\n", max_bytes=len(exact)).cut_line is None
    assert parse_robots(exact + b"Disallow: /b\n", max_bytes=len(exact) + 12).cut_line == 3
    # Under the limit nothing is cut, and a last line without a newline is an ordinary line.
    short = parse_robots(b"User-agent: *\nDisallow: /")
    assert not short.truncated and short.cut_line is None and not short.verdict("x", "/").allowed
