"""Categories from each source and their precedence; token weights in the store with their fallback; trends that
say their sample and how much of their weight was measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis import categories
from tracker.analysis.trends import restriction_series
from tracker.analysis.weights import import_weights, stored_weights
from tracker.pipeline.tracking import add_sites
from tracker.rules.agents import load_registry
from tracker.rules.signals import page_signals
from tracker.rules.sitelist import parse_site_list
from tracker.store import open_store, queries
from tracker.store.writer import Observation, Writer

REG = load_registry()


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("whitehouse.gov", "government"),
        ("gov.uk", "government"),
        ("service.gov.uk", "government"),
        ("impots.gouv.fr", "government"),
        ("sat.gob.mx", "government"),
        ("mit.edu", "academic"),
        ("ox.ac.uk", "academic"),
        ("u-tokyo.ac.jp", "academic"),
        ("bbc.co.uk", None),
        ("example.com", None),
        ("gov.example.com", None),
    ],
)
def test_tld_rules(domain: str, expected: str | None) -> None:
    got = categories.tld_category(domain)
    assert (got[0] if got else None) == expected


def test_homepage_schema_types_and_og_type() -> None:
    html = b"""<html><head><meta property="og:type" content="product">
      <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite"}, {"@type": ["Organization", "NewsMediaOrganization"]}]}</script>
      <script type="application/ld+json">{not json</script></head><body></body></html>"""
    signals = page_signals(html, {}).as_dict()
    assert signals["schema_types"] == ["NewsMediaOrganization", "Organization", "WebSite"]
    assert signals["og_type"] == "product"
    assert categories.homepage_category(signals) == ("news", "schema.org NewsMediaOrganization")  # schema.org first
    assert categories.homepage_category({"og_type": "product", "schema_types": []}) == ("commerce", "og:type product")
    assert categories.homepage_category({"schema_types": ["WebSite"]}) is None


def test_annotation_mapping() -> None:
    row = {"Type of service": "Periodicals"}
    assert categories.annotation_category(row) == ("news", "Periodicals")
    assert (
        categories.annotation_category({"Type of service": "Other", "Content Domain I": "Technology/Code"})[0] == "code"
    )
    assert categories.annotation_category({"Type of service": "Company website"})[0] == "other"
    assert (
        categories.annotation_category({"Type of service": "", "Sensitive content: Pornography": "TRUE"})[0] == "adult"
    )
    assert categories.annotation_category({"Type of service": ""}) is None


def test_precedence_user_over_curated_over_homepage_over_tld(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "c.db")
    at = datetime(2024, 1, 1, tzinfo=UTC)
    w = Writer(engine)
    news_home = page_signals(
        b'<html><head><script type="application/ld+json">{"@type": "NewsMediaOrganization"}</script></head></html>', {}
    ).as_dict()
    for d in ("nytimes.com", "agency.gov", "plain.example", "shop.gov"):
        w.record(d, [Observation("robots", at, "ok", 200, body=b"User-agent: *\nDisallow: /\n")])
    w.record("plain.example", [Observation("homepage", at, "ok", 200, signals=news_home)])
    w.record("shop.gov", [Observation("homepage", at, "ok", 200, signals=news_home)])
    counts = categories.assign(engine)
    with engine.connect() as conn:
        cats = dict(conn.exec_driver_sql("SELECT domain, category FROM sites").fetchall())
    assert cats == {"nytimes.com": "news", "agency.gov": "government", "plain.example": "news", "shop.gov": "news"}
    assert counts["news"] == 3
    report = add_sites(engine, parse_site_list("domain,category\nshop.gov,commerce\n").sites, list_name="mine")
    assert report.labelled == 1
    categories.assign(engine)  # what the service does after a list that labels sites
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT category FROM sites WHERE domain='shop.gov'").scalar() == "commerce"
    # the trend's category filter follows the re-assignment
    rows = restriction_series(engine, REG, ["GPTBot"], category="commerce")
    assert rows and rows[-1].sites == 1


@needs_corpus
def test_annotations_import_and_agreement(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "a.db")
    report = categories.import_labels(engine, corpus_path("dpi_top2000_c4_annotations.csv"), annotations=True)
    assert 200 <= report.labelled <= 286 and report.source == "annotation"
    a = categories.agreement(engine)
    assert a.compared > 10 and 0 < a.rate <= 1
    assert a.agree == a.compared - sum(a.pairs.values())


def test_weights_measured_and_filled(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "w.db")
    lines = "".join(f"{i},s{i}.example\n" for i in range(1, 41))
    add_sites(engine, parse_site_list(lines).sites, list_name="top", kind="top")
    csv = tmp_path / "tokens.csv"
    # a power law: tokens = 1e9 / rank for the first 30; the last 10 have no count
    csv.write_text(
        "url,c4_tokens,rf_tokens\n"
        + "".join(f"www.s{i}.example,{1e9 / i},1\n" for i in range(1, 31))
        + "elsewhere.example,5,1\n"
    )
    r = import_weights(engine, csv)
    assert (r.column, r.measured, r.filled, r.unmatched_hosts) == ("c4_tokens", 30, 10, 1)
    assert (r.exact_hosts, r.subdomain_hosts, r.unmatched_weight) == (30, 0, 5)  # www. is a site's own name
    assert r.measured_share == pytest.approx(r.measured_weight / (r.measured_weight + r.filled_weight))
    assert 0 < r.measured_share < 1
    w = stored_weights(engine)
    assert len(w.values) == 40 and len(w.measured) == 30
    ids = {s.domain: s.id for s in queries.sites_for_weights(engine)}
    assert w.values[ids["s35.example"]] == pytest.approx(1e9 / 35, rel=1e-6)  # the fitted power law
    none = import_weights(engine, csv, fill="none")
    assert none.filled == 0 and len(stored_weights(engine).values) == 30


def test_trend_rows_say_sample_and_measured_weight(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "t.db")
    at = datetime(2024, 1, 5, tzinfo=UTC)
    w = Writer(engine)
    for i, body in enumerate(
        [b"User-agent: GPTBot\nDisallow: /\n", b"User-agent: *\nAllow: /\n", b"User-agent: *\nAllow: /\n"], 1
    ):
        w.record(
            f"s{i}.example",
            [
                Observation("robots", at, "ok", 200, body=body),
                Observation("robots", at + timedelta(days=20), "ok", 200, body=body),
            ],
        )
    add_sites(engine, parse_site_list("1,s1.example\n2,s2.example\n").sites, list_name="panel")
    csv = tmp_path / "t.csv"
    csv.write_text("url,c4_tokens\ns1.example,300\n")
    import_weights(engine, csv, fill="median")
    all_rows = restriction_series(engine, REG, ["GPTBot"])
    assert all_rows[-1].sample == "all sites" and all_rows[-1].sites == 3
    panel = restriction_series(
        engine, REG, ["GPTBot"], lists=["panel"], weight="tokens", weights=stored_weights(engine)
    )
    last = panel[-1]
    assert last.sample == "panel 'panel'" and last.sites == 2 and last.blocked == 1
    # s1 measured (300), s2 filled with the median (300): half of the weight was measured
    assert last.sites_weight == 600 and last.weight_measured_share == pytest.approx(0.5)
    assert "stored" in last.weighting
    from tracker.errors import TrendError

    with pytest.raises(TrendError, match="no list named"):
        restriction_series(engine, REG, ["GPTBot"], lists=["nope"])
    assert json.dumps(last.as_dict())  # JSON-ready
