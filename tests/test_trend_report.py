"""The trend report reads as a document: its provenance first (made on, data through, sample and size, sources,
version), then key figures, charts, methodology, the CSV behind each chart (each row as wide as its header); the same
database and clock give the same report; formula-like cells are neutralised; a PDF is printed by real Chromium, no
page ending on a heading."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from tests.conftest import needs_chromium
from tracker.cli import app
from tracker.publishing.report import ReportError, write_report
from tracker.rules.agents import load_registry
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

REG = load_registry()
#: The clock the tests give the report: "made on" is the one now-value in it.
MADE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def build_report_store(path: Path) -> Path:
    """Ten sites over twenty months: two block GPTBot from the start, three more from month 8 (also used by
    tests/test_charts.py)."""
    w = Writer(open_store(path))
    start = datetime(2023, 1, 15, tzinfo=UTC)
    for month in range(20):
        at = start + timedelta(days=30 * month)
        for i in range(10):
            blocks = i < 2 or (i < 5 and month >= 8)
            body = b"User-agent: GPTBot\nDisallow: /\n" if blocks else b"User-agent: *\nDisallow: /private\n"
            w.record(f"s{i}.example", [Observation("robots", at, "ok", 200, body=body)])
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report_store(tmp_path_factory.mktemp("rep") / "r.db")


@pytest.mark.slow
def test_markdown_report_reads_as_a_document(db: Path, tmp_path: Path) -> None:
    files = write_report(open_store(db), REG, tmp_path / "md", "md", made_at=MADE)
    text = (tmp_path / "md" / "report.md").read_text()
    assert files[0].name == "report.md"
    # Its provenance first, under the title: when, through when, which sites, from where, by which version.
    first_page = text.split("## Key figures")[0]
    for line in (
        "- **Made on:** 2026-01-02 03:04:05 UTC",
        "- **Data through:** 2024-08-",
        "- **Sample:** all sites (every site of the database: no list or category chosen): 10 sites observed by 2024-08-",
        "- **Weighting:** each site counts once",
        # 2 sites blocking from the start and 5 never: one version each; 3 changing at month 8: two each.
        "- **Sources:** live crawl observations written without a run: 13 robots.txt versions of 10 sites, observed "
        "2023-01-15 → 2024-08-",
        "- **Made with:** consent-tracker ",
    ):
        assert line in first_page, line
    for section in (
        "## Key figures",
        "## Sites restricting training agents",
        "## Restriction by agent",
        "## When the real data runs out",
        "## Methodology",
    ):
        assert section in text
    assert "50.0% of the 10 sites observed at the end of 2024-08 restrict AI training in robots.txt" in text
    assert "against 20.0% in 2023-08" in text  # the same month a year before
    assert "GPTBot: 50.0% of sites restrict it (5 by name)." in text
    assert "145 assertions" in text and "Sample: all sites" in text and "Weighting: each site counts once" in text
    # Published figures beside ours: the table, and what ours rests on or what is missing.
    assert "## Published figures, side by side" in text and "| originality-gptbot-2023-09-22 | Originality.ai" in text
    assert "cic-c4-head-robots-full: missing: no token weights stored" in text
    for name in ("training", "agents", "purposes", "restriction", "runout", "gap"):
        assert (tmp_path / "md" / f"{name}.png").stat().st_size > 5000  # a real picture
        assert f"]({name}.png)" in text and f"]({name}.csv)" in text
    with (tmp_path / "md" / "training.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows[-1]["period"] == "2024-08" and float(rows[-1]["blocked_share"]) == 0.5


@pytest.mark.slow
def test_same_database_same_report(db: Path, tmp_path: Path) -> None:
    write_report(open_store(db), REG, tmp_path / "a", "md", made_at=MADE)
    write_report(open_store(db), REG, tmp_path / "b", "md", made_at=MADE)
    for name in ("report.md", "figures.json", "training.csv", "agents.csv", "runout.csv", "gap.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # Only the clock differs: "made on" is the one now-value, said once and held by figures.json.
    later = MADE + timedelta(days=1)
    write_report(open_store(db), REG, tmp_path / "c", "md", made_at=later)
    a, c = (tmp_path / "a" / "report.md").read_text(), (tmp_path / "c" / "report.md").read_text()
    assert a.replace("2026-01-02 03:04:05", "2026-01-03 03:04:05") == c
    assert json.loads((tmp_path / "c" / "figures.json").read_text())["provenance"]["made_on"] == later.isoformat()


@pytest.mark.slow
def test_every_csv_row_has_its_headers_fields(db: Path, tmp_path: Path) -> None:
    """Every CSV the report writes, read back with the csv module: a header, then rows of exactly its fields."""
    files = write_report(open_store(db), REG, tmp_path / "c", "csv")
    written = [p for p in files if p.suffix == ".csv"]
    assert {p.stem for p in written} >= {"training", "agents", "purposes", "runout", "gap", "claims"}
    for path in written:
        with path.open(newline="", encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        assert rows and len(set(header)) == len(header), path.name
        assert [len(r) for r in rows] == [len(header)] * len(rows), path.name


def test_csv_rows_of_different_keys_share_one_header(tmp_path: Path) -> None:
    """Rows whose keys differ (a run-out with or without its held level) are written under one header: a missing
    key is an empty cell in its own column, never a shifted one."""
    from tracker.publishing.report import _write_csv

    _write_csv(tmp_path / "r.csv", [{"scenario": "a", "median": 1.5}, {"scenario": "b", "median": None, "held": 0.4}])
    with (tmp_path / "r.csv").open(newline="") as fh:
        assert list(csv.reader(fh)) == [["scenario", "median", "held"], ["a", "1.5", ""], ["b", "", "0.4"]]


@pytest.mark.slow
def test_html_report_embeds_its_charts_and_escapes_text(db: Path, tmp_path: Path) -> None:
    write_report(open_store(db), REG, tmp_path / "h", "html")
    page = (tmp_path / "h" / "report.html").read_text()
    assert page.count("<svg") >= 5 and "<script" not in page  # charts inline as SVG, no script
    assert "&#x27;User-agent: *&#x27;" in page  # text is escaped


def test_csv_cells_are_formula_safe(tmp_path: Path) -> None:
    from tracker.publishing.report import _write_csv

    _write_csv(tmp_path / "x.csv", [{"agent": '=HYPERLINK("http://evil")', "share": 0.5}])
    assert (tmp_path / "x.csv").read_text().splitlines()[1].startswith("\"'=HYPERLINK")


@needs_chromium
@pytest.mark.slow
def test_pdf_is_printed_by_chromium(db: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    files = write_report(open_store(db), REG, tmp_path / "p", "pdf", made_at=MADE)
    pdf = tmp_path / "p" / "report.pdf"
    assert files[0] == pdf and pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
    pages = [
        [line.strip() for line in (p.extract_text() or "").splitlines() if line.strip()] for p in PdfReader(pdf).pages
    ]
    assert len(pages) > 3
    # The provenance is on the first page.
    first = "\n".join(pages[0])
    assert "Made on 2026-01-02 03:04:05 UTC" in first and "Data through 2024-08-" in first and "Sources" in first
    # No page ends on a heading: each is printed with what it heads.
    page = BeautifulSoup((tmp_path / "p" / "report.html").read_text(), "html.parser")
    headings = [h.get_text() for h in page.find_all(["h1", "h2"])]
    assert "Methodology" in headings and len(headings) >= 8
    for n, lines in enumerate(pages, 1):
        assert lines[-1] not in headings, f"page {n} ends on the heading {lines[-1]!r}"


@pytest.mark.slow
def test_report_command_and_empty_database(db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--format", "csv", "--out", str(tmp_path / "c"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "agents.csv",
        "claims.csv",
        "figures.json",
        "gap.csv",
        "purposes.csv",
        "restriction.csv",
        "runout.csv",
        "training.csv",
    ]
    open_store(tmp_path / "e.db")
    with pytest.raises(ReportError, match="no observations"):
        write_report(open_store(tmp_path / "e.db"), REG, tmp_path / "e", "md")
    result = CliRunner().invoke(app, ["report", "--db", str(tmp_path / "e.db"), "--out", str(tmp_path / "e")])
    assert result.exit_code == 2 and "no observations" in result.output


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report's store with a tracked panel (s0–s5) and news labels on s0, s2, s6 and s7."""
    tmp = tmp_path_factory.mktemp("lab")
    db = build_report_store(tmp / "l.db")
    (tmp / "panel.txt").write_text("".join(f"s{i}.example\n" for i in range(6)))
    (tmp / "news.csv").write_text("domain,category\n" + "".join(f"s{i}.example,news\n" for i in (0, 2, 6, 7)))
    for args in (
        ["sites", "add", str(tmp / "panel.txt"), "--list", "panel-a"],
        ["categories", "import", str(tmp / "news.csv")],
    ):
        result = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 0, result.output
    return db


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "name", "sites", "share"),
    [
        ([], "all sites", 10, 0.5),
        (["--list", "panel-a"], "panel 'panel-a'", 6, 5 / 6),
        (["--category", "news"], "sites in category 'news'", 4, 0.5),
        (["--list", "panel-a", "--category", "news"], "panel 'panel-a' in category 'news'", 2, 1.0),
    ],
)
def test_a_filter_changes_what_is_drawn_and_the_report_says_so(
    labelled: Path, tmp_path: Path, options: list[str], name: str, sites: int, share: float
) -> None:
    """--list and --category choose the sample: the figures and their CSV follow it, the chart's subtitle and the
    provenance name it and its size — never "all sites" when a list or a category is the sample."""
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app,
        ["report", "--format", "html", "--out", str(out), *options, "--db", str(labelled)],
        env={"SOURCE_DATE_EPOCH": "1767323045"},
    )
    assert result.exit_code == 0, result.output
    with (out / "training.csv").open(newline="") as fh:
        last = list(csv.DictReader(fh))[-1]
    assert (last["sample"], int(last["sites"]), float(last["blocked_share"])) == (name, sites, pytest.approx(share))
    provenance = json.loads((out / "figures.json").read_text())["provenance"]
    assert provenance["made_on"] == "2026-01-02T03:04:05+00:00"  # SOURCE_DATE_EPOCH, the CLI's fixed clock
    assert (provenance["sample"]["name"], provenance["sample"]["sites"]) == (name, sites)
    assert [x["name"] for x in provenance["lists"]] == (["panel-a"] if "--list" in options else [])
    if "--list" in options:
        assert (
            provenance["lists"][0]["sites"] == 6 and "tracked list 'panel-a' (panel" in provenance["lists"][0]["text"]
        )
    page = BeautifulSoup((out / "report.html").read_text(), "html.parser")
    said = {
        dt.get_text(): dd.get_text()
        for dt, dd in zip(page.select(".provenance dt"), page.select(".provenance dd"), strict=True)
    }
    assert said["Sample"].startswith(f"{name}") and f": {sites} sites observed by" in said["Sample"]
    assert said["Made on"] == "2026-01-02 03:04:05 UTC"
    subtitle = f"{name}; weighted by sites; blocked share"
    assert subtitle in page.find("figure").get_text(" ")  # the first chart's subtitle names the sample
    if options:
        assert "all sites" not in said["Sample"] and "all sites;" not in page.find("figure").get_text(" ")


@pytest.mark.slow
def test_the_sources_are_the_runs_the_store_records(tmp_path: Path) -> None:
    """An archive import is cited by its path, its run, its sites and versions and the days they were observed;
    versions written without a run are cited apart."""
    archive = tmp_path / "archive"
    for name, body in {
        "a.com/2023-01-05.txt": "User-agent: *\nAllow: /\n",
        "a.com/2023-09-01.txt": "User-agent: GPTBot\nDisallow: /\n",
        "b.org/2023-02-01.txt": "User-agent: *\nDisallow: /private\n",
    }.items():
        (archive / name).parent.mkdir(parents=True, exist_ok=True)
        (archive / name).write_text(body)
    db = tmp_path / "s.db"
    started = datetime.now(UTC).date().isoformat()
    result = CliRunner().invoke(app, ["import-archive", str(archive), "--db", str(db)])
    assert result.exit_code == 0, result.output
    at = datetime(2023, 10, 2, tzinfo=UTC)
    Writer(open_store(db)).record("c.net", [Observation("robots", at, "ok", 200, body=b"User-agent: *\nDisallow:\n")])
    write_report(open_store(db), REG, tmp_path / "r", "csv", made_at=MADE)
    sources = json.loads((tmp_path / "r" / "figures.json").read_text())["provenance"]["sources"]
    today = sources[0]["run_from"]
    assert started <= today <= datetime.now(UTC).date().isoformat()  # the run's own day, not the data's
    assert [(s["kind"], s["runs"], s["sites"], s["versions"], s["observed_from"], s["run_from"]) for s in sources] == [
        ("archive", 1, 2, 3, "2023-01-05", today),
        ("live", 0, 1, 1, "2023-10-02", None),
    ]
    assert sources[0]["source"] == str(archive.resolve()) and sources[0]["text"].startswith(
        f"archive import ({archive.resolve()}; 1 run, {today}): 2 sites, 3 new robots.txt versions, observed 2023-01-05 → "
    )
