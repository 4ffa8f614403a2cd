"""The dashboard: every page under Streamlit's AppTest on an empty and on a populated database (numbers equal to
tracker's), and in a real browser (Debian's chromium driven by Playwright) against `consent-tracker dashboard`."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import CHROMIUM, needs_chromium
from tracker.analysis.headlines import headline
from tracker.pipeline.changes import detect_changes
from tracker.rules.agents import load_registry
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

PAGES = ["overview", "agents", "signals", "changes", "sites", "forecast", "gap", "data"]
ROOT = Path(__file__).resolve().parents[1]
SCRIPT = b"User-agent: GPTBot\nDisallow: /\n# <script>alert('x')</script>\n"


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three sites over a year: one blocks GPTBot from month 4 (its robots.txt has a <script> comment), one allows
    everything, one is unreachable; and a homepage with noai."""
    db = tmp_path_factory.mktemp("dash") / "d.db"
    engine = open_store(db)
    w = Writer(engine)
    start = datetime(2024, 1, 15, tzinfo=UTC)
    for month in range(13):
        at = start + timedelta(days=30 * month)
        w.record(
            "news.example",
            [Observation("robots", at, "ok", 200, body=SCRIPT if month >= 3 else b"User-agent: *\nAllow: /\n")],
        )
        w.record("open.example", [Observation("robots", at, "ok", 200, body=b"User-agent: *\nAllow: /\n")])
        w.record("down.example", [Observation("robots", at, "unreachable", 503)])
    detect_changes(engine, [w.site_id(d) for d in ("news.example", "open.example", "down.example")])
    return db


def _run(page: str, db: Path, **state: object) -> AppTest:
    os.environ["CONSENT_TRACKER_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "tracker" / "dashboard" / "views" / f"{page}.py"), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.slow
def test_every_page_on_an_empty_database(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(tmp_path / "none.db"))
    at = _run(page, tmp_path / "none.db")
    assert not at.exception, at.exception
    if page not in ("forecast", "gap"):
        assert any("No history yet" in i.value for i in at.info)  # how to fill it, not a traceback
    assert not (tmp_path / "none.db").exists()  # the dashboard never creates a database


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.slow
def test_every_page_on_a_populated_database(page: str, populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    at = _run(page, populated)
    assert not at.exception, at.exception


def _ro(db: Path) -> str:
    return f"sqlite:///file:{db}?mode=ro&uri=true"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.slow
def test_every_page_on_a_read_only_store(page: str, populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A published or read-only store (a mode=ro URI): every page reads it, and the file does not change."""
    url = _ro(populated)
    with sqlite3.connect(populated) as conn:  # the fixture's writes into the file itself: only a read could move it now
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = (populated.read_bytes(), populated.stat().st_mtime_ns)
    monkeypatch.setenv("CONSENT_TRACKER_DB", url)
    at = _run(page, url)  # type: ignore[arg-type]
    assert not at.exception, at.exception
    assert not any("No history yet" in i.value for i in at.info)  # the store opened (read-only), it is not "empty"
    assert (populated.read_bytes(), populated.stat().st_mtime_ns) == before


@pytest.mark.slow
def test_overview_numbers_are_trackers_numbers(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    at = _run("overview", populated)
    h = headline(open_store(populated), load_registry())
    assert at.metric[0].value == f"{h.by_sites.blocked_share:.1%}"  # type: ignore[union-attr]
    assert at.metric[1].value == f"{h.by_sites.blocked_named_share:.1%}"  # type: ignore[union-attr]
    assert h.by_sites.blocked == 1 and h.by_sites.unreachable == 1  # type: ignore[union-attr]
    assert any("Sample: all sites" in c.value for c in at.caption)


@pytest.mark.slow
def test_forecast_and_gap_pages_show_the_clis_figures(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One answer everywhere: the pages' run-outs and gap are the `forecast` command's, months and intervals."""
    from typer.testing import CliRunner

    from tracker.analysis.forecast.model import runout_text
    from tracker.cli import app
    from tracker.records.forecast import Runout

    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    cli = CliRunner().invoke(app, ["forecast", "--format", "json", "--db", str(populated)])
    assert cli.exit_code == 0, cli.output
    figures = json.loads(cli.output)
    at = _run("forecast", populated)
    captions = [c.value for c in at.caption]

    def runout(key: str) -> Runout:
        return Runout(figures[key]["median"], figures[key]["p10"], figures[key]["p90"])

    for key in ("exhaustion", "exhaustion_consent_adjusted", "exhaustion_restriction_held"):
        assert figures[key] is not None and runout_text(runout(key), horizon=2040) in captions, key
    assert at.metric[0].value == runout_text(runout("exhaustion")).split(" (")[0]
    gap = _run("gap", populated).dataframe[0].value
    last = figures["gap"][-1]
    share = last["synthetic_share"]
    assert gap.iloc[-1]["synthetic share, median (80%)"] == (
        f"{share['median']:.0%} ({share['p10']:.0%}–{share['p90']:.0%})"
    )


@pytest.mark.slow
def test_agents_page_driven_by_key(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    at = _run("agents", populated)
    at.multiselect(key="agents").set_value(["GPTBot"]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table[""]) == ["GPTBot"] and int(table["blocked"][0]) == 1
    assert (
        int(table["by a group naming it"][0]) == 1 and table["share blocked"][0] == f"{1 / int(table['sites'][0]):.1%}"
    )
    at.radio(key="by").set_value("company").run()
    assert not at.exception and "OpenAI" in list(at.dataframe[0].value[""])


@pytest.mark.slow
def test_sites_page_shows_robots_txt_as_text(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    at = _run("sites", populated)
    at.text_input(key="site_query").set_value("news").run()
    assert at.selectbox(key="site_pick").value == "news.example"
    diffs = [c.value for c in at.code if "robots.txt" in c.value]
    assert diffs and "+# <script>alert('x')</script>" in diffs[0]  # a diff, as text in a code block
    assert not at.exception


def test_changes_page_lists_restrictions_with_links_to_the_diff(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    at = _run("changes", populated, changes_since=datetime(2023, 1, 1).date())
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    gpt = table[table["agent / signal"] == "GPTBot"]
    assert list(gpt["site"]) == ["news.example"] and list(gpt["type"]) == ["restriction"]
    assert list(gpt["before"]) == ["allowed"] and list(gpt["after"]) == ["full block"]
    assert str(gpt["when"].iloc[0]) == "2024-04-14"
    assert gpt["diff"].iloc[0].startswith("/sites?site=news.example&from=")
    assert "down.example" not in set(table["site"])  # an unreachable site never changes its consent
    at.multiselect(key="changes_types").set_value(["reversal"]).run()
    assert not at.exception and any("No changes match" in i.value for i in at.info)


def test_sites_page_opens_the_diff_a_link_names(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.store.changelog import list_changes

    monkeypatch.setenv("CONSENT_TRACKER_DB", str(populated))
    ev = next(c for c in list_changes(open_store(populated)) if c.agent == "GPTBot")
    os.environ["CONSENT_TRACKER_DB"] = str(populated)
    at = AppTest.from_file(str(ROOT / "tracker" / "dashboard" / "views" / "sites.py"), default_timeout=120)
    # Swapped on purpose: the page's defaults are the last two versions in order, so only the link can do this.
    at.query_params.update({"site": "news.example", "from": str(ev.version_id), "to": str(ev.previous_version_id)})
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="site_pick").value == "news.example"
    assert at.selectbox(key="diff_from").value.endswith("2024-04-14 (ok, live)")
    assert at.selectbox(key="diff_to").value.endswith("2024-01-15 (ok, live)")
    timeline = next(d.value for d in at.dataframe if "what changed" in d.value.columns)
    assert "GPTBot allowed → full_block (restriction)" in set(timeline["what changed"])


@pytest.mark.slow
def test_every_page_says_when_the_data_is_simulated(populated: Path, tmp_path: Path) -> None:
    import shutil

    from tracker.store import catalog

    db = tmp_path / "sim.db"
    shutil.copy(populated, db)
    catalog.set_meta(open_store(db), catalog.SIMULATED, "true")
    os.environ["CONSENT_TRACKER_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "tracker" / "dashboard" / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert any("SIMULATED DATA" in w.value for w in at.warning)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(db: str) -> Iterator[int]:
    """`consent-tracker dashboard` of ``db`` on a free port, once its health check answers; stopped after."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "dashboard", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@needs_chromium
@pytest.mark.network_local
@pytest.mark.slow
def test_every_page_in_a_real_browser(populated: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("CONSENT_TRACKER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    # Served read-only (a mode=ro URI): every page must load without writing (AppTest covers the writable path).
    with served(_ro(populated)) as port, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        for name in PAGES:
            page.goto(f"http://127.0.0.1:{port}/{'' if name == 'overview' else name}")  # the default page is /
            page.wait_for_selector("[data-testid='stMain']", timeout=60_000)
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
            if name in ("overview", "agents", "forecast", "gap"):
                page.wait_for_selector(
                    "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg", timeout=60_000
                )
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            assert page.query_selector("[data-testid='stException']") is None, f"an exception on {name}"
            assert page.get_by_text("Page not found").count() == 0, name
        page.goto(f"http://127.0.0.1:{port}/sites")
        page.wait_for_selector("[data-testid='stMain']")
        page.get_by_label("Search a site").fill("news")
        page.keyboard.press("Enter")
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        code = page.locator("[data-testid='stCode']", has_text="alert").first
        code.wait_for(timeout=60_000)
        # the <script> inside robots.txt is shown as text, not run or rendered
        assert "<script>alert('x')</script>" in code.inner_text() and not dialogs
        page.screenshot(path=str(shots / "sites_diff.png"), full_page=True)
        browser.close()
    assert {p.name for p in shots.glob("*.png")} >= {f"{n}.png" for n in PAGES}


@pytest.mark.slow
def test_the_dashboard_is_a_package_that_edits_no_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`consent-tracker dashboard` serves the package's own app.py; it and every page import the library as
    ``tracker.dashboard.common`` (no ``sys.path`` edits, no top-level ``common``), so an installed copy works."""
    from tracker.cli.presenting import dashboard_process
    from tracker.dashboard import app_file

    app = app_file()
    assert app == ROOT / "tracker" / "dashboard" / "app.py" and app.is_file()
    cmd, _ = dashboard_process(str(tmp_path / "none.db"), host="127.0.0.1", port=8501)
    assert cmd[cmd.index("run") + 1] == str(app)
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(tmp_path / "none.db"))
    before = sys.path[:]
    for f in [app, *sorted((app.parent / "views").glob("[!_]*.py"))]:
        at = AppTest.from_file(str(f), default_timeout=120)
        at.run()
        assert not at.exception, (f.name, at.exception)
        assert sys.path == before, f.name
    assert "common" not in sys.modules


def test_results_are_kept_on_disk_for_the_same_data_only(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result computed by one server is read, not computed, by the next one over the same data; after a write
    (another data version) or with a damaged file it is computed again."""
    import shutil

    from tracker.dashboard import common
    from tracker.store import catalog

    monkeypatch.setenv("CONSENT_TRACKER_CACHE", str(tmp_path / "kept"))
    db = tmp_path / "k.db"
    shutil.copy(populated, db)
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    def run() -> list[int]:
        common.SHARED = common.Shared()  # a new server process: nothing in memory
        common._VERSION.clear()
        common._STORES.pop(str(db), None)
        return common.shared("probe", str(db), ("x",), compute)

    assert run() == [1] and run() == [1] and len(calls) == 1  # the second server read what the first kept
    for f in (tmp_path / "kept").glob("*.pickle"):
        f.write_bytes(b"not a pickle")
    assert run() == [2]  # damaged: computed again, and kept again
    assert run() == [2] and len(calls) == 2
    catalog.set_meta(open_store(db), "probe", "written")  # any write is another version of the data
    assert run() == [3]


def test_the_data_version_is_the_same_for_every_process_reading_unchanged_data(populated: Path, tmp_path: Path) -> None:
    """Each process that opens a store no one else has open creates an empty write-ahead log: that is not a new
    version of the data, so every reader sees the same tag (and the dashboard reads what an earlier server kept)."""
    import shutil

    with sqlite3.connect(populated) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db = tmp_path / "alone.db"
    shutil.copy(populated, db)  # the file alone: no other connection keeps its log
    code = (
        "from tracker import service\nfrom tracker.rules.agents import load_registry\n"
        f"print(service.data_version(service.open_store({str(db)!r}, create=False), load_registry()).tag)"
    )
    tags = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in "ab"
    }
    assert len(tags) == 1 and len(tags.pop().strip()) == 32
