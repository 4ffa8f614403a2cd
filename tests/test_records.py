"""The published records (tracker.records): frozen and slotted, each with one JSON shape that is JSON-ready and
reads back, and the JSON the CLI prints from them exactly what it printed before they existed
(tests/golden/records.json, made by tests/golden_records.py at the commit before them)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import tracker.records as records
from tests.golden_records import ROBOTS, outputs
from tests.records_store import AI_TXT, HOME, LLMS, RSL, TDMREP, TERMS, build
from tracker.analysis.robots_file import robots_report
from tracker.fetch.outcome import fetch_from_body
from tracker.records import robots as robots_records
from tracker.records import signals as signal_records
from tracker.rules import signals as sig

GOLDEN = Path(__file__).parent / "golden" / "records.json"
LINK = '<https://a.test/l.xml>; rel="license"; type="application/rsl+xml"'
RECORD_MODULES = (records, signal_records, robots_records)


def _record_classes() -> list[type]:
    found: dict[str, type] = {}
    for module in RECORD_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and dataclasses.is_dataclass(obj):
                found[name] = obj
    return list(found.values())


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return outputs(build(tmp_path_factory.mktemp("records") / "r.db"))


def test_every_record_is_frozen_slotted_and_has_one_json_shape() -> None:
    classes = _record_classes()
    assert len(classes) >= 15
    for cls in classes:
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen, cls
        assert "__slots__" in cls.__dict__, cls
        assert callable(getattr(cls, "as_dict", None)), cls
        assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), cls  # documented, not generated


@pytest.mark.slow  # builds a store and runs the CLI thirteen times (once per module)
def test_the_cli_prints_what_it_printed_before_the_records(printed: dict[str, str]) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert set(printed) == set(golden)
    for command, text in golden.items():
        assert printed[command] == text, command


def _instances(printed: dict[str, str]) -> list[Any]:
    """One or more instances of every record, read from real output or made by the parsers and the pipeline."""
    out: list[Any] = []
    for line in printed["export latest"].splitlines():
        out.append(records.SiteState.from_dict(json.loads(line)))
    for site in ("a.test", "b.test", "c.test"):
        h = records.SiteHistory.from_dict(json.loads(printed[f"site {site} -f json"]))
        out += [h, h.site, *h.history, *(c for v in h.history for c in v.changes), *h.agents.values()]
        if h.current is not None:
            out += [h.current.signals, h.current.signals.tos]
    rows = json.loads(printed["changes -f json --limit 0 --diff"])["rows"]
    out += [records.Event.from_dict(r) for r in rows]
    tdm = sig.tdmrep_file(TDMREP)
    out += [tdm, *tdm.rules, sig.tdm_effective(tdm.rules[0], {}, {}), sig.tdmrep_file("{x"), sig.tdmrep_file(None)]
    out += [sig.ai_txt(AI_TXT), sig.ai_txt(None), sig.llms_txt(LLMS), sig.llms_txt("<html>")]
    out += [sig.rsl_document(RSL), sig.rsl_document("<rsl><oops>")]
    page = sig.page_signals(HOME, {"x-robots-tag": "GPTBot: noai", "content-usage": "train-ai=n", "link": LINK})
    out += [page, *page.directives, sig.content_signal("search=yes, ai-train=n"), sig.content_usage("train-ai=n")]
    terms = sig.tos_signals(TERMS, "https://a.test/terms", "footer_text", "a.test")
    out += sig.rsl_license_urls(None, {"link": LINK}, page.rsl)
    report = robots_report(fetch_from_body("r.txt", ROBOTS), [("GPTBot", "OpenAI", "training")], ["/", "/x"])
    unread = robots_report(fetch_from_body("e.txt", b""), [("GPTBot", None, None)], ["/"])
    out += [report, unread, report.fetch, report.parse, *report.parse.records, *report.agents, *report.agents[0].urls]
    out += [terms, terms.reading, signal_records.TermsPage("https://a.test/terms", "a.test")]
    out += [
        records.RunResult(
            "live",
            1,
            "done",
            3,
            3,
            0,
            2,
            changes=1,
            unchanged=1,
            robots_status={"ok": 3},
            errors={},
            seconds=1.5,
            notices=("a notice",),
        ),
        records.RunResult(
            "wayback",
            2,
            "done",
            3,
            2,
            1,
            4,
            requests=9,
            captures_fetched=4,
            captures_reused=1,
            excluded=("x.test",),
            classified={"ok": 3, "skipped_3xx": 1},
            seconds=2.0,
        ),
        records.RunResult(
            "archive",
            3,
            "done",
            2,
            2,
            0,
            5,
            files=7,
            duplicates=2,
            html_bodies=1,
            empty_bodies=0,
            first_date=date(2022, 1, 1),
            last_date=date(2024, 1, 1),
            problems=("1: not a domain",),
        ),
    ]
    return out


@pytest.mark.slow  # builds a store and runs the CLI thirteen times (once per module)
def test_every_record_is_json_ready_and_reads_back(printed: dict[str, str]) -> None:
    instances = _instances(printed)
    assert {type(i) for i in instances} == set(_record_classes())  # a new record needs an instance here
    for rec in instances:
        data = rec.as_dict()
        assert json.loads(json.dumps(data)) == data, type(rec)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(rec, dataclasses.fields(rec)[0].name, None)
        if hasattr(type(rec), "from_dict"):
            again = type(rec).from_dict(json.loads(json.dumps(data)))
            assert again.as_dict() == data, type(rec)


@pytest.mark.slow  # builds a store and runs the CLI thirteen times (once per module)
def test_records_read_back_what_the_cli_printed(printed: dict[str, str]) -> None:
    for line in printed["export latest"].splitlines():
        assert json.dumps(records.SiteState.from_dict(json.loads(line)).as_dict(), ensure_ascii=False) == line
    for site in ("a.test", "b.test", "c.test"):
        text = printed[f"site {site} -f json"]
        assert json.dumps(records.SiteHistory.from_dict(json.loads(text)).as_dict(), indent=1) + "\n" == text
    rows = json.loads(printed["changes -f json --limit 0 --diff"])["rows"]
    assert [records.Event.from_dict(r).as_dict() for r in rows] == rows


@pytest.mark.slow  # builds a store and runs the CLI thirteen times (once per module)
def test_never_observed_is_none_in_the_records(printed: dict[str, str]) -> None:
    # b.test: an archive import (no homepage): every training preference and page signal unknown, never False
    b = records.SiteHistory.from_dict(json.loads(printed["site b.test -f json"]))
    assert b.current is not None and b.current.signals.noai is None and b.current.signals.homepage_status is None
    assert all(v.training_optout is None for v in b.current.agents.values())
    assert b.current.signals.tos.found is None and "found" not in b.current.signals.tos.as_dict()
    crawl = records.RunResult("live", 1, "done", 1, 1, 0, 0)
    assert crawl.as_dict()["requests"] is None and crawl.as_dict()["files"] is None  # not a backfill or import


def test_run_results_say_what_the_cli_said() -> None:
    crawl = records.RunResult(
        "live", 4, "done", 2, 2, 0, 3, changes=1, unchanged=1, seconds=2.0, robots_status={"ok": 1, "unreachable": 1}
    )
    assert crawl.summary() == (
        "crawl #4 done: 2 sites in 2.0 s (1/s); 3 new versions, 1 unchanged, 1 changes (`consent-tracker changes`); "
        "robots.txt: ok 1, unreachable 1"
    )
    back = records.RunResult(
        "wayback",
        5,
        "done",
        3,
        2,
        1,
        4,
        changes=2,
        requests=9,
        captures_fetched=4,
        captures_reused=1,
        classified={"ok": 2, "skipped_3xx": 1},
        seconds=1.25,
    )
    assert back.summary() == (
        "backfill #5 done: 2 sites in 1.2 s (1 already done); 9 requests to the archive, 4 captures fetched, "
        "1 known already; 4 new versions, 2 changes; one capture per period: ok 2; index rows not fetched: 3xx 1"
    )
    imp = records.RunResult(
        "archive",
        6,
        "done",
        2,
        2,
        0,
        5,
        changes=1,
        files=7,
        duplicates=2,
        html_bodies=1,
        empty_bodies=0,
        first_date=date(2022, 1, 1),
        last_date=date(2024, 1, 1),
    )
    assert imp.summary().startswith("imported 7 files of 2 domains (2022-01-01 → 2024-01-01): 5 new versions")


def test_one_change_event_type() -> None:
    import tracker.analysis.headlines as headlines
    import tracker.pipeline.changes as changes

    assert not hasattr(headlines, "Event") and hasattr(headlines, "Milestone")
    assert changes.list_events.__annotations__["return"] in ("list[Event]",)
    assert changes.Event is records.Event
    ev = records.Event(
        "urn:uuid:x",
        "a.test",
        None,
        "robots",
        "robots",
        "GPTBot",
        "allowed",
        "full_block",
        "restriction",
        datetime(2025, 1, 2, tzinfo=UTC),
        datetime(2024, 12, 1, tzinfo=UTC),
        "live",
        2,
        1,
    )
    assert ev.title == "a.test: GPTBot allowed → full_block (restriction)"
    assert ev.when == "changed between 2024-12-01 and 2025-01-02"


def test_stored_page_signals_of_any_age_read_back() -> None:
    # What tests and early crawls stored: only some keys, entries without a source. Missing says nothing.
    old = {
        "meta_robots": [{"directives": ["noai", "noimageai"]}],
        "x_robots_tag": [{"ua_scope": "GPTBot", "directives": ["noml"]}],
    }
    page = signal_records.PageSignals.from_dict(old)
    assert [(e.source, e.ua_scope, e.directives) for e in page.directives] == [
        ("meta", None, ("noai", "noimageai")),
        ("header", "GPTBot", ("noml",)),
    ]
    assert page.tdm_header == {} and page.tos_link is None and page.licenses == []
    assert sig.site_preferences({"homepage": _Seen(old)}).signals.noai is True
    # a terms version of a failed fetch keeps only where it was looked for: not read, so no reading
    assert signal_records.TermsPage.from_dict({"url": "https://c.test/tos", "host": "c.test"}).reading is None


@dataclasses.dataclass
class _Seen:
    signals: dict[str, Any]
    status: str = "ok"
    body: bytes | None = None
    truncated: bool = False


def test_records_are_a_low_layer() -> None:
    # The published schema imports only the standard library, itself, the vocabulary and the errors: every layer
    # (rules, fetching, the pipeline, the store, analysis, publishing, the faces) can speak in records.
    import ast
    import sys

    allowed = {"tracker.records.vocabulary", "tracker.errors"}
    root = Path(records.__file__).parent
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if top == "tracker":
                    assert name.startswith("tracker.records") or name in allowed, (path.name, name)
                else:
                    assert top in sys.stdlib_module_names or top == "__future__", (path.name, name)
