"""Token counts per host fold into the tracked site each host belongs to: by registrable domain (the public-suffix
list), or into a tracked subdomain (the longest tracked suffix); the import says where the hosts went and how much
weight matched no tracked site."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis.weights import fold_hosts, import_weights, load_weights, site_weight, stored_weights
from tracker.cli import app
from tracker.pipeline.tracking import add_sites
from tracker.rules.sitelist import parse_site_list, read_site_list
from tracker.store import open_store, queries
from tracker.store.writer import Observation, Writer

runner = CliRunner()


def test_language_subdomains_fold_into_the_site_with_their_sum() -> None:
    fold = fold_hosts({"en.wikipedia.org": 700.0, "de.wikipedia.org": 200.0, "wikipedia.org": 100.0}, ["wikipedia.org"])
    wiki = fold.sites["wikipedia.org"]
    assert (wiki.hosts, wiki.subdomain_hosts, wiki.weight) == (3, 2, 1000.0)
    assert (fold.exact_hosts, fold.subdomain_hosts, fold.unmatched_hosts) == (1, 2, 0)


def test_a_tracked_subdomain_takes_its_own_hosts() -> None:
    table = {
        "news.bbc.co.uk": 50.0,
        "www.news.bbc.co.uk": 5.0,  # longest tracked suffix: news.bbc.co.uk, not bbc.co.uk
        "www.bbc.co.uk": 30.0,
        "sport.bbc.co.uk": 20.0,
    }
    fold = fold_hosts(table, ["bbc.co.uk", "news.bbc.co.uk"])
    assert fold.sites["news.bbc.co.uk"].weight == 55.0 and fold.sites["news.bbc.co.uk"].hosts == 2
    assert fold.sites["bbc.co.uk"].weight == 50.0 and fold.sites["bbc.co.uk"].hosts == 2
    # a site's www. form is its own name: only sport.bbc.co.uk folded in from a subdomain
    assert (fold.exact_hosts, fold.subdomain_hosts) == (3, 1)
    # without the subdomain tracked, all of it goes to bbc.co.uk
    assert fold_hosts(table, ["bbc.co.uk"]).sites["bbc.co.uk"].weight == 105.0


@pytest.mark.parametrize(
    ("host", "tracked", "expected"),
    [
        ("www.example.co.uk", "example.co.uk", "example.co.uk"),
        ("a.b.example.co.uk", "example.co.uk", "example.co.uk"),
        ("other.co.uk", "example.co.uk", None),  # co.uk is a suffix, not a site
        # never above the host's registrable domain: a department's site is not GOV.UK's, a bucket not Amazon's
        ("hmrc.gov.uk", "www.gov.uk", None),
        ("gov.uk", "www.gov.uk", "www.gov.uk"),  # a tracked www. name stands for its domain
        ("mybucket.s3.amazonaws.com", "amazonaws.com", None),
        ("someone.github.io", "someone-else.github.io", None),
        ("blog.someone.github.io", "someone.github.io", "someone.github.io"),
        ("cdn.example.com.au", "example.com.au", "example.com.au"),
        ("example.com", "example.com.au", None),
        ("consumer.huawei.com", "www.huawei.com", "www.huawei.com"),
    ],
)
def test_the_public_suffix_list_bounds_the_fold(host: str, tracked: str, expected: str | None) -> None:
    fold = fold_hosts({host: 1.0}, [tracked])
    assert (next(iter(fold.sites)) if fold.sites else None) == expected


def test_unmatched_and_invalid_hosts_are_counted_with_their_weight() -> None:
    table = {"example.com": 60.0, "elsewhere.org": 30.0, "209.105.242.143": 6.0, "gutenberg": 4.0}
    fold = fold_hosts(table, ["example.com"])
    assert (fold.file_hosts, fold.exact_hosts, fold.unmatched_hosts, fold.invalid_hosts) == (4, 1, 3, 2)
    assert (fold.file_weight, fold.unmatched_weight) == (100.0, 40.0)


def _tracked(tmp_path: Path, domains: str, *hosts: str) -> Path:
    """A store tracking a site list (registrable domains) and ``hosts`` as sites of their own, as an archive import
    of a subdomain's robots.txt makes them."""
    db = tmp_path / "w.db"
    engine = open_store(db)
    add_sites(engine, parse_site_list(domains).sites, list_name="top", kind="top")
    at = datetime(2024, 1, 1, tzinfo=UTC)
    for host in hosts:
        Writer(engine).record(host, [Observation("robots", at, "ok", 200, body=b"User-agent: *\nAllow: /\n")])
    return db


def test_import_stores_sums_and_reports_the_fold(tmp_path: Path) -> None:
    db = _tracked(tmp_path, "1,wikipedia.org\n2,bbc.co.uk\n4,unmeasured.example\n", "news.bbc.co.uk")
    csv = tmp_path / "tokens.csv"
    csv.write_text(
        "url,c4_tokens\nen.wikipedia.org,700\nhttps://de.wikipedia.org/wiki,200\nwww.bbc.co.uk,30\n"
        "news.bbc.co.uk,50\nwww.news.bbc.co.uk:8080,5\nnot-tracked.example,15\n"
    )
    engine = open_store(db)
    r = import_weights(engine, csv, fill="median")
    assert (r.sites, r.measured, r.filled) == (4, 3, 1)
    # exact: www.bbc.co.uk, news.bbc.co.uk and www.news.bbc.co.uk (port dropped); from subdomains: en., de.wikipedia
    assert (r.file_hosts, r.exact_hosts, r.subdomain_hosts, r.unmatched_hosts) == (6, 3, 2, 1)
    assert r.unmatched_weight == 15 and r.unmatched_share == pytest.approx(15 / 1000)
    assert [(f.domain, f.hosts) for f in r.folds] == [("wikipedia.org", 2), ("news.bbc.co.uk", 2), ("bbc.co.uk", 1)]
    ids = {s.domain: s.id for s in queries.sites_for_weights(engine)}
    w = stored_weights(engine)
    assert w.values[ids["wikipedia.org"]] == 900 and w.values[ids["news.bbc.co.uk"]] == 55
    assert w.values[ids["bbc.co.uk"]] == 30 and ids["unmeasured.example"] not in w.measured
    assert w.values[ids["unmeasured.example"]] == 55  # the median of 900, 55, 30
    assert r.measured_share == pytest.approx(985 / (985 + 55))
    data = r.as_dict()
    assert data["measured_share"] == r.measured_share and data["folds"][0] == {
        "domain": "wikipedia.org",
        "hosts": 2,
        "subdomain_hosts": 2,
        "weight": 900.0,
    }


def test_an_empty_file_has_no_shares_not_zero(tmp_path: Path) -> None:
    db = _tracked(tmp_path, "1,example.com\n")
    csv = tmp_path / "empty.csv"
    csv.write_text("url,c4_tokens\n")
    r = import_weights(open_store(db), csv)
    assert r.measured == 0 and r.unmatched_share is None and r.measured_share is None


def test_cli_reports_the_fold_as_a_table_and_as_json(tmp_path: Path) -> None:
    db = str(_tracked(tmp_path, "1,wikipedia.org\n2,example.com\n"))
    csv = tmp_path / "tokens.csv"
    csv.write_text("url,c4_tokens\nen.wikipedia.org,600\nde.wikipedia.org,200\nelsewhere.org,200\n")
    table = runner.invoke(app, ["weights", "import", str(csv), "--fill", "none", "--db", db])
    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert "0 are a tracked site's own name (or its www.), 2 folded in from subdomains, 1 match no tracked" in text
    assert "unmatched: 200 tokens, 20.0% of the file's" in text
    assert "sites: 1 of 2 measured, 0 filled in (none); 100.0% of the stored weight is measured" in text
    assert "wikipedia.org ← 2 hosts (2 from subdomains), 800 tokens" in text
    js = runner.invoke(app, ["weights", "import", str(csv), "--db", db, "--format", "json"])
    assert js.exit_code == 0, js.output
    data = json.loads(js.output)
    assert (data["exact_hosts"], data["subdomain_hosts"], data["unmatched_hosts"]) == (0, 2, 1)
    assert data["unmatched_share"] == pytest.approx(0.2) and data["folds"][0]["domain"] == "wikipedia.org"
    assert runner.invoke(app, ["weights", "import", str(csv), "--db", db, "--format", "csv"]).exit_code == 2


@needs_corpus
def test_the_study_hosts_reach_far_more_tracked_sites_than_by_name() -> None:
    table = load_weights(corpus_path("dpi_domain_token_counts.csv"))
    entries, _ = read_site_list(corpus_path("tranco_top10k_2024-07-01.csv"), top=1000)
    domains = [e.domain for e in entries]
    fold = fold_hosts(table, domains)
    # by name alone (the site or its www.), as `trends --weights FILE` matches: the exact hosts, no more
    assert fold.exact_hosts == sum(h in table for d in domains for h in {d, "www." + d})
    assert fold.exact_hosts < 200
    assert fold.exact_hosts + fold.subdomain_hosts > 500  # far more than the 135 hosts the www.-only rule reached
    assert fold.sites["wordpress.com"].hosts > 100  # the blogs of wordpress.com
    wiki = [w for h, w in table.items() if h == "wikipedia.org" or h.endswith(".wikipedia.org")]
    assert fold.sites["wikipedia.org"].hosts == len(wiki) and fold.sites["wikipedia.org"].weight == sum(wiki)
    assert sum(f.weight for f in fold.sites.values()) + fold.unmatched_weight == pytest.approx(fold.file_weight)
    by_name = sum(site_weight(d, table) is not None for d in domains)
    assert len(fold.sites) > by_name + 30  # sites measured: every one by name, and more through their subdomains
