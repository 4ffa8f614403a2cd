"""Change events (every kind, reversals, outages skipped, backfills in between), the `changes` and `site`
commands, the Atom feeds and the webhook (a real receiver on loopback)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from aiohttp import web
from lxml import etree
from sqlalchemy import Engine
from typer.testing import CliRunner

from tracker.cli import app
from tracker.operations.demo.loopback import LoopbackServer
from tracker.pipeline.changes import detect_changes, list_events
from tracker.publishing.feeds import ATOM_NS, post_webhook, write_feeds
from tracker.store import open_store
from tracker.store.changelog import list_changes
from tracker.store.writer import Observation, Writer

OPEN = b"User-agent: *\nDisallow: /private/\n"
BLOCK_GPT = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
BLOCK_GPT_SITEMAP = BLOCK_GPT + b"Sitemap: https://a.test/sitemap.xml\n"
AGENTS = ["GPTBot", "CCBot"]


def day(n: int) -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n)


def robots(n: int, body: bytes | None, status: str = "ok", source: str = "live") -> Observation:
    return Observation("robots", day(n), status, 200 if body is not None else 503, body=body, source=source)  # type: ignore[arg-type]


def homepage(n: int, noai: bool | None) -> Observation:
    if noai is None:
        return Observation("homepage", day(n), "unreachable", 503)
    meta = [{"directives": ["noai", "noimageai"] if noai else ["index"]}]
    return Observation("homepage", day(n), "ok", 200, signals={"meta_robots": meta, "x_robots_tag": []})


def sid(engine: Engine, domain: str) -> int:
    return Writer(engine).site_id(domain)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    e = open_store(store_url)
    w = Writer(e)
    w.record(
        "a.test",
        [
            robots(0, OPEN),
            robots(10, BLOCK_GPT),
            robots(20, None, "unreachable"),
            robots(21, BLOCK_GPT),
            robots(30, BLOCK_GPT_SITEMAP),
            robots(40, OPEN),
            homepage(0, False),
            homepage(5, True),
            homepage(12, None),
            homepage(15, True),
            homepage(45, False),
        ],
    )
    detect_changes(e, [sid(e, "a.test")], AGENTS)
    yield e
    e.dispose()


def _events(engine: Engine) -> list[tuple[str, str, str, str, str, int]]:
    return [
        (c.signal, c.agent, c.before, c.after, c.change, (c.at - day(0)).days) for c in reversed(list_changes(engine))
    ]


def test_every_kind_of_change_once_outages_and_content_only_changes_are_not_events(engine: Engine) -> None:
    events = _events(engine)
    assert ("robots", "GPTBot", "partial_block via *", "full_block", "restriction", 10) in events
    assert ("robots", "GPTBot", "full_block", "partial_block via *", "reversal", 40) in events
    assert ("noai", "", "not adopted", "adopted", "restriction", 5) in events
    assert ("noai", "", "adopted", "not adopted", "reversal", 45) in events
    # Also read from the same versions, and only on the real changes:
    assert ("noimageai", "", "not adopted", "adopted", "restriction", 5) in events
    assert ("noimageai", "", "adopted", "not adopted", "reversal", 45) in events
    # CCBot's stance never changed ('*' allows '/'), the outage on day 20 and the homepage's on day 12 are not
    # changes, nor is the Sitemap line of day 30 — so nothing else:
    assert len(events) == 6
    assert not any(e[5] in (12, 15, 20, 21, 30) for e in events)


def test_partial_and_via_star_changes_are_modifications() -> None:
    e = open_store("sqlite://")
    Writer(e).record(
        "b.test",
        [
            robots(0, b"User-agent: *\nDisallow: /\n"),
            robots(5, b"User-agent: *\nDisallow: /\nUser-agent: GPTBot\nDisallow: /\n"),
            robots(9, b"User-agent: *\nDisallow: /x/\nUser-agent: GPTBot\nDisallow: /y/\n"),
        ],
    )
    detect_changes(e, [sid(e, "b.test")], ["GPTBot"])
    assert _events(e) == [
        ("robots", "GPTBot", "full_block via *", "full_block", "modification", 5),  # now named: still blocked
        ("robots", "GPTBot", "full_block", "partial_block", "reversal", 9),  # '/' is open again
    ]


def test_a_backfill_between_known_versions_corrects_events_and_keeps_ids(engine: Engine) -> None:
    before = {(c.signal, c.agent, c.at): c.id for c in list_changes(engine)}
    # The archive shows that GPTBot was blocked a month before the first live crawl, then unblocked: the first
    # live version is no longer the baseline, and the site's first event is a reversal.
    Writer(engine).record("a.test", [robots(-30, BLOCK_GPT, source="wayback"), robots(-20, OPEN, source="wayback")])
    detect_changes(engine, [sid(engine, "a.test")], AGENTS)
    events = _events(engine)
    assert events[0] == ("robots", "GPTBot", "full_block", "partial_block via *", "reversal", -20)
    assert ("robots", "GPTBot", "partial_block via *", "full_block", "restriction", 10) in events
    after = {(c.signal, c.agent, c.at): c.id for c in list_changes(engine)}
    assert len(after) == 7 and before.keys() <= after.keys()
    assert all(before[k] == after[k] for k in before)  # the events that still hold keep their ids


@pytest.mark.slow
def test_changes_command_filters_and_shows_diffs(engine: Engine, store_url: str) -> None:
    db = store_url
    r = CliRunner().invoke(app, ["changes", "--db", db, "--type", "reversal", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["rows"]
    assert {(x["signal"], x["agent"]) for x in rows} == {("robots", "GPTBot"), ("noai", None), ("noimageai", None)}
    gpt = next(x for x in rows if x["signal"] == "robots")
    assert "-User-agent: GPTBot" in gpt["robots_diff"] and gpt["id"].startswith("urn:uuid:")
    r = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["changes", "--db", db, "-a", "gptbot", "--since", "2024-01-08", "--until", "2024-01-11"]
    )
    assert "1 change, newest first" in r.output
    assert r.exit_code == 0 and "restriction" in r.output and "reversal" not in r.output
    r = CliRunner().invoke(app, ["changes", "--db", db, "--type", "nonsense"])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["changes", "--db", db, "--format", "csv", "--signal", "robots"])
    assert r.output.splitlines()[0].startswith("id,site,category,resource,signal,agent,before,after,change")
    assert all("'--- robots.txt" in line or not line.startswith("--") for line in r.output.splitlines())


def test_site_shows_what_each_version_changed(engine: Engine, store_url: str) -> None:
    r = CliRunner().invoke(app, ["site", "a.test", "--db", store_url, "-a", "GPTBot", "--format", "json"])
    hist = json.loads(r.output)["history"]
    robots_h = [h for h in hist if h["kind"] == "robots"]
    assert robots_h[0]["first"] and robots_h[0]["agents"] == {"GPTBot": "partial_block"}
    assert robots_h[1]["changes"] == [
        {
            "agent": "GPTBot",
            "signal": "robots",
            "before": "partial_block via *",
            "after": "full_block",
            "change": "restriction",
        }
    ]
    assert robots_h[2]["status"] == "unreachable" and robots_h[2]["changes"] == []
    r = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["site", "a.test", "--db", store_url, "-a", "GPTBot"])
    assert "GPTBot partial_block via * → full_block (restriction)" in r.output
    assert "fetch failed" in r.output and "content only" in r.output


def test_feeds_are_valid_atom_with_text_only_content(engine: Engine, tmp_path: Path) -> None:
    Writer(engine).record(
        "evil.test", [robots(0, OPEN), robots(3, b"<script>alert(1)</script>\nUser-agent: GPTBot\nDisallow: /\n")]
    )
    detect_changes(engine, [sid(engine, "evil.test")], AGENTS)
    paths = write_feeds(engine, tmp_path / "feeds", "http://127.0.0.1:8501")
    names = {p.relative_to(tmp_path / "feeds").as_posix() for p in paths}
    assert {"all.atom", "site/a.test.atom", "site/evil.test.atom"} <= names
    for p in paths:
        d = feedparser.parse(p.read_bytes())
        assert not d.bozo and d.version == "atom10", p
        root = etree.fromstring(p.read_bytes())
        for required in ("id", "title", "updated", "author"):
            assert root.find(f"{{{ATOM_NS}}}{required}") is not None
        for entry in root.findall(f"{{{ATOM_NS}}}entry"):
            for required in ("id", "title", "updated", "content"):
                assert entry.find(f"{{{ATOM_NS}}}{required}") is not None
            assert entry.find(f"{{{ATOM_NS}}}content").get("type") == "text"
    evil = (tmp_path / "feeds" / "site" / "evil.test.atom").read_text()
    assert "<script>" not in evil and "&lt;script&gt;" in evil  # fetched content is text, never markup
    d = feedparser.parse((tmp_path / "feeds" / "site" / "a.test.atom").read_bytes())
    assert d.entries[0].link.startswith("http://127.0.0.1:8501/sites?site=a.test&from=")
    assert len({e.id for e in feedparser.parse((tmp_path / "feeds" / "all.atom").read_bytes()).entries}) == 8


class Receiver(LoopbackServer):
    """A webhook receiver on loopback that fails the first ``failures`` posts."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures
        self.received: list[dict] = []
        self.posts = 0
        self.port = 0

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        site = web.TCPSite(await self._runner_for(app), "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _hook(self, request: web.Request) -> web.Response:
        self.posts += 1
        body = await request.json()
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=503)
        self.received += body["events"]
        await asyncio.sleep(0)
        return web.Response(status=204)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def test_webhook_gets_each_live_event_once_and_retries(engine: Engine) -> None:
    Writer(engine).record("old.test", [robots(0, OPEN, source="wayback"), robots(3, BLOCK_GPT, source="wayback")])
    detect_changes(engine, [sid(engine, "old.test")], AGENTS)
    hook = Receiver(failures=2).start()
    try:
        r = post_webhook(engine, hook.url, base_url="http://dash", backoff=0.01)
        assert r.delivered == 6 and r.error is None and hook.posts == 3  # two 503s, then accepted
        assert {e["site"] for e in hook.received} == {"a.test"}  # history from the archive is not pushed
        assert len({e["id"] for e in hook.received}) == 6
        gpt = next(e for e in hook.received if e["agent"] == "GPTBot" and e["change"] == "restriction")
        assert "+User-agent: GPTBot" in gpt["robots_diff"] and gpt["link"].startswith("http://dash/sites?site=a.test")
        again = post_webhook(engine, hook.url, backoff=0.01)
        assert again.delivered == 0 and len(hook.received) == 6 and hook.posts == 3
        # A new live change is delivered alone.
        Writer(engine).record("a.test", [robots(50, BLOCK_GPT)])
        detect_changes(engine, [sid(engine, "a.test")], AGENTS)
        post_webhook(engine, hook.url, backoff=0.01)
        assert len(hook.received) == 7 and hook.received[-1]["at"].startswith("2024-02-20")
    finally:
        hook.stop()


def test_webhook_down_leaves_events_pending_and_never_raises(engine: Engine) -> None:
    r = post_webhook(engine, "http://127.0.0.1:9/hook", retries=1, backoff=0.01, timeout=1)
    assert r.delivered == 0 and r.pending == 6 and "ConnectError" in (r.error or "")
    assert len(list_events(engine)) == 6
