"""The analysis returns records, and their JSON is the one scripts read: ``forecast``, ``claims`` and ``trends``
``--format json`` and the report's figures.json and CSVs print, byte for byte (figures.json less its clock and version), what they printed before the forecast
became a record tree (issue 19 item 1). The golden files in tests/golden/analysis_records were written by the code
before that change (commit a433abc) from the store :func:`build_store` makes; regenerate them only on a deliberate
change of the published JSON (``python tests/test_analysis_records.py``, then review the diff).

Only stable APIs are used to build the store and run the commands, so the same functions ran on the old code.
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.analysis.categories import assign
from tracker.cli import app
from tracker.rules import signals as sig
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

GOLDEN = Path(__file__).parent / "golden" / "analysis_records"
#: Every command whose output is compared, by the golden file's name.
COMMANDS = {
    "forecast.json": ["forecast", "--format", "json", "--draws", "2000"],
    "forecast-projection.json": ["forecast", "--format", "json", "--draws", "2000", "--projection", "compute"],
    "claims.json": ["claims", "--format", "json"],
    "claims.csv": ["claims", "--format", "csv"],
    "trends.json": ["trends", "--format", "json"],
    "trends-purpose.json": ["trends", "--format", "json", "--by", "purpose"],
}
REPORT_FILES = ("figures.json", "runout.csv", "gap.csv", "restriction.csv", "claims.csv", "training.csv")


def build_store(path: Path) -> Path:
    """40 sites over 24 months, restriction rising from 10% to about 45%: 24 government sites (a category with its
    own restriction curve) and 16 without a category; in the last month a homepage for each, a third of them saying
    ``noai`` (so the use-preference scenario is computed)."""
    engine = open_store(path)
    w = Writer(engine)
    start = datetime(2022, 7, 10, tzinfo=UTC)
    domains = [f"agency{i}.gov" if i < 24 else f"shop{i}.example" for i in range(40)]
    for month in range(24):
        at = start + timedelta(days=30.44 * month)
        for i, domain in enumerate(domains):
            blocks = (i * 7) % 40 < 4 + (14 * month) // 23
            body = (
                (b"User-agent: Google-Extended\nDisallow: /\n" if i % 2 else b"User-agent: GPTBot\nDisallow: /\n")
                if blocks
                else b"User-agent: *\nDisallow: /private/\n"
            )
            observations = [Observation("robots", at, "ok", 200, body=body)]
            if month == 23:
                meta = '<meta name="robots" content="noai, noimageai">' if i % 3 == 0 else ""
                page = f"<!doctype html><html><head><title>{domain}</title>{meta}</head><body>hi</body></html>"
                signals = sig.page_signals(page.encode(), {}, ["GPTBot"]).as_dict()
                observations.append(Observation("homepage", at, "ok", 200, body=page.encode(), signals=signals))
            w.record(domain, observations)
    assign(engine)
    return path


def outputs(db: Path, out_dir: Path) -> dict[str, str]:
    """What each compared command prints, and the report's files (figures.json without its clock), by name."""
    runner = CliRunner()
    got: dict[str, str] = {}
    for name, args in COMMANDS.items():
        result = runner.invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 0, (name, result.output)
        got[name] = result.stdout
    report = runner.invoke(app, ["report", "--format", "csv", "--db", str(db), "--out", str(out_dir)])
    assert report.exit_code == 0, report.output
    for name in REPORT_FILES:
        text = (out_dir / name).read_text(encoding="utf-8")
        if name == "figures.json":
            figures = json.loads(text)
            figures["provenance"].pop("made_on")  # the clock
            figures["provenance"].pop("tracker_version")  # moves with every release
            text = json.dumps(figures, indent=1, ensure_ascii=False) + "\n"
        got[f"report-{name}"] = text
    return got


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("records") / "r.db")


@pytest.fixture(scope="module")
def printed(store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return outputs(store, tmp_path_factory.mktemp("report"))


@pytest.mark.slow
@pytest.mark.parametrize("name", [*COMMANDS, *(f"report-{n}" for n in REPORT_FILES)])
def test_the_published_json_is_what_it_was(printed: dict[str, str], name: str) -> None:
    assert printed[name] == (GOLDEN / name).read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_store_exercises_every_part_of_the_forecast(printed: dict[str, str]) -> None:
    """The golden forecast is not a trivial one: measured, with categories and the use-preference scenario."""
    f = json.loads(printed["forecast.json"])
    assert f["sample"]["measured"] and f["restricted_share"]["backtest"] is not None
    assert f["preferences"]["available"] and f["exhaustion_with_preferences"] is not None
    assert 0 < f["preferences"]["share"] < 1
    assert {c["category"] for c in f["categories"]} == {"government", "unknown"}
    assert [c["restriction"] for c in f["categories"]].count("own curve") == 1


@pytest.mark.slow
def test_forecast_is_a_record_tree_read_by_attribute(store: Path) -> None:
    from tracker.analysis.forecast import forecast, load_params
    from tracker.records.forecast import Forecast, HeldRunout, PreferencesRunout, Runout
    from tracker.rules.agents import load_registry

    f = forecast(open_store(store), load_registry(), load_params(overrides=["draws=2000"]))
    assert isinstance(f, Forecast)
    held = f.exhaustion_restriction_held
    assert isinstance(held, HeldRunout) and isinstance(f.exhaustion_with_preferences, PreferencesRunout)
    assert f.restricted_share is not None and held.restricted_share == f.restricted_share.observed[-1].share
    assert list(f.runouts()) == [
        "exhaustion",
        "exhaustion_consent_adjusted",
        "exhaustion_restriction_held",
        "exhaustion_with_preferences",
    ]
    assert f.definitions.restricted == f.restricted_share.definition
    assert f.sample.agents is not None and "GPTBot" in f.sample.agents
    # Frozen: a face cannot change the figures another face shows.
    with pytest.raises(AttributeError):
        f.data_through = "2030-01-31"  # type: ignore[misc]
    # Streamlit's cache pickles what it keeps: the record survives the round trip whole.
    again = pickle.loads(pickle.dumps(f))
    assert again == f and json.dumps(again.as_dict()) == json.dumps(f.as_dict())
    # A run-out's months come from its decimal years; what was not reached is None, never a month.
    late = Runout(2031.99, 2030.0, None)
    assert late.as_dict() == {
        "median": 2031.99,
        "p10": 2030.0,
        "p90": None,
        "median_month": "2031-12",
        "p10_month": "2030-01",
        "p90_month": None,
    }


@pytest.mark.slow
def test_an_unmeasured_forecast_says_so_with_none(tmp_path: Path) -> None:
    from tracker.analysis.forecast import forecast, load_params
    from tracker.rules.agents import load_registry

    f = forecast(open_store(tmp_path / "e.db"), load_registry(), load_params(overrides=["draws=500"]))
    assert f.data_through is None and f.restricted_share is None and f.preferences is None
    assert f.exhaustion_consent_adjusted is None and f.definitions.restricted is None
    assert f.sample.as_dict() == {"measured": False, "note": f.sample.note} and f.sample.months is None
    assert list(f.runouts()) == ["exhaustion"]


@pytest.mark.slow
def test_claims_rows_are_records(store: Path, tmp_path: Path) -> None:
    from dataclasses import fields

    from tracker.analysis.claims import ComparisonRow, compare, load_claims
    from tracker.rules.agents import load_registry

    claims = [c for c in load_claims() if c.recipe.metric.value != "runout"]
    rows = [c.as_row() for c in compare(open_store(store), load_registry(), claims)]
    assert rows and all(isinstance(r, ComparisonRow) for r in rows)
    assert list(rows[0].as_dict()) == [f.name for f in fields(ComparisonRow)]


@pytest.mark.parametrize("module", ["forecast", "trends"])
def test_the_records_are_a_low_layer(module: str) -> None:
    """A record module imports the standard library, the vocabulary, the errors and other records — never the
    analysis that computes it nor a face that shows it."""
    import ast

    import tracker.records

    path = Path(tracker.records.__path__[0]) / f"{module}.py"
    imported = {
        n.module or "" for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ImportFrom)
    } | {
        a.name
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(n, ast.Import)
        for a in n.names
    }
    ours = {m for m in imported if m.split(".")[0] == "tracker"}
    assert ours, "no tracker import found: the scan is broken"
    assert all(m.startswith(("tracker.records", "tracker.records.vocabulary", "tracker.errors")) for m in ours), ours


if __name__ == "__main__":  # write the golden files (review the diff before committing it)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        got = outputs(build_store(Path(tmp) / "r.db"), Path(tmp) / "report")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, text in got.items():
        (GOLDEN / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(got)} files to {GOLDEN}")
