"""Figures an analyst can cite: the definition is a value computed with its figure ("restricts training" counts the
training crawlers and the control tokens, any or all, explicitly), every run-out carries its calendar months, one
forecast gives one answer in the CLI, the report and the dashboard, and nonsense parameters say which one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.analysis.forecast import forecast, load_params, measured_restriction
from tracker.analysis.forecast.model import runout_text
from tracker.analysis.forecast.params import ParamsError
from tracker.analysis.forecast.stock import year_month
from tracker.analysis.headlines import headline
from tracker.analysis.trends import define, restriction_series
from tracker.cli import app
from tracker.publishing.report import write_report
from tracker.records.forecast import Runout
from tracker.records.vocabulary import GroupBy, Rule
from tracker.rules.agents import load_registry
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

REG = load_registry()
TRAINING = [a.token for a in REG.for_use("training")]

BODIES = {
    "google_extended_only": b"User-agent: Google-Extended\nDisallow: /\n",
    "applebot_extended_only": b"User-agent: Applebot-Extended\nDisallow: /\n",
    "search_only": b"User-agent: OAI-SearchBot\nDisallow: /\n\nUser-agent: PerplexityBot\nDisallow: /\n",
    "user_only": b"User-agent: ChatGPT-User\nDisallow: /\n",
    "everyone": b"User-agent: *\nDisallow: /\n",
    "open": b"User-agent: *\nDisallow: /private/\n",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six sites, one of each kind, observed once."""
    path = tmp_path_factory.mktemp("fig") / "f.db"
    w = Writer(open_store(path))
    at = datetime(2024, 3, 10, tzinfo=UTC)
    for name, body in BODIES.items():
        w.record(f"{name.replace('_', '-')}.example", [Observation("robots", at, "ok", 200, body=body)])
    return path


def test_control_tokens_count_as_restricting_training_and_search_blocks_never_do(small: Path) -> None:
    assert {"Google-Extended", "Applebot-Extended", "GPTBot", "CCBot"} <= set(TRAINING)
    assert not {"OAI-SearchBot", "PerplexityBot", "ChatGPT-User"} & set(TRAINING)
    engine = open_store(small)
    h = headline(engine, REG)
    assert h.by_sites is not None and h.by_sites.sites == 6
    # Google-Extended only, Applebot-Extended only and '*' restrict training; search-only and user-only do not.
    assert h.by_sites.blocked == 3
    assert h.all_agents is not None and h.all_agents.blocked == 1  # only 'User-agent: *' keeps every one out
    by_purpose = {r.agent: r.blocked for r in restriction_series(engine, REG, [], by=GroupBy.purpose)}
    assert by_purpose["training"] == 3 and "control" not in by_purpose
    assert by_purpose["search"] == 2 and by_purpose["user"] == 2  # (the '*' site blocks them too)


def test_the_definition_says_any_or_all_and_names_the_agents(small: Path) -> None:
    engine = open_store(small)
    h = headline(engine, REG)
    d = h.definition
    assert d.rule == "any" and "at least one of the" in d.counts and "every one" not in d.counts
    assert "Google-Extended" in d.agents and "Applebot-Extended" in d.agents and "GPTBot" in d.agents
    assert "Search-only and user-triggered agents never count" in d.text and "(any)" in d.text
    assert d.sites == 6 and d.date_to == "2024-03-10" and d.weight_measured_share is None
    assert h.all_agents_definition is not None and "every one of" in h.all_agents_definition.counts
    assert h.all_agents_definition.rule == "all"
    one = define(REG, restriction_series(engine, REG, ["GPTBot"]), group="GPTBot")
    assert one.agents == ("GPTBot",) and "does not let GPTBot fetch '/'" in one.counts
    # The forecast's measured series carries the same definition as the headline.
    m = measured_restriction(engine, REG, load_params())
    assert m.definition.text == d.text and m.r[-1] == h.by_sites.blocked_share


def test_rule_all_is_never_above_any(small: Path) -> None:
    engine = open_store(small)
    anyr = restriction_series(engine, REG, TRAINING, by=GroupBy.purpose)
    allr = restriction_series(engine, REG, TRAINING, by=GroupBy.purpose, rule=Rule.all)
    assert [r.rule for r in anyr] == ["any"] and [r.rule for r in allr] == ["all"]
    assert allr[-1].blocked_share <= anyr[-1].blocked_share


def test_year_month_is_the_calendar_month_not_the_decimal() -> None:
    assert year_month(2027.8) == "2027-10"  # 0.8 of a year is in October, not "August"
    assert year_month(2027.0) == "2027-01" and year_month(2027.999) == "2027-12" and year_month(None) is None
    # Every month start of a monthly grid is its own month (floating point must not push it back one).
    import numpy as np

    grid = np.linspace(2024.0, 2040.0, 16 * 12 + 1)
    months = [year_month(float(t)) for t in grid]
    assert len(set(months)) == len(months) and months[7] == "2024-08" and months[-1] == "2040-01"
    e = {
        "median": 2027.8,
        "p10": 2026.5,
        "p90": 2029.2,
        "median_month": "2027-10",
        "p10_month": "2026-07",
        "p90_month": "2029-03",
    }
    runout = Runout(e["median"], e["p10"], e["p90"])
    assert runout.as_dict() == e
    assert runout_text(runout) == "Oct 2027 (80%: Jul 2026 – Mar 2029)"
    assert runout_text(replace(runout, p90=None), horizon=2040) == "Oct 2027 (80%: Jul 2026 – after 2040)"
    assert runout_text(None) == "—"


def test_every_run_out_carries_its_months() -> None:
    out = forecast(None, None, load_params(overrides=["draws=2000"])).as_dict()
    e = out["exhaustion"]
    for q in ("median", "p10", "p90"):
        assert e[f"{q}_month"] == year_month(e[q])
        assert e[f"{q}_month"] is not None and len(e[f"{q}_month"]) == 7


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("end=2020", "end"),  # a horizon in the past
        ("stock.quality=[0.1, 1.4]", "stock.quality"),  # a share above 1
        ("stock.quality=[0.1, 0.4, 120]", "stock.quality"),  # a band outside 0–100%
        ('consent.rule="some"', "consent.rule"),
        ("consent.preferences_min_share=1.5", "consent.preferences_min_share"),
        ("draws=3", "draws"),
        ("draws=1500.5", "draws"),  # never truncated silently
        ('seed="abc"', "seed"),
        ("stock=3", "stock"),  # a section, not a value
        ("stock.base_year=1900", "stock.base_year"),
        ("demand.overtraining=-1", "demand.overtraining"),
        ("stock.quality.low=3", "stock.quality"),
    ],
)
def test_nonsense_parameters_name_the_parameter(override: str, names: str) -> None:
    with pytest.raises(ParamsError, match=names.replace(".", r"\.")):
        load_params(None, [override])
    result = CliRunner().invoke(app, ["forecast", "--set", override])
    assert result.exit_code != 0 and names in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 sites over 24 months, restriction rising from 10% to 40%, with Google-Extended-only blocks among them."""
    path = tmp_path_factory.mktemp("mon") / "m.db"
    w = Writer(open_store(path))
    start = datetime(2022, 7, 10, tzinfo=UTC)
    for month in range(24):
        at = start + timedelta(days=30.44 * month)
        for i in range(30):
            blocks = i < 3 + (9 * month) // 23
            body = (
                (BODIES["google_extended_only"] if i % 2 else b"User-agent: GPTBot\nDisallow: /\n")
                if blocks
                else BODIES["open"]
            )
            w.record(f"m{i}.example", [Observation("robots", at, "ok", 200, body=body)])
    return path


@pytest.mark.slow
def test_a_report_and_the_cli_give_the_same_forecast(monthly: Path, tmp_path: Path) -> None:
    cli = CliRunner().invoke(app, ["forecast", "--format", "json", "--db", str(monthly)])
    assert cli.exit_code == 0, cli.output
    from_cli = json.loads(cli.output)
    write_report(open_store(monthly), REG, tmp_path / "r", "md")
    figures = json.loads((tmp_path / "r" / "figures.json").read_text())
    assert figures["figures"]["forecast"] == from_cli
    for key in ("provenance", "weighting", "definitions", "parameters", "figures"):
        assert key in figures
    provenance = figures["provenance"]
    for key in ("made_on", "data_through", "sample", "sources", "lists", "tracker_version", "simulated"):
        assert key in provenance
    assert provenance["data_through"] == from_cli["data_through"] == provenance["sample"]["to"]
    assert figures["parameters"] == from_cli["params"]
    assert "Google-Extended" in figures["definitions"]["restricts_training"]["agents"]
    # What the report prints is what figures.json holds.
    text = (tmp_path / "r" / "report.md").read_text()
    adjusted = from_cli["exhaustion_consent_adjusted"]
    assert runout_text(Runout(adjusted["median"], adjusted["p10"], adjusted["p90"]), horizon=2040) in text
    assert f"{figures['figures']['restricts_training']['share']:.1%}" in text
    assert figures["figures"]["restricts_training"]["share"] == pytest.approx(0.4)


@pytest.mark.slow
def test_the_forecast_shows_its_consent_adjustment(monthly: Path) -> None:
    out = forecast(open_store(monthly), REG, load_params()).as_dict()
    rs = out["restricted_share"]
    assert rs["path"][0]["median"] == pytest.approx(rs["observed"][-1]["share"], abs=1e-6)  # starts where data ends
    assert all(p["p10"] <= p["median"] <= p["p90"] for p in rs["path"])
    assert rs["description"] and rs["method"]
    held = out["exhaustion_restriction_held"]
    assert held["restricted_share"] == pytest.approx(0.4) and held["median_month"]
    adjusted, base = out["exhaustion_consent_adjusted"], out["exhaustion"]
    assert adjusted["median"] < base["median"] and held["median"] < base["median"]
    # The gap has its interval wherever a median is shown, and states its demand assumption.
    for g in out["gap"]:
        for part in ("demand_tokens", "usable_tokens", "synthetic_tokens", "synthetic_share"):
            assert g[part]["p10"] <= g[part]["median"] <= g[part]["p90"]
    assert "largest training dataset" in out["definitions"]["demand"]
    # A robots.txt-only history has no use-preference scenario, and says why.
    assert out["exhaustion_with_preferences"] is None
    assert out["preferences"]["available"] is False and "homepage" in out["preferences"]["reason"]
