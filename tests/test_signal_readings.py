"""One reading per signal (issue 17, item 9): `export latest`, `site`, `trends --signal` and the change events give one
answer for one site — also where the old per-resource readings disagreed with the export's site rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import Res
from tracker.cli import app
from tracker.pipeline.changes import detect_changes
from tracker.rules import signals as sig
from tracker.rules.signals.preferences import ADOPTION
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

OPEN = b"User-agent: *\nAllow: /\n"
T0 = datetime(2025, 1, 5, tzinfo=UTC)
T1 = datetime(2025, 3, 5, tzinfo=UTC)


def page(html: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    return sig.page_signals(
        f"<html><head>{html}</head><body>hi</body></html>".encode(), headers or {}, ["GPTBot", "CCBot"]
    )


def crawl(
    at: datetime, robots: bytes = OPEN, home: dict[str, Any] | None = None, tdmrep: bytes | None = None
) -> list[Observation]:
    """One crawl of a site: robots.txt, the homepage and tdmrep.json (None: a 404), observed at one moment."""
    return [
        Observation("robots", at, "ok", 200, body=robots),
        Observation("homepage", at, "ok", 200, signals=home if home is not None else page()),
        Observation("tdmrep", at, "ok", 200, body=tdmrep)
        if tdmrep is not None
        else Observation("tdmrep", at, "absent", 404),
    ]


@dataclass(frozen=True)
class Case:
    signal: str
    source: str  # the training_optout source that says so, for an agent
    after: list[Observation]  # the second crawl
    adopted: bool
    agent: str = "GPTBot"  # an agent the site says it to


RESERVES = b'[{"location": "/", "tdm-reservation": 1}]'
CASES = {
    # TDMRep by header or meta only, the file absent (the old reading: file only → not adopted)
    "tdmrep by header": Case("tdmrep", "tdmrep", crawl(T1, home=page(headers={"tdm-reservation": "1"})), True),
    "tdmrep by meta": Case("tdmrep", "tdmrep", crawl(T1, home=page('<meta name="tdm-reservation" content="1">')), True),
    # the file reserves, the homepage's meta says 0: meta wins (the old reading: file → adopted)
    "tdmrep file overridden": Case(
        "tdmrep", "tdmrep", crawl(T1, tdmrep=RESERVES, home=page('<meta name="tdm-reservation" content="0">')), False
    ),
    # Content-Signal only in a group naming GPTBot (the old reading: '*' group only → not adopted)
    "content-signal for GPTBot": Case(
        "content_signal",
        "content_signal",
        crawl(T1, robots=(b"User-agent: GPTBot\nContent-Signal: ai-train=no\nAllow: /\n\nUser-agent: *\nAllow: /\n")),
        True,
    ),
    # only in the homepage's header
    "content-signal header": Case(
        "content_signal",
        "content_signal",
        crawl(T1, home=page(headers={"content-signal": "search=yes, ai-train=no"})),
        True,
        agent="CCBot",
    ),
    "content-usage for CCBot": Case(
        "content_usage",
        "content_usage",
        crawl(T1, robots=(b"User-agent: *\nAllow: /\n\nUser-agent: CCBot\nContent-Usage: train-ai=n\nAllow: /\n")),
        True,
        agent="CCBot",
    ),
    "noai for GPTBot": Case("noai", "noai", crawl(T1, home=page('<meta name="GPTBot" content="noai">')), True),
}


@pytest.fixture(params=list(CASES))
def case_db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Case, str]:
    case = CASES[request.param]
    db = tmp_path / "r.db"
    engine = open_store(db)
    w = Writer(engine)
    w.record("site.example", crawl(T0))
    w.record("site.example", case.after)
    w.record(
        "site.example",
        [
            Observation(o.kind, T1 + timedelta(days=10), o.status, o.http_status, body=o.body, signals=o.signals)
            for o in case.after
        ],
    )  # seen again
    detect_changes(engine, [w.site_id("site.example")])
    engine.dispose()
    return case, str(db)


def _json(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.slow
def test_export_site_trends_and_events_agree(case_db: tuple[Case, str]) -> None:
    case, db = case_db
    state = "adopted" if case.adopted else "not adopted"
    # export latest
    record = _json("export", "latest", "--db", db)
    assert record["adoption"][case.signal] is case.adopted
    says = {a for a, v in record["agents"].items() if case.source in v["training_optout_sources"]}
    assert (case.agent in says) is case.adopted and bool(says) is case.adopted
    # site
    site = _json("site", "site.example", "--db", db, "--format", "json")
    assert site["current"]["adoption"][case.signal] is case.adopted
    changed = [c for h in site["history"] for c in h["changes"] if c["signal"] == case.signal]
    assert [(c["before"], c["after"]) for c in changed] == ([("not adopted", "adopted")] if case.adopted else [])
    # trends --signal
    rows = _json("trends", "--db", db, "--signal", case.signal, "--format", "json")["rows"]
    assert (rows[0]["sites"], rows[0]["adopting"]) == (1, 0)  # January: nothing said yet
    assert (rows[-1]["sites"], rows[-1]["adopting"]) == (1, int(case.adopted))
    # the change events
    events = _json("changes", "--db", db, "--signal", case.signal, "--format", "json")["rows"]
    assert [(e["before"], e["after"]) for e in events] == ([("not adopted", "adopted")] if case.adopted else [])
    assert all(e["after"] == state for e in events)


RULE_CASES = [
    {"robots": OPEN},
    {"robots": b"User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n"},
    {"robots": b"User-agent: GPTBot\nContent-Signal: ai-train=no\nAllow: /\n"},
    {"robots": b"User-agent: Foo\nContent-Signal: ai-train=no\nAllow: /\n"},  # a token no registry knows
    {
        "robots": b"User-agent: *\nContent-Usage: train-ai=n\nAllow: /\n\nUser-agent: GPTBot\nContent-Usage: train-ai=y\n"
        b"Allow: /\n"
    },
    {"robots": b"User-agent: GPTBot\nContent-Usage: train-ai=n\nAllow: /\n"},
    {"robots": b"User-agent: GPTBot\nDisallow: /\nContent-Usage: train-ai=n\n"},  # no preference where it may not go
    {"robots": OPEN, "homepage": page('<meta name="CCBot" content="noml">')},
    {"robots": OPEN, "homepage": page(headers={"content-usage": "train-ai=n"})},
    {"robots": OPEN, "homepage": page(headers={"tdm-reservation": "1"}), "tdmrep": None},
    {"robots": OPEN, "homepage": page(headers={"tdm-reservation": "0"}), "tdmrep": RESERVES},
]


@pytest.mark.parametrize("given", RULE_CASES)
def test_adoption_is_the_site_rule_for_some_agent(given: dict[str, Any]) -> None:
    resources = {
        k: (Res("absent") if v is None else Res("ok", signals=v) if isinstance(v, dict) else Res("ok", v))
        for k, v in given.items()
    }
    prefs = sig.site_preferences(resources)
    named = {t for k in ("robots",) if k in given for t in sig.robots_rules(resources[k]).agents_named()}  # type: ignore[union-attr]
    agents = {"GPTBot", "CCBot", "SomeOtherBot", *named}  # every answer the site can give: named, and not named
    for signal, source in (
        ("content_signal", "content_signal"),
        ("content_usage", "content_usage"),
        ("noai", "noai"),
        ("tdmrep", "tdmrep"),
    ):
        anyone = any(source in prefs.for_agent(a).sources for a in agents)
        assert (prefs.adoption[signal] is True) is anyone, (signal, given)  # type: ignore[index]
        assert ADOPTION[signal].reading(resources) is prefs.adoption[signal]  # type: ignore[index]


def test_moving_a_signal_between_resources_in_one_crawl_is_no_event(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "m.db")
    w = Writer(engine)
    cs = b"User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n"
    w.record("m.example", [Observation("robots", T0, "ok", 200, body=OPEN)])  # an archive: robots.txt only
    w.record("m.example", crawl(T0 + timedelta(days=20), robots=cs))  # the homepage first seen: a baseline
    w.record("m.example", crawl(T1, home=page(headers={"content-signal": "ai-train=no"})))  # moved to the header
    w.record("m.example", crawl(T1 + timedelta(days=30)))  # dropped
    detect_changes(engine, [w.site_id("m.example")])
    from tracker.store.changelog import list_changes

    got = [(c.signal, c.before, c.after, c.kind, c.at) for c in list_changes(engine) if c.signal == "content_signal"]
    assert got == [("content_signal", "adopted", "not adopted", "homepage", T1 + timedelta(days=30))]


def test_a_resource_first_observed_is_a_baseline(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "b.db")
    w = Writer(engine)
    w.record(
        "b.example",
        [
            Observation("robots", T0, "ok", 200, body=OPEN),
            Observation("robots", T0 + timedelta(days=30), "ok", 200, body=OPEN + b"# x\n"),
        ],
    )
    w.record("b.example", crawl(T1, home=page(headers={"content-signal": "ai-train=no"})))
    detect_changes(engine, [w.site_id("b.example")])
    from tracker.store.changelog import list_changes

    assert not [c for c in list_changes(engine) if c.signal == "content_signal"]  # reading it at last is not a change
