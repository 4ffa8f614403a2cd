"""The one training opt-out rule (tracker.rules.signals.preferences), and that every face reads only it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Res
from tracker.records.vocabulary import SIGNAL_NAMES
from tracker.rules import signals as sig
from tracker.rules.agents import load_registry
from tracker.rules.signals.preferences import ADOPTION, adopts


def home(*metas: str, headers: dict[str, str] | None = None) -> Res:
    html = "<html><head>" + "".join(metas) + "</head><body>hi</body></html>"
    return Res(
        "ok", signals=sig.page_signals(html.encode(), headers or {}, ["GPTBot", "Amazonbot", "Bingbot"]).as_dict()
    )


OPEN = Res("ok", b"User-agent: *\nAllow: /\n")


@pytest.mark.parametrize(
    ("resources", "agent", "sources"),
    [
        ({"robots": OPEN}, "GPTBot", ()),
        (
            {"robots": Res("ok", b"User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n")},
            "GPTBot",
            ("content_signal",),
        ),
        # a Content-Signal in a group naming the agent applies to it only
        (
            {"robots": Res("ok", b"User-agent: GPTBot\nContent-Signal: ai-train=no\nAllow: /\n")},
            "GPTBot",
            ("content_signal",),
        ),
        ({"robots": Res("ok", b"User-agent: GPTBot\nContent-Signal: ai-train=no\nAllow: /\n")}, "CCBot", ()),
        ({"robots": OPEN, "homepage": home('<meta name="robots" content="noai">')}, "GPTBot", ("noai",)),
        # noml is "no machine learning": a training opt-out like noai (the review's disagreement)
        ({"robots": OPEN, "homepage": home('<meta name="robots" content="noml">')}, "GPTBot", ("noai",)),
        ({"robots": OPEN, "homepage": home('<meta name="robots" content="noimageai">')}, "GPTBot", ()),
        # scoped to one agent
        ({"robots": OPEN, "homepage": home('<meta name="GPTBot" content="noai">')}, "GPTBot", ("noai",)),
        ({"robots": OPEN, "homepage": home('<meta name="GPTBot" content="noai">')}, "CCBot", ()),
        ({"robots": OPEN, "homepage": home(headers={"x-robots-tag": "GPTBot: noml"})}, "GPTBot", ("noai",)),
        # noarchive: a training control for Amazonbot and Bingbot only
        ({"robots": OPEN, "homepage": home('<meta name="robots" content="noarchive">')}, "Amazonbot", ("noarchive",)),
        ({"robots": OPEN, "homepage": home('<meta name="robots" content="noarchive">')}, "GPTBot", ()),
        ({"robots": OPEN, "homepage": home(headers={"content-usage": "train-ai=n"})}, "GPTBot", ("content_usage",)),
        ({"robots": Res("ok", b"User-agent: *\nContent-Usage: train-ai=n\nAllow: /\n")}, "GPTBot", ("content_usage",)),
        # Content-Usage belongs to its group: a group naming the agent replaces '*'
        (
            {
                "robots": Res(
                    "ok",
                    b"User-agent: *\nContent-Usage: train-ai=n\nAllow: /\n\nUser-agent: GPTBot\n"
                    b"Content-Usage: train-ai=y\nAllow: /\n",
                )
            },
            "GPTBot",
            (),
        ),
        ({"robots": OPEN, "tdmrep": Res("ok", b'[{"location": "/", "tdm-reservation": 1}]')}, "GPTBot", ("tdmrep",)),
        ({"robots": OPEN, "ai_txt": Res("ok", b"User-Agent: *\nDisallow: /\n")}, "GPTBot", ("ai_txt",)),
        ({"robots": OPEN, "terms": Res("ok", signals={"url": "/t", "ai_training": "prohibited"})}, "GPTBot", ("tos",)),
        (
            {
                "robots": Res("ok", b"User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n"),
                "homepage": home('<meta name="robots" content="noai">', headers={"tdm-reservation": "1"}),
            },
            "GPTBot",
            ("content_signal", "noai", "tdmrep"),
        ),
    ],
)
def test_training_optout_rule(resources: dict[str, Res], agent: str, sources: tuple[str, ...]) -> None:
    pref = sig.site_preferences(resources).for_agent(agent)
    assert pref.sources == sources
    # "no" needs robots.txt and the homepage observed; without the homepage, only a "yes" is known
    assert pref.training_optout is (True if sources else False if "homepage" in resources else None)


def test_not_fetched_is_unknown_not_no() -> None:
    prefs = sig.site_preferences({"robots": OPEN})
    d = prefs.as_dict()
    assert d["noai"] is None and d["ai_txt"] is None and d["llms_txt"] is None and d["tdm_reservation"] is None
    assert d["tos"]["ai_training"] == "unknown" and d["homepage_status"] is None  # not fetched (not a 404)
    assert prefs.for_agent("GPTBot").training_optout is None


def test_adoption_table_names_every_signal_of_the_vocabulary() -> None:
    assert tuple(ADOPTION) == SIGNAL_NAMES
    noml = home('<meta name="robots" content="noml">')
    assert adopts("noai", noml)  # the same rule as exports: noml is a training opt-out
    assert not adopts("noimageai", noml)
    assert not adopts("tdmrep", Res("ok", b"{not json"))


def _db_with_noml_page(tmp_path: Path) -> Any:
    from tracker.store import open_store
    from tracker.store.writer import Observation, Writer

    engine = open_store(tmp_path / "t.db")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    page = sig.page_signals(b'<html><head><meta name="robots" content="noml"></head></html>', {}).as_dict()
    Writer(engine).record(
        "noml.example",
        [
            Observation("robots", at, "ok", 200, body=b"User-agent: *\nAllow: /\n"),
            Observation("homepage", at, "ok", 200, signals=page),
            Observation("robots", at + timedelta(days=40), "ok", 200, body=b"User-agent: *\nAllow: /\n"),
            Observation("homepage", at + timedelta(days=40), "ok", 200, signals=page),
        ],
    )
    return engine


def test_export_site_and_trends_agree_on_noml(tmp_path: Path) -> None:
    from tracker.analysis.latest import latest_records, site_history
    from tracker.analysis.trends import signal_series

    engine = _db_with_noml_page(tmp_path)
    reg = load_registry()
    rec = next(latest_records(engine, reg))
    assert rec.agents["GPTBot"].training_optout_sources == ("noai",)
    assert rec.signals.noml is True
    site = site_history(engine, reg, "noml.example", ["GPTBot"])
    assert site is not None and site.current is not None
    assert json.dumps(site.current.as_dict()) == json.dumps(rec.as_dict())
    rows = signal_series(engine, ["noai"])
    assert rows and rows[-1].adopting == 1


def test_adoption_is_computed_once_per_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.analysis.trends import signal_series
    from tracker.store import open_store, queries
    from tracker.store.writer import Observation, Writer

    engine = open_store(tmp_path / "a.db")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    w = Writer(engine)
    for i in range(6):
        body = b"User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n" if i % 2 else b"User-agent: *\nAllow: /\n"
        w.record(
            f"s{i}.example",
            [
                Observation("robots", at, "ok", 200, body=body + f"# {i}\n".encode()),
                Observation("robots", at + timedelta(days=31), "ok", 200, body=body + f"# {i}\n".encode()),
            ],
        )
    first = signal_series(engine, ["content_signal"])
    assert first[-1].sites == 6 and first[-1].adopting == 3

    def no_bodies(*_a: object, **_k: object) -> object:
        raise AssertionError("a body was read again")

    monkeypatch.setattr(queries, "bodies_by_id", no_bodies)
    assert signal_series(engine, ["content_signal"]) == first  # from the cache, not a single body read
