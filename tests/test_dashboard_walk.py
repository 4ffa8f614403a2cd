"""The dashboard walked as a reader walks it, in a real browser (Debian's chromium driven by Playwright) against
`consent-tracker dashboard`: every page, and on each page every choice of every sidebar filter it shows.

It fails when a page shows a traceback; when a chart's time axis has no year on it; when a page shows a filter that
does not change what it draws (its figures: metric values, chart marks, table cells) or does not say so in its
words; and when a page shows a filter its contract (``SIDEBAR``) says does not act on it."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from tests.conftest import CHROMIUM, needs_chromium
from tracker.cli import app
from tracker.pipeline.changes import detect_changes
from tracker.rules import signals as sig
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

ROOT = Path(__file__).resolve().parents[1]
#: The filters each page acts on, and so shows (no other).
SIDEBAR = {
    "overview": ("Sample", "Category"),
    "agents": ("Sample", "Category", "Weighting"),
    "signals": ("Category",),
    "changes": ("Category",),
    "sites": (),
    "forecast": (),
    "gap": (),
    "data": ("Sample", "Category", "Weighting"),
}
FILTERS = ("Sample", "Category", "Weighting")
BLOCK = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: ClaudeBot\nDisallow: /\n"
OPEN = b"User-agent: *\nAllow: /\n"
CC_BLOCK = b"User-agent: CCBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /\n"


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four sites over two years, so that every choice of every filter changes a figure: news.example (category
    news, rank 1, many tokens) blocks GPTBot and ClaudeBot from the fourth month and adopts noai; shop.example
    (commerce, rank 3) blocks CCBot and Google-Extended from month 13; open.example (rank 2) allows everything;
    down.example is unreachable. Lists: a top-3 ranking and a panel of open.example and shop.example."""
    folder = tmp_path_factory.mktemp("walk")
    db = folder / "w.db"
    engine = open_store(db)
    w = Writer(engine)
    start = datetime(2023, 1, 15, tzinfo=UTC)
    noai = sig.page_signals(b'<html><head><meta name="robots" content="noai"></head></html>', {}).as_dict()
    plain = sig.page_signals(b"<html><head><title>x</title></head></html>", {}).as_dict()
    for month in range(24):
        at = start + timedelta(days=30 * month)
        w.record(
            "news.example",
            [
                Observation("robots", at, "ok", 200, body=BLOCK if month >= 3 else OPEN),
                Observation("homepage", at, "ok", 200, signals=noai if month >= 6 else plain),
            ],
        )
        w.record("shop.example", [Observation("robots", at, "ok", 200, body=CC_BLOCK if month >= 12 else OPEN)])
        w.record(
            "open.example",
            [Observation("robots", at, "ok", 200, body=OPEN), Observation("homepage", at, "ok", 200, signals=plain)],
        )
        w.record("down.example", [Observation("robots", at, "unreachable", 503)])
    detect_changes(engine, [w.site_id(d) for d in ("news.example", "shop.example", "open.example", "down.example")])
    (folder / "top.csv").write_text("1,news.example\n2,open.example\n3,shop.example\n")
    (folder / "panel.txt").write_text("open.example\nshop.example\n")
    (folder / "labels.csv").write_text("domain,category\nnews.example,news\nshop.example,commerce\n")
    (folder / "tokens.csv").write_text(
        "url,c4_tokens\nnews.example,9000000\nopen.example,1000000\nshop.example,500000\ndown.example,100000\n"
    )
    runner = CliRunner()
    for args in (
        ["sites", "add", str(folder / "top.csv"), "--list", "top3", "--kind", "top"],
        ["sites", "add", str(folder / "panel.txt"), "--list", "panel"],
        ["categories", "import", str(folder / "labels.csv")],
        ["weights", "import", str(folder / "tokens.csv")],
    ):
        done = runner.invoke(app, [*args, "--db", str(db)])
        assert done.exit_code == 0, (args, done.output)
    return db


# -- a page's figures, as the browser shows them ------------------------------------------------------------------
_FIGURES = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const marks = [...main.querySelectorAll('[data-testid=stVegaLiteChart] g.role-mark path, '
    + '[data-testid=stVegaLiteChart] g.role-mark line')].map(e => e.getAttribute('d') || e.outerHTML);
  const metrics = [...main.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText);
  const cells = [...main.querySelectorAll('[data-testid=stDataFrame] [role=gridcell], '
    + '[data-testid=stDataFrame] td')].map(e => e.innerText);
  const alerts = [...main.querySelectorAll('[data-testid=stAlert]')].map(e => e.innerText);
  return JSON.stringify({marks, metrics, cells, alerts});
}"""
_AXES = """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stVegaLiteChart]')].map(c =>
  [...c.querySelectorAll('g.role-axis')].map(a => ({
    label: a.getAttribute('aria-label') || '',
    ticks: [...a.querySelectorAll('g.role-axis-label text')].map(t => t.textContent)})))"""
_MONTHS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_IDLE = "() => !document.querySelector('[data-testid=stStatusWidget]')"


def _settle(page: Any, says: str = "") -> None:
    """Wait until the page says ``says`` (the words a choice puts in its subtitle: the run it started has drawn)
    and Streamlit is idle."""
    if says:
        page.wait_for_function(
            "(w) => document.querySelector('[data-testid=stMain]').innerText.includes(w)", arg=says, timeout=120_000
        )
    else:  # a page just opened: its first run starts once the browser has connected
        with contextlib.suppress(Exception):
            page.wait_for_selector("[data-testid=stStatusWidget]", timeout=3000)
    page.wait_for_function(_IDLE, timeout=120_000)


def _figures(page: Any) -> str:
    """The page's figures once they stop changing (tables and charts draw after the script has run)."""
    now, same = page.evaluate(_FIGURES), 0
    for _ in range(60):
        page.wait_for_timeout(200)
        page.wait_for_function(_IDLE, timeout=120_000)
        again = page.evaluate(_FIGURES)
        same = same + 1 if again == now else 0
        if same == 3:
            break
        now = again
    return str(now)


def _check(page: Any, where: str) -> int:
    """No traceback, and a year on every time axis; how many time axes there were."""
    assert page.query_selector("[data-testid=stException]") is None, f"a traceback on {where}"
    assert "Traceback" not in page.inner_text("[data-testid=stMain]"), where
    timed = 0
    for chart in page.evaluate(_AXES):
        for axis in chart:
            text = " ".join(axis["ticks"])
            if _MONTHS.search(text) or "time" in axis["label"].lower():
                timed += 1
                assert _YEAR.search(text), f"{where}: a time axis without a year: {text!r}"
    return timed


def _sidebar_filters(page: Any) -> list[str]:
    labels = page.locator("[data-testid=stSidebar] [data-testid=stWidgetLabel]").all_inner_texts()
    return [t.strip() for t in labels if t.strip() in FILTERS]


def _options(page: Any, label: str) -> list[str]:
    side = page.locator("[data-testid=stSidebar]")
    radio = side.locator("[data-testid=stRadio]").filter(has_text=label)
    if radio.count():
        return [t.strip() for t in radio.locator("label").all_inner_texts() if t.strip() and t.strip() != label]
    side.locator("[data-testid=stSelectbox]").filter(has_text=label).click()
    opts = [t.strip() for t in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    return opts


def _choose(page: Any, label: str, option: str) -> None:
    """Choose ``option`` of the sidebar filter ``label``, and wait for the page to say so."""
    side = page.locator("[data-testid=stSidebar]")
    radio = side.locator("[data-testid=stRadio]").filter(has_text=label)
    if radio.count():
        radio.get_by_text(option, exact=True).click()
    else:
        side.locator("[data-testid=stSelectbox]").filter(has_text=label).click()
        page.get_by_role("option", name=option, exact=True).click()
    _settle(page, _words(label, option))


def _words(label: str, option: str) -> str:
    """How a choice is named in the page's own words (its subtitle, caption or message)."""
    named = {"sites": "by sites", "tokens": "by tokens", "1/rank": "by 1/rank"}
    return f"{label.lower()}: {named.get(option, option)}"


@needs_chromium
@pytest.mark.network_local
@pytest.mark.slow
def test_every_page_with_every_sidebar_choice(walked: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_dashboard import served

    seen: dict[str, list[str]] = {}
    with served(str(walked)) as port, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        for name, contract in SIDEBAR.items():
            page.goto(f"http://127.0.0.1:{port}/{name}")
            page.wait_for_selector("[data-testid=stMain]", timeout=60_000)
            _settle(page)
            assert page.get_by_text("Page not found").count() == 0, name
            _figures(page)
            if name in ("overview", "agents", "signals", "forecast"):  # the year check is not vacuous
                page.wait_for_selector("[data-testid=stVegaLiteChart] g.role-axis-label text", timeout=60_000)
                assert _check(page, name) >= 1, f"{name}: no time axis found"
            _check(page, name)
            shown = _sidebar_filters(page)
            assert tuple(shown) == contract, f"{name} shows {shown}, acts on {contract}"
            for label in shown:
                options = _options(page, label)
                assert len(options) >= 2, (name, label, options)
                default = _figures(page)
                for option in options[1:]:
                    _choose(page, label, option)
                    where = f"{name}, {label} = {option}"
                    _check(page, where)
                    assert _figures(page) != default, f"{where}: the figures did not change"
                    seen.setdefault(where, [])
                _choose(page, label, options[0])
                assert _figures(page) == default, f"{name}, {label} back to {options[0]}"
        browser.close()
    assert len(seen) >= 20  # every page's every choice was walked (4 pages with filters, 10+ categories each)


def test_a_missing_input_is_a_sentence_with_its_command(walked: Path, tmp_path: Path) -> None:
    """Weighting by tokens without weights, by 1/rank without ranks, a category with no site labelled: each is one
    sentence with the command that fills it in, never a traceback."""
    import os

    bare = tmp_path / "bare.db"
    engine = open_store(bare)
    w = Writer(engine)
    w.record("a.example", [Observation("robots", datetime(2024, 1, 1, tzinfo=UTC), "ok", 200, body=BLOCK)])
    os.environ["CONSENT_TRACKER_DB"] = str(bare)
    for page in ("agents", "data"):
        for state, command in (
            ({"weighting": "tokens"}, "consent-tracker weights import"),
            ({"weighting": "1/rank"}, "consent-tracker sites add --tranco"),
            ({"category": "news"}, "consent-tracker categories assign"),
        ):
            at = AppTest.from_file(str(ROOT / "tracker" / "dashboard" / "views" / f"{page}.py"), default_timeout=60)
            for k, v in state.items():
                at.session_state[k] = v
            at.run()
            assert not at.exception, (page, state, at.exception)
            assert any(command in i.value for i in at.info), (page, state, [i.value for i in at.info])
    os.environ["CONSENT_TRACKER_DB"] = str(walked)  # with the inputs there, the same choices draw
    for state in ({"weighting": "tokens"}, {"weighting": "1/rank"}, {"category": "news"}):
        at = AppTest.from_file(str(ROOT / "tracker" / "dashboard" / "views" / "agents.py"), default_timeout=60)
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception and not at.info, (state, [i.value for i in at.info])
