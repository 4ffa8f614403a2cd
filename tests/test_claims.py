"""Published figures beside ours: the claims file is sourced and validated, our figures equal a hand count on a small
history, and on the real corpus history the Originality.ai comparison is computed and the token claims say what they
lack."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis.claims import (
    COLUMNS,
    Claim,
    ClaimsError,
    Comparison,
    Metric,
    Recipe,
    compare,
    load_claims,
    parse_claims,
)
from tracker.analysis.weights import import_weights
from tracker.cli import app
from tracker.pipeline.tracking import add_sites
from tracker.rules.agents import load_registry
from tracker.rules.sitelist import parse_site_list
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

REG = load_registry()
HEADER = ",".join(COLUMNS)
GOOD = {
    "id": "x-gptbot",
    "claim": "10% block GPTBot",
    "value": "0.1",
    "unit": "share",
    "low": "",
    "high": "",
    "as_of": "2023-09-01",
    "published": "2023-09-02",
    "source": "Somebody",
    "url": "https://example.org/study",
    "sample": "the top 1000 sites",
    "definition": "robots.txt blocks GPTBot",
    "recipe": "metric=agent_blocked_share; agents=GPTBot; sample=all; date=2023-09-01",
    "note": "",
}


def _csv(*rows: dict[str, str], header: str = HEADER) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([row.get(c, "") for c in header.split(",")])
    return "# a comment line\n" + header + "\n" + buf.getvalue()


def _claim(**changes: str) -> Claim:
    return parse_claims(_csv({**GOOD, **changes}))[0]


# -- the file ------------------------------------------------------------------------------------------------------
def test_the_claims_file_loads_and_every_claim_is_sourced_and_dated() -> None:
    claims = load_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids)) >= 10
    for c in claims:
        assert c.url.startswith("https://"), c.id
        assert c.source and c.sample and c.definition, c.id
        if c.value is None:  # never invented: a figure not entered says why and where to read it
            assert "must be read off" in c.note, c.id
            continue
        assert c.as_of or c.published, c.id
    by_id = {c.id: c for c in claims}
    sep = by_id["originality-gptbot-2023-09-22"]
    assert (sep.value, sep.as_of, sep.recipe.agents, sep.recipe.sample) == (
        0.259,
        date(2023, 9, 22),
        "GPTBot",
        "top:1000",
    )
    assert by_id["cic-c4-head-robots-full"].recipe.weighting == "tokens:c4_tokens"
    assert by_id["cic-c4-head-robots-full"].recipe.rule == "full"
    assert by_id["reuters-openai-2023"].value == 0.48
    assert by_id["cloudflare-radar-gptbot"].value is None
    epoch = by_id["epoch-runout-pooled"]
    assert (epoch.value, epoch.low, epoch.high, epoch.recipe.metric) == (2028, 2026, 2032, Metric.runout)


def test_recipes_round_trip() -> None:
    for c in load_claims():
        assert Recipe.parse(c.recipe.text) == c.recipe
    r = Recipe.parse(
        "metric=token_restricted_share; agents=purpose:training; rule=full; sample=c4_head:2000; "
        "weighting=tokens:c4_tokens; date=2024-04-30"
    )
    assert (r.rule, r.over, r.date) == ("full", "sites", date(2024, 4, 30))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "25.9"}, r"line 3 \(claim x-gptbot\), column value: a share must be between 0 and 1"),
        ({"as_of": "22 Sep 2023"}, r"column as_of: '22 Sep 2023' is not a date"),
        ({"url": ""}, r"column url: is empty"),
        ({"url": "originality.ai/ai-bot-blocking"}, r"column url: .* is not an http\(s\) URL"),
        ({"recipe": "metric=agent_blocked_share; agents=GPTBot; colour=blue"}, r"column recipe: unknown key\(s\)"),
        ({"recipe": "metric=agent_blocked_share; sample=all"}, r"column recipe: agents is required"),
        ({"recipe": "metric=share_of_something"}, r"column recipe: metric must be one of"),
        ({"recipe": "metric=agent_blocked_share; agents=GPTBot; sample=top:many"}, r"column recipe: sample must be"),
        ({"recipe": "metric=runout; scenario=unadjusted"}, r"column recipe: runout does not give a share"),
        ({"value": "", "note": ""}, r"column value: is empty and no note says why"),
        ({"as_of": "", "published": ""}, r"column published: a figure needs a date"),
        ({"as_of": "2024-01-01"}, r"column as_of: 2024-01-01 is after the publication date"),
        ({"unit": "percent"}, r"column unit: must be one of share, year"),
        ({"id": "Not A Slug"}, r"column id: 'Not A Slug' is not a slug"),
        ({"low": "0.2"}, r"column low: 0.2 is above the value"),
    ],
)
def test_bad_rows_name_the_line_the_claim_and_the_column(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ClaimsError, match=message):
        parse_claims(_csv({**GOOD, **changes}), "claims.csv")


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ClaimsError, match=r"line 2: missing column\(s\) recipe"):
        parse_claims(_csv(GOOD, header=HEADER.replace(",recipe", "")))
    with pytest.raises(ClaimsError, match=r"line 4 \(claim x-gptbot\), column id: 'x-gptbot' is used twice"):
        parse_claims(_csv(GOOD, GOOD))
    with pytest.raises(ClaimsError, match="no header row"):
        parse_claims("# only comments\n")
    with pytest.raises(ClaimsError, match=r"line 3: more cells than columns"):
        parse_claims(_csv(GOOD).rstrip("\n") + ",extra\n")
    with pytest.raises(ClaimsError, match="cannot read claims"):
        load_claims(tmp_path / "absent.csv")
    ok = tmp_path / "claims.csv"
    ok.write_text(_csv(GOOD), encoding="utf-8")
    assert [c.id for c in load_claims(ok)] == ["x-gptbot"]


# -- a small history, counted by hand ---------------------------------------------------------------------------------
D1, D2, D3 = datetime(2023, 8, 1, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC), datetime(2023, 10, 1, tzinfo=UTC)
NAMED = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
STAR = b"User-agent: *\nDisallow: /\n"
OPEN = b"User-agent: *\nDisallow: /private/\n"
PARTIAL = b"User-agent: GPTBot\nDisallow: /private/\n"


@pytest.fixture
def small(tmp_path: Path) -> Engine:
    """Six sites: a names GPTBot (full block), b blocks everything via '*', c is open until D2 and then names GPTBot,
    d blocks GPTBot from one folder only, e has no robots.txt, f is unreachable."""
    engine = open_store(tmp_path / "small.db")
    w = Writer(engine)

    def ok(at: datetime, body: bytes) -> Observation:
        return Observation("robots", at, "ok", 200, body=body)

    w.record("a.example", [ok(D1, NAMED), ok(D3, NAMED)])
    w.record("b.example", [ok(D1, STAR), ok(D3, STAR)])
    w.record("c.example", [ok(D1, OPEN), ok(D2, NAMED), ok(D3, NAMED)])
    w.record("d.example", [ok(D1, PARTIAL), ok(D3, PARTIAL)])
    w.record("e.example", [Observation("robots", D1, "no_robots", 404), Observation("robots", D3, "no_robots", 404)])
    w.record(
        "f.example", [Observation("robots", D1, "unreachable", 503), Observation("robots", D3, "unreachable", 503)]
    )
    return engine


def _one(engine: Engine, **changes: str) -> Comparison:
    return compare(engine, REG, [_claim(**changes)])[0]


def test_gptbot_share_equals_a_hand_count(small: Engine) -> None:
    # 2023-08-15: a and b block GPTBot at '/'; c, d are open at '/'; e has no robots.txt; f is unreachable.
    everyone = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; over=sites; sample=all; date=2023-08-15")
    assert everyone.missing is None and everyone.ours == pytest.approx(2 / 6)
    assert everyone.sample is not None
    assert (everyone.sample.sites, everyone.sample.date, everyone.sample.weighting) == (6, date(2023, 8, 15), "sites")
    assert everyone.sample.weight_measured_share is None
    assert everyone.difference == pytest.approx(2 / 6 - 0.1, abs=1e-6)
    with_robots = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; over=with_robots; date=2023-08-15")
    assert with_robots.ours == pytest.approx(2 / 4)  # e (absent) and f (unreachable) leave the denominator
    reachable = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; over=reachable; date=2023-08-15")
    assert reachable.ours == pytest.approx(2 / 5)
    # full block: a (named) and b ('*') disallow every probe path; d's partial block is not full
    full = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; rule=full; over=with_robots; date=2023-08-15")
    assert full.ours == pytest.approx(2 / 4)
    # after c names GPTBot on 2023-09-01, three of the four sites with a robots.txt block it
    later = _one(
        small,
        as_of="2023-09-10",
        published="2023-09-11",
        recipe="metric=agent_blocked_share; agents=GPTBot; over=with_robots",
    )
    assert later.ours == pytest.approx(3 / 4) and later.sample and later.sample.date == date(2023, 9, 10)
    assert "absent and unreachable ones left out" in later.definition.text
    assert later.definition.as_dict()["agents"] == ["GPTBot"]


def test_dates_outside_the_history(small: Engine) -> None:
    early = _one(
        small,
        as_of="2023-07-01",
        published="2023-07-02",
        recipe="metric=agent_blocked_share; agents=GPTBot; date=2023-07-01",
    )
    assert early.ours is None and early.sample is None
    assert early.missing == "no observation on or before 2023-07-01 (our history starts 2023-08-01)"
    late = _one(
        small,
        as_of="2024-05-01",
        published="2024-05-02",
        recipe="metric=agent_blocked_share; agents=GPTBot; over=with_robots; date=2024-05-01",
    )
    assert late.sample is not None and late.sample.date == date(2023, 10, 1)  # our last observation
    assert late.ours == pytest.approx(3 / 4)


def test_groups_samples_and_what_is_missing(small: Engine, tmp_path: Path) -> None:
    # OpenAI as a group: a site counts when it blocks any of OpenAI's agents ('*' blocks them all on b)
    openai = _one(small, recipe="metric=agent_blocked_share; agents=company:OpenAI; over=with_robots; date=2023-08-15")
    assert openai.ours == pytest.approx(2 / 4)
    assert set(openai.definition.agents) == {"GPTBot", "ChatGPT-User", "OAI-SearchBot"}
    # no ranks stored: 'top 1,000' is all sites, said so
    top = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; sample=top:1000; date=2023-08-15")
    assert top.sample is not None and "no ranks are stored" in top.sample.label and top.ours == pytest.approx(2 / 6)
    # a tracked list of ranked sites: a, c, d only
    add_sites(small, parse_site_list("1,a.example\n2,c.example\n3,d.example\n").sites, list_name="top3", kind="top")
    ranked = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; sample=top:1000; date=2023-08-15")
    assert ranked.sample is not None and "'top3'" in ranked.sample.label and ranked.sample.sites == 3
    assert ranked.ours == pytest.approx(1 / 3) and "ranks 1–3" in ranked.sample.label
    top2 = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; sample=top:2; date=2023-08-15")
    assert (
        top2.ours is None and top2.missing is not None and "no tracked list of at most 2 ranked sites" in top2.missing
    )
    news = _one(small, recipe="metric=agent_blocked_share; agents=GPTBot; sample=category:news; date=2023-08-15")
    assert news.ours is None and news.missing is not None and "no news category labels" in news.missing
    c4 = _one(
        small,
        recipe="metric=token_restricted_share; agents=GPTBot; sample=c4_head:2000; "
        "weighting=tokens:c4_tokens; date=2023-08-15",
    )
    assert c4.ours is None and c4.missing is not None and c4.missing.startswith("no token weights stored")
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("url,c4_tokens\na.example,100\nwww.b.example,300\nc.example,600\n")
    import_weights(small, tokens, fill="none")
    weighted = _one(
        small,
        recipe="metric=token_restricted_share; agents=GPTBot; sample=c4_head:2000; "
        "weighting=tokens:c4_tokens; date=2023-08-15",
    )
    assert weighted.missing is None and weighted.ours == pytest.approx(400 / 1000)  # a + b of a + b + c
    assert weighted.sample is not None and weighted.sample.sites == 3 and weighted.sample.weight_measured_share == 1.0
    full = _one(
        small,
        recipe="metric=token_restricted_share; agents=GPTBot; rule=full; sample=c4_head:2000; "
        "weighting=tokens:c4_tokens; date=2023-08-15",
    )
    assert full.ours == pytest.approx(400 / 1000)
    c4_all = _one(
        small,
        recipe="metric=token_restricted_share; agents=GPTBot; sample=c4_all; "
        "weighting=tokens:c4_tokens; date=2023-08-15",
    )
    assert c4_all.ours is None and c4_all.missing is not None and "no random sample of C4" in c4_all.missing


@pytest.mark.slow
def test_runout_comes_from_the_forecast_passed_in(small: Engine) -> None:
    claims = [
        _claim(id="pooled", unit="year", value="2028", recipe="metric=runout; scenario=unadjusted"),
        _claim(
            id="hist", unit="year", value="2029", recipe="metric=runout; scenario=unadjusted; projection=historical"
        ),
    ]
    by_default = compare(small, REG, claims)  # the forecast with its default parameters, per projection
    from tracker.analysis.forecast import draw, exhaustion, load_params

    historical = exhaustion(draw(load_params())).median
    assert by_default[1].ours == pytest.approx(historical, abs=1e-3) and by_default[1].missing is None
    assert by_default[0].ours is not None and by_default[0].ours != by_default[1].ours  # pooled is another figure
    asked: list[Recipe] = []

    def forecast(recipe: Recipe) -> float | None:
        asked.append(recipe)
        return 2029.4 if recipe.projection == "historical" else None

    pooled, hist = compare(small, REG, claims, forecast=forecast)
    assert [r.projection for r in asked] == ["pooled", "historical"]
    assert hist.ours == 2029.4 and hist.difference == pytest.approx(0.4) and hist.missing is None
    assert pooled.ours is None and pooled.missing and "no run-out year" in pooled.missing
    assert "historical projection, unadjusted" in hist.definition.text


def test_cli_mirrors_the_library(small: Engine, tmp_path: Path) -> None:
    db = str(small.url.database)
    claims = tmp_path / "claims.csv"
    claims.write_text(_csv(GOOD, {**GOOD, "id": "formula", "source": '=HYPERLINK("x")'}), encoding="utf-8")
    runner = CliRunner()
    as_json = runner.invoke(app, ["claims", "--claims", str(claims), "--db", db, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    got = json.loads(as_json.stdout)["comparisons"]
    lib = compare(small, REG, load_claims(claims))
    assert got == [c.as_dict() for c in lib]
    assert (
        got[0]["ours"] == pytest.approx(3 / 6) and got[0]["sample"]["date"] == "2023-09-01"
    )  # c named GPTBot that day
    as_csv = runner.invoke(app, ["claims", "--claims", str(claims), "--db", db, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["id"] for r in rows] == ["x-gptbot", "formula"]
    assert rows[1]["source"].startswith("'=")  # formula-safe
    table = runner.invoke(app, ["claims", "--claims", str(claims), "--db", db])
    assert table.exit_code == 0 and "x-gptbot" in table.stdout and "How ours is counted" in table.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv({**GOOD, "value": "2.5"}), encoding="utf-8")
    failed = runner.invoke(app, ["claims", "--claims", str(bad), "--db", db])
    assert failed.exit_code == 2 and "column value" in failed.output


# -- the real corpus history ------------------------------------------------------------------------------------------
@needs_corpus
@pytest.mark.slow
def test_originality_comparison_on_the_corpus(tmp_path: Path) -> None:
    from tracker.pipeline.archive_import import import_archive

    engine = open_store(tmp_path / "corpus.db")  # robots.txt only, weekly 2022-07 → 2024-07, ~808 top-1k sites
    import_archive(engine, corpus_path("history"))
    comparisons = {c.claim.id: c for c in compare(engine, REG)}
    sep = comparisons["originality-gptbot-2023-09-22"]
    assert sep.missing is None and sep.ours is not None and 0 < sep.ours < 1
    assert sep.sample is not None and sep.sample.date == date(2023, 9, 22) and sep.sample.sites > 500
    assert "no ranks are stored" in sep.sample.label  # the corpus database has no ranks: said, not hidden
    aug = comparisons["originality-gptbot-2023-08-22"]
    assert aug.ours is not None and aug.ours < sep.ours  # blocking GPTBot grew over that month
    head = comparisons["cic-c4-head-robots-full"]
    assert head.ours is None and head.missing is not None and head.missing.startswith("no token weights stored")
    assert "weights import" in head.missing
    runout = comparisons["epoch-runout-pooled"]
    assert runout.ours is not None and 2026 < runout.ours < 2032 and runout.missing is None
    import_weights(engine, corpus_path("dpi_domain_token_counts.csv"))
    after = {c.claim.id: c for c in compare(engine, REG)}["cic-c4-head-robots-full"]
    assert after.missing is None and after.ours is not None and 0 <= after.ours <= 1
