"""``publish``: a dated release of the database as files. On the small store of tests/records_store.py (with a
tracked list, category labels and token weights added) and, marked corpus + slow, on the imported corpus history:
Frictionless validates the package, DuckDB and pandas load every table with the schema's types, the trends table's
GPTBot rows are what ``trends -a GPTBot --format json`` prints, the per-site tables add up to the trends, the same
database gives the same bytes, and the bad inputs are one-line errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tests.records_store import BLOCK, OPEN, SIGNALLED, build
from tracker.cli import app
from tracker.store import catalog, open_store, queries

runner = CliRunner()
TABLES = ("sites", "trends", "agent_states", "signals", "change_events")
#: Frictionless type → (DuckDB type, pandas dtype kind) of the Parquet column.
TYPES = {
    "string": ("VARCHAR", "O"),
    "integer": ("BIGINT", "if"),  # pandas: int64, or float64 where the column has nulls
    "number": ("DOUBLE", "f"),
    "boolean": ("BOOLEAN", "bO"),  # pandas: bool, or object where the column has nulls
    "date": ("DATE", "O"),
    "datetime": ("TIMESTAMP WITH TIME ZONE", "M"),
}

#: Frictionless leaves the gzip files it validated open (its own leak, reported when they are collected:
#: ``_validate`` collects them within the test, whose mark ignores the report).
FRICTIONLESS_LEAK = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _validate(package: Path, **options: Any) -> list[Any]:
    """Frictionless's errors for a package (none: valid), its open files collected before returning."""
    import gc

    from frictionless import validate

    report = validate(str(package), **options)
    errors = [] if report.valid else report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    del report
    gc.collect()
    return errors


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _publish(db: str, out: Path, *args: str) -> Any:
    result = _cli("publish", "--db", db, "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The records store, with a panel (a.test, c.test), a user's category for a.test and stored token weights."""
    from tracker.analysis.categories import assign

    db = build(tmp_path_factory.mktemp("store") / "s.db")
    engine = open_store(db)
    ids = {s.domain: s.id for s in queries.sites_for_weights(engine)}
    panel = catalog.upsert_list(engine, "panel", "panel", source="panel.csv", list_id=None, list_date=None)
    catalog.set_members(engine, panel, {ids["a.test"]: 1, ids["c.test"]: 2}, replace=True)
    quiet = catalog.upsert_list(engine, "quiet", "panel", source="quiet.csv", list_id=None, list_date=None)
    catalog.set_members(engine, quiet, {ids["c.test"]: None}, replace=True)  # a site without change events
    catalog.set_labels(engine, "user", {ids["a.test"]: ("news", None)})
    assign(engine, homepages=False)
    catalog.set_weights(
        engine, "c4_tokens", {ids["a.test"]: (1000.0, True, "w.csv"), ids["b.test"]: (10.0, False, "rank")}
    )
    engine.dispose()
    return db


@pytest.fixture(scope="module")
def release(store: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "r"
    _publish(store, out, "--with-bodies")
    return out


def _package(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def _fields(folder: Path, table: str) -> list[dict[str, Any]]:
    return next(r for r in _package(folder)["resources"] if r["name"] == table)["schema"]["fields"]


def _parquet(folder: Path, table: str) -> Any:
    import pandas as pd

    return pd.read_parquet(folder / f"{table}.parquet")


# -- the files --------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_release_has_every_table_twice_and_checksums(release: Path) -> None:
    names = sorted(p.name for p in release.iterdir())
    expected = {f"{t}.{ext}" for t in (*TABLES, "robots_txt") for ext in ("parquet", "csv.gz")}
    assert set(names) == expected | {"forecast.json", "datapackage.json", "README.md", "SHA256SUMS"}
    sums = dict(line.split("  ")[::-1] for line in (release / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == [n for n in names if n != "SHA256SUMS"]
    for name, digest in sums.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name
    readme = (release / "README.md").read_text()
    assert "data through 2025-04-10" in readme.lower() or "through 2025-04-10" in readme
    assert sums["agent_states.parquet"] in readme  # the README's file table gives each file's checksum


@pytest.mark.slow
@FRICTIONLESS_LEAK
def test_frictionless_validates_the_package(release: Path) -> None:
    errors = _validate(release / "datapackage.json")
    assert not errors, errors[:10]


@pytest.mark.slow
def test_the_package_says_what_and_whence(release: Path, store: str) -> None:
    from tracker import __version__
    from tracker.analysis.trends import DEFINITIONS

    package = _package(release)
    meta = package["consent_tracker"]
    assert meta["version"] == __version__
    assert meta["data_through"] == "2025-04-10" and meta["data_from"] == "2025-03"
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert any("live" in s["title"] for s in package["sources"]) and any(
        "archive" in s["title"] for s in package["sources"]
    )
    trends = next(r for r in package["resources"] if r["name"] == "trends")
    assert DEFINITIONS in trends["description"]
    gptbot = trends["definitions"]["agent:GPTBot:sites"]
    assert gptbot["agents"] == ["GPTBot"] and "fetch '/'" in gptbot["text"]
    assert "purpose:training:sites" in trends["definitions"]
    assert any(k.endswith("(stored)") for k in trends["definitions"])  # the token-weighted series too
    forecast = json.loads((release / "forecast.json").read_text())
    cli = _cli("forecast", "--db", store, "--format", "json")
    assert cli.exit_code == 0 and json.loads(cli.stdout) == forecast
    assert (release / "forecast.json").read_text() == cli.stdout


@pytest.mark.slow
def test_duckdb_and_pandas_load_every_table_with_the_schemas_types(release: Path) -> None:
    import duckdb
    import pandas as pd

    package = _package(release)
    tables = [r for r in package["resources"] if "parquet" in r]
    assert [r["name"] for r in tables] == [*TABLES, "robots_txt"]
    for r in tables:
        fields = r["schema"]["fields"]
        parquet = release / r["parquet"]["path"]
        assert r["parquet"]["hash"] == "sha256:" + hashlib.sha256(parquet.read_bytes()).hexdigest()
        for path in (parquet, release / r["path"]):
            relation = duckdb.sql(f"SELECT * FROM '{path}'") if path.suffix == ".parquet" else None
            if relation is not None:
                described = duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
                assert [(name, kind) for name, kind, *_ in described] == [
                    (f["name"], TYPES[f["type"]][0]) for f in fields
                ]
        frame = pd.read_parquet(parquet)
        assert list(frame.columns) == [f["name"] for f in fields]
        for f in fields:
            assert frame[f["name"]].dtype.kind in TYPES[f["type"]][1], (r["name"], f["name"], frame[f["name"]].dtype)
        assert len(frame) == r["rows"]
        # the CSV twin holds as many rows, and DuckDB reads it with the schema's types when told them
        columns = ", ".join(f"'{f['name']}': '{TYPES[f['type']][0]}'" for f in fields)
        twin = duckdb.sql(
            f"SELECT count(*) FROM read_csv('{release / r['path']}', header=true, columns={{{columns}}}, "
            "timestampformat='%Y-%m-%dT%H:%M:%SZ')"
        )
        assert twin.fetchall() == [(len(frame),)]
    assert package["consent_tracker"]["with_bodies"] is True


@pytest.mark.slow
def test_the_csv_twin_equals_the_parquet(release: Path) -> None:
    import pandas as pd

    for table in (*TABLES, "robots_txt"):
        parquet = pd.read_parquet(release / f"{table}.parquet")
        fields = {
            f["name"]: f["type"]
            for f in next(r for r in _package(release)["resources"] if r["name"] == table)["schema"]["fields"]
        }
        csv = pd.read_csv(release / f"{table}.csv.gz", keep_default_na=False, dtype=str)
        assert list(csv.columns) == list(parquet.columns)
        for name, kind in fields.items():
            for a, b in zip(parquet[name], csv[name], strict=True):
                if a is None or (not isinstance(a, str) and pd.isna(a)):
                    assert b == "", (table, name)
                elif kind == "boolean":
                    assert b == str(bool(a)).lower()
                elif kind == "datetime":
                    assert b == a.strftime("%Y-%m-%dT%H:%M:%SZ")
                elif kind in ("integer", "number"):
                    assert float(b) == pytest.approx(float(a))
                else:
                    assert b == str(a), (table, name)


# -- the same figures as the other faces --------------------------------------------------------------------------------
def _trend_rows(release: Path, agent: str) -> list[dict[str, Any]]:
    frame = _parquet(release, "trends")
    own = frame[(frame.group_by == "agent") & (frame.agent == agent) & (frame.weighting == "sites")]
    rows = own.drop(columns=["group_by"]).to_dict("records")
    for r in rows:
        r["period_end"] = r["period_end"].isoformat()
    return rows


@pytest.mark.slow
def test_the_trends_gptbot_rows_are_what_trends_prints(release: Path, store: str) -> None:
    cli = _cli("trends", "--db", store, "-a", "GPTBot", "--format", "json")
    assert cli.exit_code == 0, cli.output
    printed = json.loads(cli.stdout)["rows"]
    assert printed and _trend_rows(release, "GPTBot") == printed
    frame = _parquet(release, "trends")
    assert set(frame.group_by) == {"agent", "company", "purpose"}
    assert {"training", "search"} <= set(frame[frame.group_by == "purpose"].agent)
    assert "OpenAI" in set(frame[frame.group_by == "company"].agent)
    assert frame.weighting.nunique() == 2  # sites, and the stored token weights
    from tracker.rules.agents import load_registry

    assert set(frame[frame.group_by == "agent"].agent) == {a.token for a in load_registry()}


@pytest.mark.slow
def test_agent_states_and_signals_add_up_to_the_trends(release: Path, store: str) -> None:
    states = _parquet(release, "agent_states")
    trends = _parquet(release, "trends")
    for agent in ("GPTBot", "CCBot", "ClaudeBot"):
        series = trends[(trends.group_by == "agent") & (trends.agent == agent) & (trends.weighting == "sites")]
        mine = states[states.agent == agent]
        blocked = Counter(mine[mine.blocked.fillna(False).astype(bool)].month)
        named = Counter(mine[mine.blocked.fillna(False).astype(bool) & mine.named.fillna(False).astype(bool)].month)
        assert {r.period: (r.sites, r.blocked, r.blocked_named) for r in series.itertuples()} == {
            m: (n, blocked[m], named[m]) for m, n in Counter(mine.month).items()
        }
    # a.test blocks GPTBot by name in March; its '*' group restricts it partly (inherited) before that
    a = states[(states.domain == "a.test") & (states.agent == "GPTBot")].set_index("month")
    assert a.loc["2025-03"].stance in ("full_block", "unreachable", "partial_block")
    signals = _parquet(release, "signals")
    cli = _cli("trends", "--db", store, "--signal", "content_signal", "--signal", "noai", "--format", "json")
    for row in json.loads(cli.stdout)["rows"]:
        mine = signals[(signals.signal == row["signal"]) & (signals.month == row["period"])]
        assert (len(mine), int(mine.adopted.sum())) == (row["sites"], row["adopting"]), row
    assert set(signals[signals.signal == "noai"].source) == {"homepage"}


@pytest.mark.slow
def test_sites_change_events_and_bodies(release: Path) -> None:
    import pandas as pd

    sites = _parquet(release, "sites").set_index("domain")
    assert list(sites.index) == ["a.test", "b.test", "c.test"]
    assert sites.loc["a.test"].lists == "panel" and sites.loc["a.test"].list_rank == 1
    assert sites.loc["a.test"].category == "news" and sites.loc["a.test"].category_source == "user"
    assert pd.isna(sites.loc["b.test"].lists) and pd.isna(sites.loc["b.test"].category_source)
    events = _parquet(release, "change_events")
    gpt = events[(events.agent == "GPTBot") & (events.domain == "a.test")]
    assert gpt.iloc[0].before == "partial_block via *" and gpt.iloc[0].after == "full_block"
    assert gpt.iloc[0].change == "restriction" and str(gpt.iloc[0]["at"].tz) == "UTC"
    assert list(events.domain) == sorted(events.domain)
    bodies = _parquet(release, "robots_txt")
    assert bodies.text.map(type).eq(str).all()
    texts = set(bodies.text)
    assert {OPEN.decode(), BLOCK.decode(), SIGNALLED.decode()} <= texts
    assert all(hashlib.sha256(t.encode()).hexdigest() == h for t, h in zip(bodies.text, bodies.sha256, strict=True))


def test_an_unreachable_robots_txt_is_neither_blocked_nor_allowed() -> None:
    from tracker.publishing.release import _Agents

    agents = _Agents(["GPTBot", "CCBot"], {"gptbot": {7: (False, True, "full_block")}, "ccbot": {}})
    codes = [agents.code("unreachable", None), agents.code("ok", 7), agents.code("no_robots", None)]
    states = agents.table()[codes]  # state × agent × (stance, named, inherited, blocked); 2 is null
    stance = [[agents.stances[int(s)].as_py() for s in row] for row in states[:, :, 0]]
    assert stance == [["unreachable"] * 2, ["full_block", "allowed"], ["no_robots"] * 2]
    assert states[0, :, 1:].tolist() == [[2, 2, 2]] * 2
    assert states[1, 0, 1:].tolist() == [1, 0, 1]  # named, not inherited, blocked
    assert states[2, :, 1:].tolist() == [[0, 0, 0]] * 2


# -- the same bytes -------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_publishing_twice_gives_the_same_bytes(release: Path, store: str, tmp_path: Path) -> None:
    printed = _publish(store, tmp_path / "again", "--with-bodies").stdout
    assert (tmp_path / "again" / "SHA256SUMS").read_bytes() == (release / "SHA256SUMS").read_bytes()
    cite = hashlib.sha256((release / "SHA256SUMS").read_bytes()).hexdigest()
    assert printed.startswith(f"sha256:{cite}  ")
    for p in release.iterdir():
        assert (tmp_path / "again" / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.slow
def test_chunks_change_only_row_groups(
    release: Path, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is read a site at a time here: every table holds the same rows in the same order."""
    import gzip

    monkeypatch.setattr("tracker.publishing.release.CHUNK_SITES", 1)
    _publish(store, tmp_path / "r", "--with-bodies")
    for table in (*TABLES, "robots_txt"):
        one = gzip.decompress((tmp_path / "r" / f"{table}.csv.gz").read_bytes())
        assert one == gzip.decompress((release / f"{table}.csv.gz").read_bytes()), table
        assert _parquet(tmp_path / "r", table).equals(_parquet(release, table)), table


@pytest.mark.slow
def test_a_read_only_store_gives_the_same_release_and_stays_as_it_was(
    release: Path, store: str, tmp_path: Path
) -> None:
    import sqlite3

    copy = tmp_path / "s.db"
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(store, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    _publish(f"sqlite:///file:{copy}?mode=ro&uri=true", tmp_path / "r", "--with-bodies")
    assert (tmp_path / "r" / "SHA256SUMS").read_bytes() == (release / "SHA256SUMS").read_bytes()
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before


@pytest.mark.slow
def test_replace_replaces_a_previous_release(release: Path, store: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    shutil.copytree(release, out)
    (out / "stale.txt").write_text("from before")
    refused = _cli("publish", "--db", store, "--out", str(out))
    assert refused.exit_code == 2 and "--out" in refused.output and "not empty" in refused.output
    _publish(store, out, "--replace")
    assert not (out / "stale.txt").exists() and not (out / "robots_txt.parquet").exists()
    assert _package(out)["consent_tracker"]["with_bodies"] is False


@pytest.mark.slow
def test_since_until_and_list_restrict(store: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    _publish(
        store,
        out,
        "--since",
        "2025-04-01",
        "--until",
        "2025-04-30",
        "--list",
        "panel",
        "-a",
        "gptbot",
        "-a",
        "CCBot",
        "-a",
        "GPTBot",
    )
    states = _parquet(out, "agent_states")
    assert set(states.month) == {"2025-04"} and set(states.domain) == {"a.test", "c.test"}
    assert list(states.agent[:2]) == ["GPTBot", "CCBot"] and len(states) == 2 * 2  # 2 sites × 1 month × 2 agents
    assert set(_parquet(out, "sites").domain) == {"a.test", "c.test"}
    assert set(_parquet(out, "signals").month) <= {"2025-04"}
    events = _parquet(out, "change_events")
    assert len(events) and all(e.month == 4 for e in events["at"]) and set(events.domain) <= {"a.test", "c.test"}
    trends = _parquet(out, "trends")
    assert set(trends.period) == {"2025-04"} and all("panel" in s for s in trends["sample"])
    meta = _package(out)["consent_tracker"]
    assert meta["lists"] == ["panel"] and meta["since"] == "2025-04-01" and meta["until"] == "2025-04-30"


@pytest.mark.slow
def test_an_empty_table_has_its_columns(store: str, tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "r"
    _publish(store, out, "--list", "quiet")
    events = _parquet(out, "change_events")
    assert len(events) == 0 and list(events.columns) == [f["name"] for f in _fields(out, "change_events")]
    assert list(pd.read_csv(out / "change_events.csv.gz").columns) == list(events.columns)
    assert _package(out)["resources"][4]["rows"] == 0 and set(_parquet(out, "sites").domain) == {"c.test"}


# -- bad input: one line, exit 2, nothing written ------------------------------------------------------------------------
def test_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    db = str(tmp_path / "s.db")
    open_store(db).dispose()
    for args in ((), ("--replace",)):  # --replace replaces a release, never a folder holding anything else
        result = _cli("publish", "--db", db, "--out", str(out), *args)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: --out") and len(result.output.strip().splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_an_empty_database_is_a_clear_error(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.db")
    open_store(db).dispose()
    result = _cli("publish", "--db", db, "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "no observations" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() and not list(tmp_path.glob(".r.*"))
    missing = _cli("publish", "--db", str(tmp_path / "nope.db"), "--out", str(tmp_path / "r"))
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1


def test_bad_dates_and_lists_are_refused(store: str, tmp_path: Path) -> None:
    for args, said in (
        (("--since", "2025-05-01", "--until", "2025-04-01"), "--since"),
        (("--list", "nope"), "--list"),
        (("--since", "April"), "--since"),
        (("--since", "2030-01-01"), "no observations"),
    ):
        result = _cli("publish", "--db", store, "--out", str(tmp_path / "r"), *args)
        assert result.exit_code == 2 and said in result.output, (args, result.output)
    assert not (tmp_path / "r").exists()


def test_publish_help_loads_nothing_heavy() -> None:
    from tests.test_cli_startup import HEAVY, _loaded

    loaded = _loaded("publish", "--help")
    assert "typer" in loaded and not loaded & {*HEAVY, "rich", "pyarrow"}


# -- the corpus history ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("corpus") / "history.db")
    result = _cli("import-archive", str(corpus_path("history")), "--db", db)
    assert result.exit_code == 0, result.output
    return db


@needs_corpus
@pytest.mark.slow
@FRICTIONLESS_LEAK
def test_a_release_of_the_corpus_history(corpus_store: str, tmp_path: Path) -> None:
    import duckdb

    out = tmp_path / "r"
    _publish(corpus_store, out)
    errors = _validate(out / "datapackage.json")
    assert not errors, errors[:10]
    for r in _package(out)["resources"]:
        if "parquet" in r:
            parquet = out / r["parquet"]["path"]
            described = duckdb.sql(f"DESCRIBE SELECT * FROM '{parquet}'").fetchall()
            assert [kind for _, kind, *_ in described] == [TYPES[f["type"]][0] for f in r["schema"]["fields"]]
            assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall() == [(r["rows"],)]
    cli = _cli("trends", "--db", corpus_store, "-a", "GPTBot", "--format", "json")
    printed = json.loads(cli.stdout)["rows"]
    assert len(printed) > 12 and _trend_rows(out, "GPTBot") == printed
    states = _parquet(out, "agent_states")
    gpt = states[states.agent == "GPTBot"]
    blocked = Counter(gpt[gpt.blocked.fillna(False).astype(bool)].month)
    assert {r["period"]: r["blocked"] for r in printed} == {m: blocked[m] for m in Counter(gpt.month)}
    assert states.domain.nunique() > 500
