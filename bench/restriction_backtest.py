"""Benchmark: the restriction forecast against simple baselines, by a rolling-origin backtest (issue 17).

For every series and every origin with ≥ 12 months behind it: fit on the history up to the origin, forecast 3, 6
and 12 months ahead, compare with what followed. Mean absolute error in points of share, and for the methods with
a band, how often the 10–90% band held what followed (80% when calibrated). Methods:

- ``combination``       tracker.analysis.forecast.restriction (the method of issue 17)
- ``pre-issue-17``      bench/_legacy_restriction.py, the logistic-or-linear fit it replaced (median path;
                        --legacy-bootstrap refits, 30 by default instead of its 200, to keep the bench under 4
                        minutes on 2 cores; with 200 (6 minutes) its figures move by at most 0.04 points and 1%
                        of coverage)
- ``last value``, ``drift`` (the line from the first observation to the last, carried on)
- ``damped ETS``        statsmodels ETSModel, additive damped trend
- ``auto-ARIMA``        statsmodels ARIMA(p,1,q) with drift, p, q ∈ 0…2, the lowest AICc

Series: the corpus history (../shared/corpus/history, imported into a temporary SQLite copy) — the ``training``
purpose group and ten agents — and seeded simulated series of every shape in
tracker.analysis.forecast.restriction.SHAPES.

    uv run python bench/restriction_backtest.py [--per-shape 3] [--seed 2024] [--jobs 2] [--db /tmp/ct/corpus.db]
    uv run python bench/restriction_backtest.py --calibrate   # the CALIBRATION table of restriction.py

``--db`` names an already imported copy of the corpus history; it is copied to a temporary folder, never written.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one process per core, not a BLAS pool per process

import argparse  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tracker.analysis.forecast import restriction as rf  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "history"
AGENTS = (
    "GPTBot",
    "CCBot",
    "Google-Extended",
    "ClaudeBot",
    "anthropic-ai",
    "ChatGPT-User",
    "Bytespider",
    "PerplexityBot",
    "Amazonbot",
    "omgili",
)
HS = rf.HORIZONS
LONGEST = max(HS)
METHODS = ("pre-issue-17", "combination", "last value", "drift", "damped ETS", "auto-ARIMA")
BANDED = ("pre-issue-17", "combination")
CALIBRATION_SEED, CALIBRATION_PER_SHAPE = 17, 25

Series = tuple[str, str, np.ndarray, np.ndarray]  # name, group ("real" or "sim:<shape>"), t, r


def real_series(db: Path | None) -> list[Series]:
    """The training purpose group and ten agents from the corpus history (empty when the corpus is absent)."""
    from tracker.analysis.forecast.model import decimal_year
    from tracker.analysis.trends import restriction_series
    from tracker.pipeline.archive_import import import_archive
    from tracker.records.vocabulary import GroupBy
    from tracker.rules.agents import load_registry
    from tracker.store import open_store

    if db is None and not CORPUS.is_dir():
        return []
    from datetime import date

    tmp = Path(tempfile.mkdtemp(prefix="restriction-backtest-"))
    try:
        copy = tmp / "corpus.db"
        if db is not None:
            shutil.copyfile(db, copy)
            engine = open_store(copy)
        else:
            engine = open_store(copy)
            import_archive(engine, CORPUS)
        registry = load_registry()
        out: list[Series] = []
        training = [a.token for a in registry.select(purpose="training")]
        wanted = [("training", training, GroupBy.purpose)] + [(a, [a], GroupBy.agent) for a in AGENTS]
        for name, agents, by in wanted:
            rows = [row for row in restriction_series(engine, registry, agents, by=by) if row.agent == name]
            if len(rows) >= rf.MIN_HISTORY + min(HS):
                t = np.array([decimal_year(date.fromisoformat(row.period_end)) for row in rows])
                out.append((name, "real", t, np.array([row.blocked_share for row in rows])))
        engine.dispose()
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def simulated_series(seed: int, per_shape: int) -> list[Series]:
    """``per_shape`` seeded series of every shape."""
    rng = np.random.default_rng(seed)
    return [(f"{s}#{k}", f"sim:{s}", *rf.simulate(s, rng)) for s in rf.SHAPES for k in range(per_shape)]


def ets(y: np.ndarray, h: int) -> np.ndarray:
    """statsmodels' damped-trend ETS (additive errors and trend)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ETSModel(y, trend="add", damped_trend=True).fit(disp=False).forecast(h))


def auto_arima(y: np.ndarray, h: int) -> np.ndarray:
    """statsmodels ARIMA(p,1,q) with drift, p, q ∈ 0…2, the lowest AICc (the drift alone if none fits)."""
    from statsmodels.tsa.arima.model import ARIMA

    best, forecast = np.inf, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in range(3):
            for q in range(3):
                try:
                    res = ARIMA(y, order=(p, 1, q), trend="t").fit()
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(res.aicc) and res.aicc < best:
                    best, forecast = res.aicc, np.asarray(res.forecast(h))
    return forecast if forecast is not None else rf.baselines(y, h)["drift"]


def score(args: tuple[Series, int]) -> list[tuple[str, str, int, float, float | None]]:
    """Every origin of one series: (group, method, horizon, absolute error, inside the band or None)."""
    import _legacy_restriction as legacy

    (_, group, t, r), legacy_bootstrap = args
    out: list[tuple[str, str, int, float, float | None]] = []
    for k in range(rf.MIN_HISTORY, len(r) - min(HS) + 1):
        hist_t, hist_r = t[:k], r[:k]
        h_max = min(LONGEST, len(r) - k)
        ahead = [h for h in HS if h <= h_max]
        targets = np.array([t[k - 1 + h] for h in ahead])
        old = legacy.forecast_restriction(list(hist_t), list(hist_r), targets, bootstrap=legacy_bootstrap).bands(
            (0.1, 0.5, 0.9)
        )
        new = rf.forecast_restriction(hist_t, hist_r, targets, evaluate=False).bands((0.1, 0.5, 0.9))
        simple = rf.baselines(hist_r, h_max)
        point = {
            "last value": simple["last_value"],
            "drift": simple["drift"],
            "damped ETS": ets(hist_r, h_max),
            "auto-ARIMA": auto_arima(hist_r, h_max),
        }
        for i, h in enumerate(ahead):
            actual = r[k - 1 + h]
            for name, band in (("pre-issue-17", old), ("combination", new)):
                out.append((group, name, h, abs(band[1, i] - actual), float(band[0, i] <= actual <= band[2, i])))
            for name, f in point.items():
                out.append((group, name, h, abs(float(np.clip(f[h - 1], 0, 1)) - actual), None))
    return out


def table(rows: list[tuple[str, str, int, float, float | None]], label: str, keep: object) -> None:
    """Print MAE (points) per horizon and the 80% band's coverage for the rows whose group ``keep`` accepts."""
    sel = [row for row in rows if keep(row[0])]  # type: ignore[operator]
    if not sel:
        return
    series_origins = {h: sum(1 for row in sel if row[1] == "last value" and row[2] == h) for h in HS}
    print(f"\n{label} — forecasts scored: " + ", ".join(f"{series_origins[h]} at {h} months" for h in HS))
    print(f"| method | {' | '.join(f'{h} months' for h in HS)} | 10–90% band coverage ({'/'.join(map(str, HS))}) |")
    print("| --- |" + " --- |" * (len(HS) + 1))
    best = {h: min(np.mean([row[3] for row in sel if row[1] == m and row[2] == h]) for m in METHODS[2:]) for h in HS}
    for m in METHODS:
        maes = [100 * float(np.mean([row[3] for row in sel if row[1] == m and row[2] == h])) for h in HS]
        cells = " | ".join(f"{v:.2f}" for v in maes)
        cover = ""
        if m in BANDED:
            cover = " / ".join(f"{np.mean([row[4] for row in sel if row[1] == m and row[2] == h]):.0%}" for h in HS)
            total = np.mean([row[4] for row in sel if row[1] == m])
            cover = f"{total:.0%} ({cover})"
        print(f"| {m} | {cells} | {cover} |")
    ours = [float(np.mean([row[3] for row in sel if row[1] == "combination" and row[2] == h])) for h in HS]
    verdict = all(o <= best[h] for o, h in zip(ours, HS, strict=True))
    ratio = " / ".join(f"{o / best[h]:.2f}" for o, h in zip(ours, HS, strict=True))
    print(f"combination ÷ best baseline: {ratio} ({'no worse at every horizon' if verdict else 'WORSE somewhere'})")


def calibrate() -> None:
    """Print the CALIBRATION table: quantiles of the combination's h-month errors over seeded simulated series."""
    errors: dict[int, list[float]] = {h: [] for h in range(1, rf.CALIBRATED + 1)}
    for _, _, _, r in simulated_series(CALIBRATION_SEED, CALIBRATION_PER_SHAPE):
        for k in range(rf.MIN_HISTORY, len(r) - 1):
            f = rf.combination(r[:k], rf.CALIBRATED)
            for h in errors:
                if k - 1 + h < len(r):
                    errors[h].append(float(r[k - 1 + h] - f[h - 1]))
    print(
        f"# {sum(map(len, errors.values()))} errors from {CALIBRATION_PER_SHAPE} series × {len(rf.SHAPES)} shapes, "
        f"seed {CALIBRATION_SEED}"
    )
    print("CALIBRATION: tuple[tuple[float, ...], ...] = (")
    for h, e in errors.items():
        q = np.quantile(e, rf.LEVELS)
        print(f"    # {h} month{'s' if h > 1 else ''} ahead: {len(e)} errors")
        print("    (" + ", ".join(f"{100 * v:.2f}" for v in q) + "),")
    print(")")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-shape", type=int, default=3, help="simulated series of each shape")
    ap.add_argument("--seed", type=int, default=2024, help="of the simulated series (calibration used 17)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--legacy-bootstrap", type=int, default=30, help="refits of the pre-issue-17 method (its own: 200)")
    ap.add_argument(
        "--db", type=Path, default=None, help="an imported copy of the corpus history (copied, not written)"
    )
    ap.add_argument("--calibrate", action="store_true", help="print restriction.py's CALIBRATION table and stop")
    a = ap.parse_args()
    if a.calibrate:
        calibrate()
        return
    started = time.perf_counter()
    real = real_series(a.db)
    if not real:
        print(f"the corpus history is absent ({CORPUS}): real series skipped, simulated ones only")
    sims = simulated_series(a.seed, a.per_shape)
    series = real + sims
    print(
        f"{len(real)} real series, {len(sims)} simulated ({a.per_shape} per shape, seed {a.seed}); "
        f"pre-issue-17 with {a.legacy_bootstrap} bootstrap refits; {a.jobs} processes"
    )
    with ProcessPoolExecutor(a.jobs) as pool:
        rows = [row for part in pool.map(score, [(s, a.legacy_bootstrap) for s in series]) for row in part]
    table(rows, "Real series (corpus history: training group and ten agents)", lambda g: g == "real")
    table(rows, "Simulated series (every shape)", lambda g: g.startswith("sim:"))
    table(rows, "Pooled", lambda g: True)
    print("\nPer shape, MAE in points at 3/6/12 months (combination | best baseline) and the combination's coverage:")
    for shape in rf.SHAPES:
        sel = [row for row in rows if row[0] == f"sim:{shape}"]
        ours = [100 * np.mean([row[3] for row in sel if row[1] == "combination" and row[2] == h]) for h in HS]
        base = [
            100 * min(np.mean([row[3] for row in sel if row[1] == m and row[2] == h]) for m in METHODS[2:]) for h in HS
        ]
        cover = np.mean([row[4] for row in sel if row[1] == "combination"])
        print(
            f"  {shape:<14} {' '.join(f'{v:5.2f}' for v in ours)} | {' '.join(f'{v:5.2f}' for v in base)}"
            f"   coverage {cover:.0%}"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
