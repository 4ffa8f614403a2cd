"""Site lists are data: the example list must parse cleanly; bad lines are reported, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import corpus_path, needs_corpus
from tracker.rules.sitelist import normalise_domain, parse_site_list

ROOT = Path(__file__).resolve().parents[1]


def test_example_list_is_clean() -> None:
    parsed = parse_site_list((ROOT / "data" / "sites-example.csv").read_text())
    assert parsed.problems == [] and len(parsed.sites) >= 20
    assert all(s.category for s in parsed.sites) and parsed.sites[0].rank == 1


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("www.BBC.co.uk", "bbc.co.uk"),
        ("https://news.ycombinator.com/item?id=1", "ycombinator.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("example.com:8443", "example.com"),
        ("example.com.", "example.com"),
        ("co.uk", None),
        ("1.2.3.4", None),
        ("localhost", None),
        ("a b.com", None),
        ("", None),
    ],
)
def test_normalise_domain(raw: str, domain: str | None) -> None:
    assert normalise_domain(raw)[0] == domain


def test_csv_with_problems() -> None:
    text = "Domain,Rank,Category\nexample.com,1,news\nwww.example.com,2,news\nnot a domain,3,x\nexample.org,four,x\n"
    parsed = parse_site_list(text)
    assert [s.domain for s in parsed.sites] == ["example.com"]
    assert parsed.duplicates == [(3, "example.com")]
    assert [i[2] for i in parsed.invalid] == ["not a valid domain name", "rank is not a whole number"]


def test_plain_lines_and_tranco_rows() -> None:
    parsed = parse_site_list("# my list\nexample.com\n\nexample.org\n3,example.net\nfoo,bar,baz\n")
    assert [s.domain for s in parsed.sites] == ["example.com", "example.org", "example.net"]
    assert parsed.sites[2].rank == 3 and len(parsed.invalid) == 1
    assert [s.domain for s in parsed.top(1)] == ["example.net"]


@needs_corpus
def test_real_tranco_list() -> None:
    parsed = parse_site_list(corpus_path("tranco_top10k_2026-08-01.csv").read_text())
    assert len(parsed.sites) > 9000
    assert parsed.top(1)[0].domain == "google.com"
    assert all("public suffix" in why or "valid" in why for _, _, why in parsed.invalid)
