"""One CLI grammar (issue 20, item 6): the same option names for the same things across commands, every --format
value honoured, the commands in the order of the workflow, values named in --help, no "None" said to a reader, an
unknown category an error, and simulated data marked in every output format."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import WORKFLOW, app
from tracker.records.vocabulary import CATEGORIES

runner = CliRunner()

#: A tiny dated archive: a.com blocks GPTBot from September 2023, c.net blocks CCBot.
ARCHIVE = {
    "a.com/2023-01-05.txt": "User-agent: *\nAllow: /\n",
    "a.com/2023-09-01.txt": "User-agent: GPTBot\nDisallow: /\n",
    "b.org/2023-02-01.txt": "User-agent: *\nDisallow: /private\n",
    "c.net/2023-03-01.txt": "User-agent: CCBot\nDisallow: /\n",
}


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error apart."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _archive(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    for name, body in ARCHIVE.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    return folder


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "t.db")
    code, out, err = run("import-archive", str(_archive(tmp_path)), "--db", path)
    assert code == 0, out + err
    return path


@pytest.fixture
def demo_db(db: str) -> str:
    """The same history, marked as the demo's simulated data."""
    from tracker import service
    from tracker.config import settings
    from tracker.store import catalog

    catalog.set_meta(service.open_store(settings.resolve({"db": db})), catalog.SIMULATED, "true")
    return db


def _help(*path: str) -> str:
    result = runner.invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.stdout


# -- dates: --since/--until everywhere, --from/--to hidden aliases ------------------------------------------------
def test_changes_takes_from_and_to_like_trends(db: str) -> None:
    code, out, err = run("changes", "--from", "2023-08-01", "--to", "2023-12-31", "--format", "json", "--db", db)
    assert code == 0, out + err
    assert [e["site"] for e in json.loads(out)["rows"]] == ["a.com"]
    code, out, _ = run("changes", "--from", "2023-10-01", "--format", "json", "--db", db)
    assert code == 0 and json.loads(out)["rows"] == []  # the alias filters, as --since does


@pytest.mark.parametrize("command", [("trends",), ("changes",), ("report",), ("publish",), ("backfill",)])
def test_date_options_are_since_and_until_with_hidden_aliases(command: tuple[str, ...]) -> None:
    text = _help(*command)
    assert "--since" in text and "--until" in text
    assert "--from" not in text and "--to " not in text  # the aliases work but are not shown


def test_trends_from_alias_still_filters(db: str) -> None:
    code, out, _ = run("trends", "--from", "2023-06-01", "--to", "2023-07-31", "--format", "json", "--db", db)
    assert code == 0, out
    assert [r["period"] for r in json.loads(out)["rows"]] == ["2023-06", "2023-07"]


# -- report: --since/--until/--list/--category/--weight, passed through or said -----------------------------------
def test_report_takes_until_list_and_weight(db: str, tmp_path: Path) -> None:
    text = _help("report")
    for option in ("--since", "--until", "--list", "--category", "--weight"):
        assert option in text
    out_dir = tmp_path / "r"
    code, out, err = run("report", "--format", "md", "--out", str(out_dir), "--until", "2023-06-30", "--weight",
                         "rank", "--db", db)  # fmt: skip
    assert code == 0, out + err
    figures = json.loads((out_dir / "figures.json").read_text(encoding="utf-8"))
    provenance = figures["provenance"]
    assert provenance["sample"]["until"] == "2023-06-30" and provenance["data_through"] <= "2023-06-30"
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "Filters asked for (until 2023-06-30)" in report  # what the forecast cannot honour is said
    assert "Weighting asked for (--weight rank)" in report
    agents = list(csv.DictReader(io.StringIO((out_dir / "agents.csv").read_text(encoding="utf-8"))))
    assert {r["weighting"] for r in agents} == {"rank"}


def test_report_with_an_unknown_list_is_an_error(db: str, tmp_path: Path) -> None:
    code, _out, err = run("report", "--format", "md", "--out", str(tmp_path / "r"), "--list", "nope", "--db", db)
    assert code == 2 and "nope" in err


# -- one output option: --out (-o/--output hidden aliases) -----------------------------------------------------------
def test_export_writes_with_out_and_keeps_o_as_an_alias(db: str, tmp_path: Path) -> None:
    assert "--out " in _help("export", "latest") and "--output" not in _help("export", "latest")
    for option in ("--out", "-o", "--output"):
        target = tmp_path / f"latest{option}.csv"
        code, out, err = run("export", "latest", "--format", "csv", option, str(target), "--db", db)
        assert code == 0, out + err
        assert target.read_text(encoding="utf-8").startswith("domain") or target.stat().st_size > 0


def test_report_takes_o_as_an_alias_of_out(db: str, tmp_path: Path) -> None:
    code, out, err = run("report", "--format", "md", "-o", str(tmp_path / "r"), "--db", db)
    assert code == 0, out + err
    assert (tmp_path / "r" / "report.md").exists()


# -- every --format value honoured ------------------------------------------------------------------------------------
def test_forecast_csv_is_the_runout_rows(db: str) -> None:
    code, out, err = run("forecast", "--format", "csv", "--draws", "2000", "--seed", "1", "--db", db)
    assert code == 0, out + err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and rows[0]["scenario"] == "exhaustion"
    assert re.fullmatch(r"\d{4}-\d{2}", rows[0]["median_month"]) and rows[0]["data_through"] == "2023-09-01"


def test_settings_and_sites_list_and_site_print_csv(db: str) -> None:
    code, out, _ = run("settings", "--format", "csv")
    assert code == 0 and out.startswith("setting,environment_variable,value,help")
    code, out, _ = run("sites", "list", "--format", "csv", "--db", db)
    assert code == 0 and (not out.strip() or out.startswith("name,kind,sites"))
    assert "┏" not in out  # not a table
    code, out, err = run("site", "a.com", "--format", "csv", "-a", "GPTBot", "--db", db)
    assert code == 0, out + err
    row = next(csv.DictReader(io.StringIO(out)))
    assert (row["site"], row["agent"], row["stance"]) == ("a.com", "GPTBot", "full_block")


# -- help: values named, commands in the order of the workflow ------------------------------------------------------
def test_help_names_every_value() -> None:
    from click import Group
    from typer.main import get_command

    root = get_command(app)
    paths: list[tuple[str, ...]] = []
    for name in WORKFLOW:
        paths.append((name,))
        sub = root.get_command(None, name)  # type: ignore[arg-type]
        if isinstance(sub, Group) or hasattr(sub, "commands"):
            paths += [(name, s) for s in getattr(sub, "commands", {})]
    for path in paths:
        text = _help(*path)
        ugly = re.findall(r"<(?:str|int|float|path|int range|float range|list\[[^>]*\])>", text)
        assert not ugly, (path, ugly)


def test_commands_are_listed_in_the_order_of_the_workflow() -> None:
    text = _help()
    listed = re.findall(r"^  ([a-z-]+)  ", text.split("Commands:")[1], flags=re.M)
    assert listed[:6] == ["up", "sites", "crawl", "backfill", "import-archive", "trends"]
    assert listed == [c for c in WORKFLOW if c in listed] and len(listed) == len(WORKFLOW)


# -- words, not None; an unknown category; what comes after an import ------------------------------------------------
def test_site_says_what_is_not_known_in_words(db: str) -> None:
    code, out, err = run("site", "a.com", "--db", db)
    assert code == 0, out + err
    assert "None" not in out
    assert "rank not known" in out and "no category" in out


@pytest.mark.parametrize("command", ["trends", "changes"])
def test_an_unknown_category_is_an_error_naming_the_categories(db: str, command: str) -> None:
    code, out, err = run(command, "--category", "foo", "--db", db)
    assert code == 2, out + err
    assert "'foo' is not a category" in err and all(c in err for c in CATEGORIES)
    assert "no observations" not in out


def test_import_archive_says_categories_assign_comes_next(tmp_path: Path) -> None:
    code, out, err = run("import-archive", str(_archive(tmp_path)), "--db", str(tmp_path / "i.db"))
    assert code == 0, out + err
    assert "categories assign" in out


# -- simulated data marked in every format -----------------------------------------------------------------------------
def test_simulated_data_is_marked_in_every_format(demo_db: str) -> None:
    for fmt in ("table", "json", "csv"):
        for command in (("trends",), ("changes",), ("site", "a.com"), ("claims",)):
            code, out, err = run(*command, "--format", fmt, "--db", demo_db)
            assert code == 0, (command, fmt, out + err)
            assert "simulated data" in err, (command, fmt)
            if fmt == "json":
                assert json.loads(out)["simulated"] is True, (command, fmt)
            if fmt == "csv":
                assert "simulated" not in out.splitlines()[0]  # the columns of real data, unchanged
    code, out, err = run("forecast", "--format", "json", "--draws", "2000", "--db", demo_db)
    assert code == 0 and json.loads(out)["simulated"] is True and "simulated data" in err
    code, out, err = run("export", "latest", "--format", "csv", "--db", demo_db)
    assert code == 0 and "simulated data" in err


def test_real_data_is_not_marked(db: str) -> None:
    code, out, err = run("trends", "--format", "json", "--db", db)
    assert code == 0 and "simulated" not in json.loads(out) and "simulated" not in err


def test_schedule_run_honours_the_format(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.db")
    code, out, err = run("schedule", "--run", "robots", "--format", "json", "--db", db)
    assert code == 0, out + err
    assert json.loads(out) | {"job": "robots", "sites": 0} == json.loads(out)
    code, out, err = run("schedule", "--run", "robots", "--format", "csv", "--db", db)
    assert code == 0, out + err
    assert next(csv.DictReader(io.StringIO(out)))["job"] == "robots"
