"""The CLI as a user runs it: on real corpus files, on standard input, and against a real HTTP server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.cli import app

runner = CliRunner()


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.output


@needs_corpus
def test_robots_on_a_real_file_json() -> None:
    path = corpus_path("history", "nytimes.com", "2024-06-23.txt")
    code, output = invoke(
        "robots", str(path), "-a", "GPTBot", "-a", "Googlebot", "-u", "/", "-u", "/search?q=x", "--format", "json"
    )
    assert code == 0, output
    report = json.loads(output)
    by = {a["agent"]: a for a in report["agents"]}
    assert by["GPTBot"]["stance"] == "full_block" and by["GPTBot"]["named"] is True
    assert by["GPTBot"]["purpose"] == "training" and by["GPTBot"]["company"] == "OpenAI"
    assert [u["allowed"] for u in by["GPTBot"]["urls"]] == [False, False]
    assert by["Googlebot"]["urls"][0]["allowed"] is True
    assert report["fetch"]["status"] == "ok" and report["parse"]["groups"] > 10


@needs_corpus
def test_robots_table_default_panel() -> None:
    path = corpus_path("history", "nytimes.com", "2024-06-23.txt")
    code, output = invoke("robots", str(path))
    assert code == 0, output
    for token in ("GPTBot", "CCBot", "Google-Extended", "full_block", "named"):
        assert token in output


def test_robots_from_stdin_and_csv_is_formula_safe() -> None:
    body = "User-agent: *\nDisallow: /\n"
    code, output = invoke("robots", "-", "-a", "GPTBot", "-u", "=HYPERLINK(1)", "--format", "csv", input=body)
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[0].startswith("target,fetch_status,agent")
    assert "'=HYPERLINK(1)" in lines[1] and ",full_block," in lines[1]


def test_robots_markup_in_content_is_printed_literally() -> None:
    body = "User-agent: *\nDisallow: /[bold red]x[/bold red]\nContent-Signal: [link=http://evil]ai-train=no\n"
    code, output = invoke("robots", "-", "-a", "GPTBot", input=body)
    assert code == 0
    assert "[link=http://evil]ai-train=no" in output


def test_robots_bad_target_is_a_clear_error(tmp_path: Path) -> None:
    code, output = invoke("robots", str(tmp_path / "missing file.txt"))
    assert code == 2 and "no such file" in output
    code, output = invoke("robots", "not_a_domain")
    assert code == 2 and "neither a file nor a domain" in output
    code, output = invoke("robots", str(tmp_path))
    assert code == 2 and "not a regular file" in output


def test_robots_rejects_unknown_format() -> None:
    code, output = invoke("robots", "-", "--format", "xml", input="")
    assert code == 2 and "--format" in output


def test_agents_list_filters_and_formats() -> None:
    code, output = invoke("agents", "list", "--purpose", "control", "--format", "json")
    assert code == 0
    tokens = {a["token"] for a in json.loads(output)}
    assert {"Google-Extended", "Applebot-Extended"} <= tokens
    assert all(a["purpose"] == "control" for a in json.loads(output))
    code, output = invoke("agents", "list", "--company", "anthropic", "--format", "csv")
    assert code == 0 and "ClaudeBot" in output and "GPTBot" not in output


def test_agents_sync_from_file_merges_without_losing_our_purposes(tmp_path: Path) -> None:
    registry = tmp_path / "agents.json"
    registry.write_text(
        json.dumps(
            {
                "agents": [
                    {"token": "GPTBot", "company": "OpenAI", "purpose": "training", "docs": "https://ours"},
                    {"token": "OAI-SearchBot", "company": "OpenAI", "purpose": "search"},
                ]
            }
        )
    )
    upstream = tmp_path / "robots.json"
    upstream.write_text(
        json.dumps(
            {
                "GPTBot": {"operator": "OpenAI", "function": "AI Assistants", "respect": "Yes"},
                "NewBot": {
                    "operator": "New Co",
                    "function": "AI Data Scrapers",
                    "respect": "Yes",
                    "description": "x. More info can be found at https://newbot.example/docs",
                },
                "MistralAI-User/1.0": {
                    "operator": "Mistral",
                    "function": "AI Assistants",
                    "respect": "Unclear at this time.",
                },
            }
        )
    )
    code, output = invoke("agents", "sync", "--source", str(upstream), "--agents-file", str(registry), "--dry-run")
    assert code == 0 and "2 new agents" in output and "nothing written" in output
    assert "NewBot" not in registry.read_text()
    code, output = invoke("agents", "sync", "--source", str(upstream), "--agents-file", str(registry))
    assert code == 0, output
    data = {a["token"]: a for a in json.loads(registry.read_text())["agents"]}
    assert data["GPTBot"]["purpose"] == "training" and data["GPTBot"]["docs"] == "https://ours"
    assert data["NewBot"]["purpose"] == "training" and data["NewBot"]["docs"] == "https://newbot.example/docs"
    assert data["MistralAI-User"]["purpose"] == "user" and data["MistralAI-User"]["upstream_names"] == [
        "MistralAI-User/1.0"
    ]


def test_agents_sync_offline_is_a_clear_error(tmp_path: Path) -> None:
    registry = tmp_path / "agents.json"
    registry.write_text(json.dumps({"agents": []}))
    code, output = invoke(
        "agents", "sync", "--source", "http://127.0.0.1:9/robots.json", "--agents-file", str(registry), "--timeout", "2"
    )
    assert code == 2 and "cannot fetch" in output and "--source PATH" in output


def test_agents_sync_rejects_malformed_upstream(tmp_path: Path) -> None:
    registry = tmp_path / "agents.json"
    registry.write_text(json.dumps({"agents": []}))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    code, output = invoke("agents", "sync", "--source", str(bad), "--agents-file", str(registry))
    assert code == 2 and "not JSON" in output


def test_settings_lists_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", "/tmp/x.db")
    code, output = invoke("settings", "--format", "json")
    assert code == 0 and json.loads(output)["db"] == "/tmp/x.db"
    monkeypatch.setenv("CONSENT_TRACKER_TIMEOUT", "soon")
    code, output = invoke("settings")
    assert code == 2 and "CONSENT_TRACKER_TIMEOUT" in output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["robots", "--help"],
        ["agents", "--help"],
        ["agents", "list", "--help"],
        ["agents", "sync", "--help"],
        ["settings", "--help"],
    ):
        code, output = invoke(*args)
        assert code == 0 and "Usage" in output, args


# -- a real server on loopback ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    seen_agents: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen_agents.append(self.headers.get("User-Agent", ""))
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    _Handler.routes = {
        "/robots.txt": (301, {"Location": "/real-robots.txt"}, b""),
        "/real-robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: GPTBot\nDisallow: /\n"),
    }
    _Handler.seen_agents = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.network_local
@pytest.mark.slow
def test_installed_command_fetches_over_a_real_socket(web: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "tracker",
        "robots",
        f"{web}/",
        "-a",
        "GPTBot",
        "-a",
        "CCBot",
        "--format",
        "json",
        "--allow-private",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["fetch"]["status"] == "ok" and report["fetch"]["redirects"] == [f"{web}/real-robots.txt"]
    by = {a["agent"]: a["stance"] for a in report["agents"]}
    assert by == {"GPTBot": "full_block", "CCBot": "allowed"}
    assert _Handler.seen_agents and "consent-tracker/" in _Handler.seen_agents[0]


@pytest.mark.network_local
@pytest.mark.slow
def test_loopback_refused_without_allow_private(web: str) -> None:
    code, output = invoke("robots", f"{web}/", "-a", "GPTBot", "--format", "json", "--no-allow-private")
    assert code == 0
    report = json.loads(output)
    assert report["fetch"]["status"] == "network_error" and "private_address" in report["fetch"]["error"]
    assert report["agents"][0]["stance"] == "unreachable"
    assert _Handler.seen_agents == []  # nothing reached the server


@pytest.mark.slow
def test_crawl_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    code, output = invoke("crawl", "--db", db)
    assert code == 2 and "no tracked sites" in output and "sites add" in output
    code, output = invoke("crawl", "--sites", str(tmp_path / "none.csv"), "--db", db)
    assert code == 2 and "cannot read" in output
    bad = tmp_path / "bad.txt"
    bad.write_text("not a domain\n???\n")
    code, output = invoke("crawl", "--sites", str(bad), "--db", db)
    assert code == 2 and "no valid domains" in output
    good = tmp_path / "good.txt"
    good.write_text("example.com\n")
    code, output = invoke("crawl", "--sites", str(good), "--db", db, "--connect-to", "nonsense")
    assert code == 2 and "HOST:PORT:ADDR:PORT" in output
    code, output = invoke("crawl", "--sites", str(good), "--db", db, "--resources", "homepage,spam")
    assert code == 2 and "resources must include robots" in output


def test_export_latest_on_an_empty_database(tmp_path: Path) -> None:
    from tracker.store import open_store

    open_store(tmp_path / "e.db")
    code, output = invoke("export", "latest", "--db", str(tmp_path / "e.db"), "--format", "csv")
    assert code == 0 and output.startswith("domain,fetched_at,robots_status")
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command", [["export", "latest"], ["trends"], ["site", "example.com"], ["trends", "--signal", "noai"]]
)
def test_read_commands_on_a_missing_database_name_the_path(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "typo" / "trackr.db"
    code, output = invoke(*command, "--db", str(missing))
    assert code == 2 and str(missing) in output and "no database" in output
    assert not missing.exists() and not missing.parent.exists()  # nothing created


@needs_corpus
@pytest.mark.parametrize("columns", ["80", ""])
@pytest.mark.slow
def test_robots_table_stays_readable_piped_and_at_80_columns(columns: str) -> None:
    # Piped, or in an 80-column terminal, the deciding rules must not be squeezed into a four-character column.
    import os

    path = corpus_path("history", "nytimes.com", "2024-06-23.txt")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | ({"COLUMNS": columns} if columns else {})
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", "robots", str(path), "-a", "GPTBot", "-a", "CCBot"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    table = [line for line in lines if line.startswith(("┃", "│", "┏", "┡", "└"))]
    assert table and max(len(line) for line in table) <= 80
    gpt = next(line for line in lines if line.startswith("GPTBot: "))
    assert "line 164: Disallow: /" in gpt  # the whole deciding rule with its line number


def test_agents_sync_never_writes_into_an_installed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed copy's packaged registry is not the user's to rewrite: sync asks for a file of one's own, and a
    new file starts from the packaged registry."""
    from tracker.rules import agents

    packaged = tmp_path / "venv" / "lib" / "site-packages" / "tracker" / "data" / "agents.json"
    packaged.parent.mkdir(parents=True)
    packaged.write_text(agents.default_registry_path().read_text())
    monkeypatch.setattr(agents, "default_registry_path", lambda: packaged)
    monkeypatch.delenv("CONSENT_TRACKER_AGENTS_FILE", raising=False)
    upstream = tmp_path / "robots.json"
    upstream.write_text(
        json.dumps({"NewBot": {"operator": "New Co", "function": "AI Data Scrapers", "respect": "Yes"}})
    )
    before = packaged.read_bytes()
    code, output = invoke("agents", "sync", "--source", str(upstream))
    assert code == 2 and "--agents-file is needed" in output and "installed package" in output
    assert packaged.read_bytes() == before
    mine = tmp_path / "mine.json"
    code, output = invoke("agents", "sync", "--source", str(upstream), "--agents-file", str(mine))
    assert code == 0, output
    tokens = {a["token"] for a in json.loads(mine.read_text())["agents"]}
    assert "NewBot" in tokens and "GPTBot" in tokens  # the packaged agents, plus upstream's new one
