"""The agent registry is data: validate it, and check it against the ai.robots.txt reference in the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import load_corpus_json, needs_corpus
from tracker.rules.agents import (
    CORE_PANEL,
    PURPOSES,
    Agent,
    AgentRegistry,
    RegistryError,
    load_registry,
    merge_upstream,
)

REG = load_registry()


def test_registry_is_large_and_valid() -> None:
    assert len(REG) >= 40
    for a in REG:
        assert a.purpose in PURPOSES and a.purpose != "unknown", a.token
        assert a.company and a.obeys_robots in {"yes", "no", "partial", "unknown", "n/a"}
        assert (a.purpose == "control") == (a.obeys_robots == "n/a"), a.token


@pytest.mark.parametrize(
    "company",
    [
        "OpenAI",
        "Anthropic",
        "Google",
        "Apple",
        "Common Crawl",
        "Meta",
        "Perplexity",
        "ByteDance",
        "Amazon",
        "Cohere",
        "Mistral AI",
        "DeepSeek",
        "Diffbot",
        "Webz.io",
        "Timpi",
    ],
)
def test_major_operators_are_covered(company: str) -> None:
    assert REG.select(company=company), company


@pytest.mark.parametrize(
    ("token", "purpose"),
    [
        ("GPTBot", "training"),
        ("OAI-SearchBot", "search"),
        ("ChatGPT-User", "user"),
        ("ClaudeBot", "training"),
        ("Claude-User", "user"),
        ("Google-Extended", "control"),
        ("Applebot-Extended", "control"),
        ("CCBot", "training"),
        ("PerplexityBot", "search"),
        ("Perplexity-User", "user"),
        ("meta-externalagent", "training"),
    ],
)
def test_documented_purposes(token: str, purpose: str) -> None:
    agent = REG.get(token)
    assert agent is not None and agent.purpose == purpose


def test_search_controls_are_not_ai() -> None:
    controls = {a.token for a in REG.select(ai=False)}
    assert {"Googlebot", "Bingbot", "Applebot", "DuckDuckBot", "YandexBot", "Baiduspider"} <= controls
    assert all(a.purpose == "search" for a in REG.select(ai=False))


def test_lookup_is_case_insensitive_and_core_panel_known() -> None:
    assert REG.get("gptbot") is REG.get("GPTBot")
    assert all(t == "*" or t in REG for t in CORE_PANEL)


def test_invalid_tokens_are_flagged() -> None:
    assert REG.get("GPTBot").valid_token  # type: ignore[union-attr]
    assert not REG.get("AI2Bot").valid_token  # type: ignore[union-attr]
    assert not REG.get("Kangaroo Bot").valid_token  # type: ignore[union-attr]


@needs_corpus
def test_agrees_with_operator_annotations_in_corpus() -> None:
    ref = {a["token"].lower(): a for a in load_corpus_json("agents", "ai_agents_annotated.json")["agents"]}
    mapping = {"training": "training", "control_token": "control", "search_index": "search", "user_fetch": "user"}
    checked = 0
    for a in REG:
        r = ref.get(a.token.lower())
        if r is None or r["purpose_class"] not in mapping:
            continue
        if a.token in ("GoogleOther",):  # the reference calls it a general crawler; we count it with training-side
            continue
        assert mapping[r["purpose_class"]] == a.purpose, (a.token, r["purpose_class"])
        checked += 1
    assert checked >= 20


@needs_corpus
def test_merge_with_real_upstream_keeps_ours() -> None:
    upstream = load_corpus_json("agents", "ai.robots.txt_robots.json")
    merged, added, _updated = merge_upstream(REG, upstream)
    assert len(merged) >= len(REG) + 100 and len(added) >= 100
    for a in REG:
        m = merged.get(a.token)
        assert m is not None and (m.purpose, m.company) == (a.purpose, a.company)
    assert merged.get("MistralAI-User").upstream_names  # type: ignore[union-attr]
    # Case duplicates upstream (meta-externalagent / Meta-ExternalAgent) collapse into one entry
    assert len([a for a in merged if a.token.lower() == "meta-externalagent"]) == 1


def test_registry_errors_are_clear(tmp_path: Path) -> None:
    p = tmp_path / "agents.json"
    with pytest.raises(RegistryError, match="not found"):
        load_registry(p)
    p.write_text("{")
    with pytest.raises(RegistryError, match="not readable JSON"):
        load_registry(p)
    p.write_text(json.dumps({"agents": [{"token": "X", "company": "Y", "purpose": "spying"}]}))
    with pytest.raises(RegistryError, match="purpose"):
        load_registry(p)
    with pytest.raises(RegistryError, match="duplicate"):
        AgentRegistry([Agent("X", "a", "training"), Agent("x", "b", "search")])


def test_save_and_load_roundtrip(tmp_path: Path) -> None:
    p = tmp_path / "agents.json"
    REG.save(p)
    again = load_registry(p)
    assert [a.to_json() for a in again] == [a.to_json() for a in REG]
