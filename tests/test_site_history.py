"""`site` shows every change (issue 17, item 8): the core panel by default, each agent whose stance a version changed,
and each agent's stance today; and the stored change events follow that one agent set whatever wrote the versions."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import date
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis.latest import site_agents, site_history
from tracker.cli import app
from tracker.pipeline.archive_import import import_archive
from tracker.pipeline.changes import CHANGE_AGENTS, EVENTS_VERSION, run_changes
from tracker.records.site import version_summary
from tracker.rules.agents import CORE_PANEL, Agent, AgentRegistry, load_registry
from tracker.store import catalog, open_store, queries
from tracker.store.changelog import list_changes, sync_changes

REG = load_registry()


def _nytimes(tmp_path: Path) -> Path:
    """The corpus' nytimes.com history, imported alone."""
    arch = tmp_path / "archive"
    shutil.copytree(corpus_path("history", "nytimes.com"), arch / "nytimes.com")
    db = tmp_path / "ny.db"
    import_archive(open_store(db), arch)
    return db


def test_the_default_panel_is_the_core_panel() -> None:
    panel = site_agents(REG)
    assert panel == [t for t in CORE_PANEL if t != "*"]  # every core token is in the default registry
    assert {"CCBot", "Google-Extended", "Applebot-Extended", "Bytespider", "GPTBot", "ClaudeBot"} <= set(panel)
    assert site_agents(REG, ["gptbot", "CCBot"]) == ["GPTBot", "CCBot"]  # as the registry spells them
    small = AgentRegistry([Agent("GPTBot", "OpenAI", "training"), Agent("CCBot", "Common Crawl", "training")])
    assert site_agents(small) == ["GPTBot", "CCBot"]  # the core tokens the registry has
    assert list(CHANGE_AGENTS) == panel  # the stored events follow the same agents


@needs_corpus
def test_nytimes_versions_name_the_agents_they_blocked(tmp_path: Path) -> None:
    db = _nytimes(tmp_path)
    info = site_history(open_store(db), REG, "nytimes.com", site_agents(REG))
    assert info is not None
    by_day = {f"{h.first_seen:%Y-%m-%d}": h for h in info.history if h.kind == "robots"}
    ccbot = by_day["2023-04-09"]  # User-agent: CCBot / Disallow: / added
    assert [(c.agent, c.after, c.change) for c in ccbot.changes] == [("CCBot", "full_block", "restriction")]
    assert version_summary(ccbot) == "CCBot partial_block via * → full_block (restriction)"
    extended = by_day["2023-10-15"]  # User-agent: Google-Extended / Disallow: / added
    assert {c.agent for c in extended.changes} == {"Google-Extended"}
    assert "content only" not in version_summary(extended)
    assert info.agents["CCBot"].stance == "full_block" and info.agents["CCBot"].allowed_root is False
    assert set(info.agents) == set(site_agents(REG))
    # the stored events say the same
    events = {(e.agent, e.at.date()) for e in list_changes(open_store(db), domain="nytimes.com")}
    assert ("CCBot", date(2023, 4, 9)) in events and ("Google-Extended", date(2023, 10, 15)) in events


@needs_corpus
@pytest.mark.slow
def test_site_command_prints_the_changes_and_todays_stances(tmp_path: Path) -> None:
    db = _nytimes(tmp_path)
    runner = CliRunner()
    out = runner.invoke(app, ["site", "nytimes.com", "--db", str(db)]).output
    changed: dict[str, str] = {}  # the history table's "from" → its "what changed" cell, unwrapped
    day = ""
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 5:
            day = cells[1] or day
            changed[day] = f"{changed.get(day, '')} {cells[4]}".strip()
    assert changed["2023-04-09"] == "CCBot partial_block via * → full_block (restriction)"
    assert changed["2023-10-15"] == "Google-Extended partial_block via * → full_block (restriction)"
    assert "now, per agent" in out and "Applebot-Extended" in out
    data = json.loads(runner.invoke(app, ["site", "nytimes.com", "--db", str(db), "--format", "json"]).output)
    assert data["agents"]["Google-Extended"]["stance"] == "full_block"
    assert data["agents"]["GPTBot"]["training_optout"] is None  # no homepage: not observed
    only = json.loads(
        runner.invoke(app, ["site", "nytimes.com", "--db", str(db), "--format", "json", "-a", "GPTBot"]).output
    )
    assert list(only["agents"]) == ["GPTBot"]


def test_a_crawl_with_its_own_agents_file_makes_the_same_events(tmp_path: Path) -> None:
    # The crawl reads homepages for its --agents-file's tokens, but its change events follow CHANGE_AGENTS, as an
    # archive import's do: the same robots.txt history gives the same events whatever wrote it.
    from tracker.fetch.http import make_client
    from tracker.pipeline.crawl import CrawlConfig, run_crawl
    from tracker.rules.sitelist import SiteEntry

    bodies = [
        b"User-agent: *\nAllow: /\n",
        b"User-agent: CCBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /\n",
    ]
    crawled = open_store(tmp_path / "crawl.db")
    served = {"body": bodies[0]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, content=served["body"], headers={"content-type": "text/plain"})
        return httpx.Response(404)

    async def crawl() -> None:
        config = CrawlConfig(allow_private=True, delay=0, agent_tokens=("GPTBot",), resources=("robots",))
        for body in bodies:
            served["body"] = body
            async with make_client(transport=httpx.MockTransport(handler)) as client:
                await run_crawl(crawled, [SiteEntry("a.example")], config, source="test", client=client)

    asyncio.run(crawl())
    arch = tmp_path / "archive" / "a.example"
    arch.mkdir(parents=True)
    (arch / "2024-01-01.txt").write_bytes(bodies[0])
    (arch / "2024-02-01.txt").write_bytes(bodies[1])
    imported = open_store(tmp_path / "import.db")
    import_archive(imported, tmp_path / "archive")

    def agents(engine: object) -> set[tuple[str, str]]:
        return {(c.agent, c.after) for c in list_changes(engine) if c.signal == "robots"}  # type: ignore[arg-type]

    assert agents(crawled) == agents(imported) == {("CCBot", "full_block"), ("Google-Extended", "full_block")}


@pytest.mark.slow
def test_events_made_under_another_definition_are_recomputed(tmp_path: Path) -> None:
    arch = tmp_path / "archive" / "a.example"
    arch.mkdir(parents=True)
    (arch / "2024-01-01.txt").write_text("User-agent: *\nAllow: /\n")
    (arch / "2024-02-01.txt").write_text("User-agent: CCBot\nDisallow: /\n")
    engine = open_store(tmp_path / "e.db")
    report = import_archive(engine, tmp_path / "archive")
    assert report.run_id is not None
    assert catalog.get_meta(engine, "change-events") == EVENTS_VERSION
    before = {c.id for c in list_changes(engine)}
    assert before
    # An older database: events made under another definition, which lacked these.
    catalog.set_meta(engine, "change-events", "agents=GPTBot;adoption=1;parser=1")
    site = queries.find_site(engine, "a.example")
    assert site is not None
    sync_changes(engine, {site.id: []})
    assert not list_changes(engine)
    assert run_changes(engine, report.run_id) == len(before)  # the run added nothing, yet every site is recomputed
    assert catalog.get_meta(engine, "change-events") == EVENTS_VERSION
