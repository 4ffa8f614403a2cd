"""A small store with every resource kind and every change type, built only from the writer and the parsers, so
the same store can be built by this code and by the code before the typed records (tests/golden/records.json
holds what the CLI printed from it then; tests/test_records.py compares against it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker.pipeline.changes import CHANGE_AGENTS, detect_changes
from tracker.rules import signals as sig
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

OPEN = b"User-agent: *\nDisallow: /private/\n"
BLOCK = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
SIGNALLED = b"User-agent: *\nContent-Signal: search=yes, ai-train=no\nContent-Usage: train-ai=n\nDisallow: /x/\n"
HOME = (
    b'<html><head><meta name="robots" content="noai, noimageai"><meta name="tdm-reservation" content="1">'
    b'<link rel="license" type="application/rsl+xml" href="https://a.test/rsl.xml"></head>'
    b'<body><footer><a href="/terms">Terms of Service</a></footer></body></html>'
)
PLAIN_HOME = b"<html><head><title>b</title></head><body>hello</body></html>"
TERMS = (
    b"<html><body><h1>Terms</h1><p>You may not use any automated means, robots or scrapers to access the site.</p>"
    b"<p>You may not use the content to train artificial intelligence or machine learning models.</p></body></html>"
)
TDMREP = b'[{"location": "/", "tdm-reservation": 1, "tdm-policy": "https://a.test/policy.json"}]'
AI_TXT = b"User-Agent: *\nDisallow: /\n"
LLMS = b"# A docs\n\n## Docs\n- [Intro](https://a.test/intro.md)\n"
RSL = (
    b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    b'<permits type="usage">search</permits><prohibits type="usage">ai-train</prohibits></license></content></rsl>'
)


def day(n: int) -> datetime:
    return datetime(2025, 3, 1, 12, tzinfo=UTC) + timedelta(days=n)


def build(path: Path) -> str:
    """Write the store at ``path``; return its URL."""
    engine = open_store(path)
    w = Writer(engine)
    home = sig.page_signals(HOME, {"x-robots-tag": "noml", "content-signal": "ai-train=no"}).as_dict()
    terms = sig.tos_signals(TERMS, "https://a.test/terms", "footer_text", "a.test").as_dict()
    w.record(
        "a.test",
        [
            Observation("robots", day(0), "ok", 200, body=OPEN),
            Observation("homepage", day(0), "ok", 200, signals=sig.page_signals(PLAIN_HOME, {}).as_dict()),
            Observation("robots", day(10), "ok", 200, body=BLOCK),
            Observation("robots", day(20), "unreachable", 503, error="HTTP 503"),
            Observation("robots", day(30), "ok", 200, body=SIGNALLED),
            Observation("homepage", day(30), "ok", 200, signals=home),
            Observation("terms", day(30), "ok", 200, signals=terms),
            Observation("tdmrep", day(30), "ok", 200, body=TDMREP),
            Observation("ai_txt", day(30), "ok", 200, body=AI_TXT),
            Observation("llms_txt", day(30), "ok", 200, body=LLMS),
            Observation("rsl", day(30), "ok", 200, body=RSL),
            Observation("robots", day(40), "ok", 200, body=OPEN),
        ],
    )
    w.record(
        "b.test",
        [
            Observation("robots", day(0), "ok", 200, body=BLOCK, source="archive"),
            Observation("robots", day(5), "no_robots", 404, source="archive"),
        ],
    )
    w.record(
        "c.test",
        [
            Observation("robots", day(1), "ok", 200, body=OPEN, final_url="https://www.c.test/robots.txt"),
            Observation(
                "homepage",
                day(1),
                "ok",
                200,
                signals=sig.page_signals(PLAIN_HOME, {"content-usage": "train-ai=n"}).as_dict(),
            ),
            Observation(
                "terms", day(1), "network_error", None, signals={"url": "https://c.test/tos", "host": "c.test"}
            ),
            Observation("tdmrep", day(1), "absent", 404),
        ],
    )
    ids = [w.site_id(d) for d in ("a.test", "b.test", "c.test")]
    detect_changes(engine, ids, list(CHANGE_AGENTS))
    engine.dispose()
    return str(path)
