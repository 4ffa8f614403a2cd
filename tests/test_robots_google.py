"""Google's reference robots.txt behaviour is the referee: every recorded assertion must agree.

Cases come from ../shared/corpus (google/robotstxt robots_test.cc, instrumented; google/robotstxt-spec-test).
"""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS_REASON, load_corpus_json, needs_corpus
from tracker.rules.robots import is_valid_token, parse_robots


def _cases(name: str) -> list[dict]:
    data = load_corpus_json(name)
    return data["cases"] if data else []


def _body(case: dict) -> str | bytes:
    hexed = case.get("robots_txt_bytes_hex")
    return bytes.fromhex(hexed) if hexed else case["robots_txt"]


GOOGLE = _cases("google_robotstxt_cases.json")
SPEC = _cases("google_robotstxt_spec_test_cases.json")
VALIDITY = _cases("google_robotstxt_useragent_validity_cases.json")


@needs_corpus
def test_corpus_case_counts() -> None:
    assert len(GOOGLE) == 145, CORPUS_REASON
    assert len(SPEC) == 400


@needs_corpus
@pytest.mark.parametrize("case", GOOGLE, ids=[c["name"] for c in GOOGLE])
def test_google_robots_test_cc(case: dict) -> None:
    rules = parse_robots(_body(case))
    assert rules.verdict(case["user_agent"], case["url"]).allowed is case["expected_allowed"]


@needs_corpus
@pytest.mark.parametrize("case", SPEC, ids=[f"{i}:{c['name']}" for i, c in enumerate(SPEC)])
def test_google_spec_conformance(case: dict) -> None:
    rules = parse_robots(_body(case))
    assert rules.verdict(case["user_agent"], case["url"]).allowed is case["expected_allowed"]


def _validity_arg(assertion: str) -> str:
    # EXPECT_TRUE(RobotsMatcher::IsValidUserAgentToObey("Foobot")) -> Foobot ; absl::string_view() -> ""
    inner = assertion.split("IsValidUserAgentToObey(", 1)[1].rsplit("))", 1)[0]
    return inner.strip('"') if inner.startswith('"') else ""


@needs_corpus
@pytest.mark.parametrize("case", VALIDITY, ids=[c["name"] for c in VALIDITY])
def test_google_valid_user_agents(case: dict) -> None:
    assert is_valid_token(_validity_arg(case["assertion"])) is case["expected"]
