"""The forecast: Epoch AI's published result reproduced, properties a right model must have, the consent
adjustment on measured series, a backtest on the corpus history, and the public JSON interface."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis.forecast import (
    ForecastParams,
    backtest,
    draw,
    exhaustion,
    forecast,
    load_params,
    measured_restriction,
)
from tracker.analysis.forecast.params import Interval, ParamsError
from tracker.analysis.forecast.stock import quantiles
from tracker.cli import app
from tracker.pipeline.archive_import import import_archive
from tracker.rules.agents import load_registry
from tracker.store import open_store

REG = load_registry()


@pytest.fixture(scope="module")
def published() -> dict[str, object]:
    params = ForecastParams()  # 100,000 draws, the published defaults
    d = draw(params)
    return {"draws": d, "exhaustion": exhaustion(d), "stock": quantiles(d.stock[:, 0])}


def test_reproduces_the_published_stock(published: dict) -> None:
    p5, median, p95 = published["stock"]
    # Villalobos et al. 2024: ≈ 3e14 tokens, 90% ≈ 1e14–1e15
    assert 2.7e14 <= median <= 3.7e14
    assert 0.6e14 <= p5 <= 1.3e14 and 0.8e15 <= p95 <= 1.6e15


def test_reproduces_the_published_run_out_of_the_historical_trend(published: dict) -> None:
    e = published["exhaustion"]
    # forecast.md §2: the historical trend alone gives a median of ≈ 2029 (80%: 2027.4–2031.2)
    assert abs(e.median - 2029.0) <= 0.3 and abs(e.p10 - 2027.4) <= 0.3 and abs(e.p90 - 2031.2) <= 0.4


def test_overtraining_five_times_brings_it_to_2027() -> None:
    e = exhaustion(draw(load_params(overrides=["demand.overtraining=5", "draws=40000"])))
    assert abs(e.median - 2027.0) <= 0.4


def test_a_wrong_model_cannot_meet_the_tolerance() -> None:
    # Forgetting repetition (multi-epoch training) or the quality filter moves the stock far outside the band.
    no_repetition = ForecastParams(draws=20000, stock=replace(ForecastParams().stock, repetition=Interval(1, 1.0001)))
    assert quantiles(draw(no_repetition).stock[:, 0])[1] < 1.5e14
    e = exhaustion(draw(no_repetition))
    assert e.median is not None and e.median < 2028.5


def test_same_seed_same_answer_other_seed_close() -> None:
    a = forecast(None, None, load_params(overrides=["draws=5000", "seed=7"]))
    b = forecast(None, None, load_params(overrides=["draws=5000", "seed=7"]))
    c = forecast(None, None, load_params(overrides=["draws=5000", "seed=8"]))
    assert a == b and json.dumps(a.as_dict()) == json.dumps(b.as_dict())
    assert a.exhaustion != c.exhaustion and a.exhaustion.median is not None and c.exhaustion.median is not None
    assert abs(a.exhaustion.median - c.exhaustion.median) < 0.2


def _median(e: object) -> float:
    m = e.median  # type: ignore[attr-defined]
    return float("inf") if m is None else m


@settings(max_examples=25, deadline=None)
@given(r1=st.floats(0, 0.95), r2=st.floats(0, 0.95))
@pytest.mark.slow
def test_more_restriction_never_delays_run_out(r1: float, r2: float) -> None:
    d = draw(ForecastParams(draws=3000, seed=3))
    lo, hi = sorted((r1, r2))
    assert _median(exhaustion(d, d.stock * (1 - hi))) <= _median(exhaustion(d, d.stock * (1 - lo)))
    assert exhaustion(d, d.stock * (1 - hi)).probability.min() >= 0
    assert np.all(exhaustion(d, d.stock * (1 - hi)).probability >= exhaustion(d, d.stock * (1 - lo)).probability)


@settings(max_examples=20, deadline=None)
@given(factor=st.floats(1.0, 10.0))
def test_a_larger_stock_never_advances_run_out(factor: float) -> None:
    base = ForecastParams(draws=3000, seed=5)
    q = base.stock.pages  # (quality is a share, bounded by 1: the indexed web is what may grow)
    bigger = replace(base, stock=replace(base.stock, pages=Interval(q.low * factor, q.high * factor, q.c)))
    assert _median(exhaustion(draw(bigger))) >= _median(exhaustion(draw(base)))


def test_params_files_and_overrides(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('draws = 1000\n[stock]\nquality = [0.2, 0.3]\n[demand]\nprojection = "pooled"\n')
    p = load_params(f, ['consent.purpose="search"', "demand.overtraining=2"])
    assert p.draws == 1000 and p.stock.quality == Interval(0.2, 0.3) and p.demand.projection == "pooled"
    assert p.consent.purpose == "search" and p.demand.overtraining == 2.0
    for bad in (["stock.nope=1"], ['demand.projection="magic"'], ["stock.quality=[3, 1]"], ["nonsense"]):
        with pytest.raises(ParamsError):
            load_params(None, bad)
    assert p.as_dict()["stock"]["quality"] == [0.2, 0.3, 90.0]


def test_empty_database_answers_the_unadjusted_model(tmp_path: Path) -> None:
    out = forecast(open_store(tmp_path / "e.db"), REG, load_params(overrides=["draws=2000"])).as_dict()
    assert out["exhaustion"]["median"] is not None and out["exhaustion_consent_adjusted"] is None
    assert out["sample"]["measured"] is False and "no measurements yet" in out["sample"]["note"]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> object:
    if not corpus_path("history").is_dir():
        pytest.skip("the shared corpus is absent")
    engine = open_store(tmp_path_factory.mktemp("h") / "h.db")
    import_archive(engine, corpus_path("history"))
    return engine


@needs_corpus
@pytest.mark.slow
def test_backtest_on_the_corpus_history(history: object) -> None:
    params = ForecastParams()
    m = measured_restriction(history, REG, params)  # type: ignore[arg-type]
    assert m.rows[0].period == "2022-07" and m.rows[-1].period == "2024-07"
    bt = backtest(m.t, m.r)  # every origin from 2023-06 (12 months behind it), forecast 3, 6 and 12 months ahead
    assert bt is not None
    for s in bt.horizons:
        print(
            f"backtest {s.months} months ahead, {s.origins} origins: off by {s.mae:.4f} on average (last value "
            f"{s.mae_last_value:.4f}, drift {s.mae_drift:.4f}, damped trend {s.mae_damped_trend:.4f}); "
            f"band held {s.coverage:.0%}"
        )
    assert [(s.months, s.origins) for s in bt.horizons] == [(3, 11), (6, 8), (12, 2)]  # 25 months, to 2024-07
    three, six = bt.at(3), bt.at(6)
    assert three is not None and six is not None
    assert three.mae <= min(three.mae_last_value, three.mae_drift, three.mae_damped_trend) and three.mae < 0.04
    assert six.mae <= six.mae_last_value


@needs_corpus
@pytest.mark.slow
def test_consent_adjustment_uses_the_measured_series(history: object) -> None:
    out = forecast(history, REG, load_params(overrides=["draws=20000"])).as_dict()  # type: ignore[arg-type]
    s = out["sample"]
    assert s["measured"] and s["from"] == "2022-07-31" and s["to"] == "2024-07-14" and s["sites"] > 800
    assert "GPTBot" in s["agents"] and s["weighting"] == "sites" and s["purpose"] == "training"
    observed = out["restricted_share"]["observed"]
    assert observed[-1]["share"] > observed[0]["share"]  # restriction rose over the two years
    assert all(abs(o["named"] + o["inherited"] - o["share"]) < 1e-6 for o in observed)
    assert out["exhaustion_consent_adjusted"]["median"] < out["exhaustion"]["median"]
    gap = {g["year"]: g for g in out["gap"]}
    assert gap[2024]["synthetic_tokens"]["median"] == 0 and gap[2032]["synthetic_share"]["median"] > 0.5


def test_cli_json_is_the_public_interface(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["forecast", "--format", "json", "--draws", "3000", "--db", str(_empty_db(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    for key in (
        "exhaustion",
        "exhaustion_consent_adjusted",
        "stock_tokens",
        "restricted_share",
        "gap",
        "params",
        "sample",
    ):
        assert key in out
    assert set(out["exhaustion"]) == {"median", "p10", "p90", "median_month", "p10_month", "p90_month"}
    assert set(out["stock_tokens"]) >= {"median", "p5", "p95"}
    assert out["params"]["draws"] == 3000
    table = CliRunner().invoke(app, ["forecast", "--draws", "3000", "--db", str(tmp_path / "e.db")])
    assert table.exit_code == 0 and "no measurements yet" in table.output and "Epoch AI's model" in table.output


def _empty_db(tmp_path: Path) -> Path:
    open_store(tmp_path / "e.db")
    return tmp_path / "e.db"


@needs_corpus
@pytest.mark.slow
def test_restriction_of_one_agent_or_company_is_the_trend_figure(history: object) -> None:
    from tracker.analysis.trends import restriction_series

    gpt = measured_restriction(
        history,
        REG,
        load_params(
            overrides=[
                'consent.group_by="agent"',  # type: ignore[arg-type]
                'consent.group="GPTBot"',
            ]
        ),
    )
    trend = restriction_series(history, REG, ["GPTBot"])  # type: ignore[arg-type]
    assert [r.blocked_share for r in gpt.rows] == [r.blocked_share for r in trend]
    openai = measured_restriction(
        history,
        REG,
        load_params(
            overrides=[
                'consent.group_by="company"',  # type: ignore[arg-type]
                'consent.group="OpenAI"',
            ]
        ),
    )
    assert set(openai.agents) >= {"GPTBot", "ChatGPT-User"} and openai.r[-1] >= gpt.r[-1]
    with pytest.raises(ParamsError, match="names the company"):
        load_params(overrides=['consent.group_by="company"'])
