"""The service layer (tracker.service) called directly on a small real store — five sites' robots.txt history from
the shared corpus — and the CLI printing exactly what it returns; one grammar (options named for their parameters,
old spellings as hidden aliases); errors said once, with the option's name."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker import service
from tracker.cli import app
from tracker.config import settings
from tracker.errors import NotFoundError, ParameterError, StoreError, TrackerError
from tracker.operations.schedule import ScheduleOptions
from tracker.records.vocabulary import GroupBy, Weighting
from tracker.rules.agents import load_registry

SITES = ("nytimes.com", "theguardian.com", "reddit.com", "cnn.com", "medium.com")
REG = load_registry()


def invoke(*args: str, **env: str) -> tuple[int, str]:
    r = CliRunner(env={"COLUMNS": "200", **env}).invoke(app, list(args))
    return r.exit_code, r.output


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, str]:
    if not corpus_path("history").is_dir():
        pytest.skip("the shared test corpus is absent")
    root = tmp_path_factory.mktemp("service")
    for site in SITES:
        shutil.copytree(corpus_path("history", site), root / "archive" / site)
    db = str(root / "s.db")
    engine = service.open_store(db, create=True)
    report = service.import_archive(engine, root / "archive")
    assert report.domains == len(SITES) and report.new_versions > 0
    return engine, db


@needs_corpus
@pytest.mark.slow
def test_trends_are_what_the_cli_prints(store: tuple[Engine, str]) -> None:
    engine, db = store
    found = service.trends(engine, REG, agents=["GPTBot", "CCBot"])
    assert {r.agent for r in found.rows} == {"GPTBot", "CCBot"} and found.unknown_agents == ()
    assert [d.figure for d in found.definitions] == ["GPTBot", "CCBot"]
    assert max(r.blocked for r in found.rows if r.agent == "GPTBot") > 0  # the big publishers block GPTBot
    code, output = invoke("trends", "--db", db, "-a", "GPTBot", "-a", "CCBot", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == {**found.extra(), "rows": [r.as_dict() for r in found.rows]}
    by_company = service.trends(engine, REG, by=GroupBy.company)
    assert by_company.rows and all(r.agent != "GPTBot" for r in by_company.rows)


@needs_corpus
@pytest.mark.slow
def test_weight_picking_is_the_services(store: tuple[Engine, str], tmp_path: Path) -> None:
    engine, db = store
    weights = tmp_path / "w.csv"
    weights.write_text("url,c4_tokens\nnytimes.com,900\ntheguardian.com,100\nreddit.com,0\ncnn.com,0\nmedium.com,0\n")
    found = service.trends(engine, REG, agents=["GPTBot"], weight=Weighting.tokens, weights=weights)
    assert found.rows[-1].weighting.startswith("tokens:") and "w.csv" in found.rows[-1].weighting
    code, output = invoke("trends", "--db", db, "--weight", "tokens", "--weights", str(weights), "--format", "json")
    assert code == 0, output
    assert json.loads(output)["rows"] == [r.as_dict() for r in found.rows]


@needs_corpus
@pytest.mark.slow
def test_changes_and_the_type_alias(store: tuple[Engine, str]) -> None:
    engine, db = store
    found = service.changes(engine, limit=0, diffs=True, agents=["GPTBot", "NoSuchBot"])
    assert found.events and found.unfollowed_agents == ("NoSuchBot",)
    code, output = invoke("changes", "--db", db, "--limit", "0", "-a", "GPTBot", "-a", "NoSuchBot", "--format", "json")
    assert code == 0 and "NoSuchBot is not one of the agents change events follow" in output
    printed = json.loads(output[output.index("{") :])
    assert printed["rows"] == [e.as_dict() for e in found.events] and printed["count"] == len(found.events)
    restrictions = service.changes(engine, changes=["restriction"], limit=0, diffs=True)
    assert restrictions.events and {e.change for e in restrictions.events} == {"restriction"}
    new = json.loads(invoke("changes", "--db", db, "--change", "restriction", "--limit", "0", "--format", "json")[1])
    old = json.loads(invoke("changes", "--db", db, "--type", "restriction", "--limit", "0", "--format", "json")[1])
    assert new == old and new["rows"] == [e.as_dict() for e in restrictions.events]
    with pytest.raises(ParameterError) as bad:
        service.changes(engine, changes=["nonsense"])
    assert bad.value.parameter == "changes"
    code, output = invoke("changes", "--db", db, "--type", "nonsense")
    assert code == 2 and "--change: 'nonsense' is not one of" in output


@needs_corpus
@pytest.mark.slow
def test_site_export_and_lists(store: tuple[Engine, str]) -> None:
    engine, db = store
    info = service.site(engine, REG, " NYTimes.com ")
    code, output = invoke("site", "nytimes.com", "--db", db, "--format", "json")
    assert code == 0 and json.loads(output) == json.loads(json.dumps(info.as_dict(), default=str))
    with pytest.raises(NotFoundError):
        service.site(engine, REG, "nowhere.example")
    code, output = invoke("site", "nowhere.example", "--db", db)
    assert code == 2 and output.count("\n") == 1 and "nowhere.example is not in the database" in output
    buffer = io.StringIO()
    assert service.export_latest(engine, REG, buffer) == len(SITES)
    assert invoke("export", "latest", "--db", db)[1] == buffer.getvalue()
    assert service.sites_list(engine) == []
    with pytest.raises(NotFoundError, match=r"no list named 'panel'"):
        service.list_members(engine, "panel")
    with pytest.raises(NotFoundError, match=r"no crawl run #99"):
        service.crawl_status(engine, 99)


@needs_corpus
@pytest.mark.slow
def test_up_guard_keeps_demo_and_real_data_apart(store: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = store
    service.prepare_up_store(engine, demo=False, name="real.db")  # real data, a real run: fine
    demo = service.open_store(str(tmp_path / "demo.db"), create=True)
    service.prepare_up_store(demo, demo=True, name="demo.db")  # a fresh store becomes the demo's
    assert service.is_simulated(demo)
    with pytest.raises(StoreError, match=r"demo.db holds the demo's simulated data"):
        service.prepare_up_store(demo, demo=False, name="demo.db")
    service.sites_add(demo, settings.resolve({}), file=_site_list(tmp_path), list_="panel")
    real = service.open_store(str(tmp_path / "real.db"), create=True)
    service.sites_add(real, settings.resolve({}), file=_site_list(tmp_path), list_="panel")
    with pytest.raises(StoreError, match=r"real.db holds real data"):
        service.prepare_up_store(real, demo=True, name="real.db")
    assert not service.is_simulated(real)


def _site_list(tmp_path: Path) -> Path:
    p = tmp_path / "sites.txt"
    p.write_text("example.org\nexample.net\n")
    return p


def test_parameter_errors_name_the_parameter_and_the_cli_its_option(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"^since must be a date") as bad:
        service.parse_day("August", "since")
    assert bad.value.parameter == "since" and isinstance(bad.value, TrackerError)
    with pytest.raises(ParameterError, match=r"^until must be a month"):
        service.parse_month_or_day("2024-13", "until")
    assert str(service.parse_month_or_day("2024-02", "until", end=True)) == "2024-02-29"
    with pytest.raises(ParameterError, match=r"^max_age must be 0 or more"):
        service.trends(None, REG, max_age=-1)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"^since 1990-01-01: the Wayback Machine's archive starts in 1996"):
        service.backfill_config(settings.resolve({}), since=service.parse_month_or_day("1990-01", "since"))
    db = str(tmp_path / "e.db")
    service.open_store(db, create=True)
    code, output = invoke("backfill", "--since", "1990-01", "--db", db)
    assert code == 2 and "--since 1990-01-01: the Wayback Machine's archive starts in 1996" in output
    good = tmp_path / "good.txt"
    good.write_text("example.com\n")
    code, output = invoke("crawl", "--sites", str(good), "--db", db, "--connect-to", "nonsense")
    assert code == 2 and "error: --connect-to wants HOST:PORT:ADDR:PORT" in output


class _Seen(TrackerError):
    pass


@pytest.mark.slow
def test_old_spellings_are_hidden_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    seen: list[Any] = []

    def schedule_options(options: Any, **kw: Any) -> Any:
        seen.append(kw["lists"])
        raise _Seen("stop")

    def backfill_config(options: Any, **kw: Any) -> Any:
        seen.append(options.archive_rate)
        raise _Seen("stop")

    monkeypatch.setattr(ScheduleOptions, "from_settings", schedule_options)
    monkeypatch.setattr(service, "backfill_config", backfill_config)
    for args in (["--list", "panel", "--list", "top"], ["--site-list", "panel", "--site-list", "top"]):
        assert invoke("schedule", *args, "--db", db)[0] == 2
    for args in (["--archive-rate", "0.5"], ["--rate", "0.5"]):
        assert invoke("backfill", *args, "--db", db)[0] == 2
    assert seen == [["panel", "top"], ["panel", "top"], 0.5, 0.5]
    help_of = {c: invoke(*c.split(), "--help")[1] for c in ("schedule", "backfill", "changes")}
    assert (
        "--list" in help_of["schedule"] and "--show" in help_of["schedule"] and "--site-list" not in help_of["schedule"]
    )
    assert "--archive-rate" in help_of["backfill"] and not re.search(r"(?<![\w-])--rate\b", help_of["backfill"])
    assert "--change" in help_of["changes"] and "--type" not in help_of["changes"]


def test_the_cli_catches_no_value_errors_and_the_settings_are_a_leaf() -> None:
    cli = Path(service.__file__).parents[1] / "cli"
    for f in cli.glob("*.py"):
        assert "except ValueError" not in f.read_text(encoding="utf-8"), f"{f.name} catches ValueError"
    config = Path(settings.__file__).parent

    def project_imports(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        return {n for n in names if n == "tracker" or n.startswith("tracker.")}

    assert project_imports(config / "defaults.py") == {"tracker"}  # the package's version, nothing else
    assert project_imports(config / "settings.py") == {"tracker.config", "tracker.errors"}


def test_every_use_case_is_reachable_from_the_package() -> None:
    for name in service.__all__:
        assert getattr(service, name) is not None, name
    with pytest.raises(AttributeError):
        service.no_such_use_case  # noqa: B018


def test_every_option_has_the_name_of_the_parameter_it_sets() -> None:
    """One grammar: ``--max-age`` sets ``max_age``; ``--format`` sets ``fmt`` (``format`` is Python's); a trailing
    '_' is Python's spelling of a builtin (``--list`` sets ``list_``)."""
    import typer.main

    def commands(c: Any, prefix: str = "") -> list[tuple[str, Any]]:
        subs = getattr(c, "commands", None)
        if subs:
            return [x for n, s in subs.items() for x in commands(s, f"{prefix}{n} ")]
        return [(prefix.strip(), c)]

    found = commands(typer.main.get_command(app))
    assert len(found) > 20
    for name, command in found:
        for p in command.params:
            if p.param_type_name != "option" or p.hidden or p.name == "help":
                continue
            option = next(o for o in p.opts if o.startswith("--"))[2:].replace("-", "_")
            assert {"format": "fmt"}.get(option, option) == p.name.rstrip("_"), f"{name} --{option} sets {p.name}"


@pytest.mark.slow
def test_imports_point_one_way_around_the_service() -> None:
    """Below the service nothing imports it; the service imports nothing above it (operations, the faces)."""
    root = Path(service.__file__).parents[1]

    def imports(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        names |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        return names | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    above = ("tracker.operations", "tracker.cli", "tracker.dashboard")
    for f in (root / "service").glob("*.py"):
        assert not [m for m in imports(f) if m.startswith(above)], f.name
    below = ("rules", "fetch", "store", "pipeline", "analysis", "publishing", "config", "records")
    for package in below:
        for f in (root / package).rglob("*.py"):
            assert not [m for m in imports(f) if m.startswith("tracker.service")], f


@pytest.mark.slow
def test_library_errors_name_parameters_and_the_cli_says_its_options(tmp_path: Path) -> None:
    from tracker.analysis.forecast import load_params
    from tracker.errors import ParamsError

    with pytest.raises(ParamsError, match=r"^overrides: 'draws' is not section.name=value") as bad:
        load_params(overrides=["draws"])
    assert bad.value.parameter == "overrides"
    service.open_store(str(tmp_path / "f.db"), create=True)
    code, output = invoke("forecast", "--set", "draws", "--db", str(tmp_path / "f.db"))
    assert code == 2 and "error: --set: 'draws' is not section.name=value" in output
    archive = tmp_path / "archive"
    archive.mkdir()
    code, output = invoke("import-archive", str(archive), "--until", "9999-12-31", "--db", str(tmp_path / "t.db"))
    assert code == 2 and "error: --until 9999-12-31 is" in output
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in (Path(service.__file__).parents[1]).rglob("*.py") if "cli" not in p.parts
    )
    assert not re.search(r"(Error|raise)\(f?\"--", source), "a library error names a command-line flag"


def test_the_lazy_exports_are_the_submodules_exports() -> None:
    import importlib

    for module, names in service._WHERE.items():
        assert set(names) == set(importlib.import_module(f"tracker.service.{module}").__all__), module
