"""Tracked site lists: a fixed panel and a moving top-N, from files and from a Tranco server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.cli import app
from tracker.pipeline.tracking import add_sites, download_tranco, tracked_entries
from tracker.rules.sitelist import parse_site_list
from tracker.store import open_store

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_panel_grows_top_is_replaced_history_stays(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "t.db")
    add_sites(engine, parse_site_list("a.example\nb.example\n").sites, list_name="panel", kind="panel")
    r = add_sites(engine, parse_site_list("b.example\nc.example\n").sites, list_name="panel", kind="panel")
    assert (r.added, r.removed, r.total) == (1, 0, 3)  # a panel only grows
    add_sites(engine, parse_site_list("1,x.example\n2,y.example\n").sites, list_name="top", kind="top")
    r = add_sites(engine, parse_site_list("1,y.example\n2,z.example\n").sites, list_name="top", kind="top")
    assert (r.added, r.removed, r.total) == (1, 1, 2)  # a top-N is the newest ranking's head
    assert [e.domain for e in tracked_entries(engine, ["top"])] == ["y.example", "z.example"]
    assert {e.domain for e in tracked_entries(engine)} == {
        "a.example",
        "b.example",
        "c.example",
        "y.example",
        "z.example",
    }


class _Tranco(BaseHTTPRequestHandler):
    lists: ClassVar[dict[str, str]] = {"2024-07-01": "L2024", "latest": "L2026"}
    files: ClassVar[dict[str, Path]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.path.startswith("/api/lists/date/"):
            day = self.path.rsplit("/", 1)[1]
            list_id = self.lists.get(day)
            body = json.dumps(
                {
                    "list_id": list_id,
                    "available": bool(list_id),
                    "created_on": "2026-08-01T00:00:00" if day == "latest" else f"{day}T00:00:00",
                }
            )
            self._send(200 if list_id else 404, body.encode(), "application/json")
        elif self.path.startswith("/download/"):
            _, _, list_id, n = self.path.split("/")
            lines = [ln for ln in self.files[list_id].read_text().splitlines() if ln[:1].isdigit()][: int(n)]
            self._send(200, ("\n".join(lines) + "\n").encode(), "text/csv")
        else:
            self._send(404, b"no", "text/plain")

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tranco() -> Iterator[str]:
    _Tranco.files = {
        "L2024": corpus_path("tranco_top10k_2024-07-01.csv"),
        "L2026": corpus_path("tranco_top10k_2026-08-01.csv"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tranco)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@needs_corpus
@pytest.mark.network_local
@pytest.mark.slow
def test_tranco_download_keeps_list_id_and_date(tranco: str) -> None:
    parsed, list_id, day = download_tranco(100, base_url=tranco)
    assert list_id == "L2026" and day == "2026-08-01" and len(parsed.sites) == 100
    assert parsed.sites[0].rank == 1 and all(s.rank for s in parsed.sites)
    from datetime import date

    old, old_id, old_day = download_tranco(50, on=date(2024, 7, 1), base_url=tranco)
    assert old_id == "L2024" and old_day == "2024-07-01" and 40 < len(old.sites) <= 50  # public suffixes dropped
    from tracker.errors import DownloadError

    with pytest.raises(DownloadError, match="no list"):
        download_tranco(10, on=date(2020, 1, 1), base_url=tranco)
    with pytest.raises(DownloadError, match="Offline"):
        download_tranco(10, base_url="http://127.0.0.1:9")


@needs_corpus
@pytest.mark.network_local
@pytest.mark.slow
def test_sites_commands(tranco: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_TRANCO_URL", tranco)
    db = str(tmp_path / "s.db")
    code, output = invoke("sites", "list", "--db", db)
    assert code == 2 and "no database" in output
    panel = tmp_path / "panel.csv"
    panel.write_text("domain,category\nnytimes.com,news\nwww.bbc.co.uk,news\nnot a domain,x\n")
    code, output = invoke("sites", "add", str(panel), "--db", db)
    assert code == 0 and "panel 'panel'" in output and "2 added" in output and "not a valid" in output
    code, output = invoke("sites", "add", "--tranco", "1000", "--db", db)
    assert code == 0 and "top 'tranco-top' (Tranco list L2026 of 2026-08-01)" in output
    code, output = invoke("sites", "list", "--db", db, "--format", "json")
    lists = {x["name"]: x for x in json.loads(output)}
    assert lists["panel"]["sites"] == 2 and lists["panel"]["kind"] == "panel"
    assert lists["tranco-top"]["kind"] == "top" and 990 <= lists["tranco-top"]["sites"] <= 1000
    code, output = invoke("sites", "list", "panel", "--db", db, "--format", "csv")
    assert output.splitlines()[1:] == [",bbc.co.uk,news", ",nytimes.com,news"]
    code, output = invoke("sites", "remove", "panel", "bbc.co.uk", "--db", db)
    assert code == 0 and "1 site(s) taken out" in output
    code, output = invoke("sites", "remove", "nolist", "--db", db)
    assert code == 2 and "no list named 'nolist'" in output
    code, output = invoke("sites", "add", "--db", db)
    assert code == 2 and "FILE or --tranco" in output


@needs_corpus
def test_crawl_without_sites_uses_the_tracked_sites(tmp_path: Path) -> None:
    code, output = invoke("crawl", "--db", str(tmp_path / "c.db"))
    assert code == 2 and "no tracked sites" in output
    engine = open_store(tmp_path / "c.db")
    add_sites(engine, parse_site_list("a.invalid\n").sites, list_name="panel")
    entries = tracked_entries(engine)
    assert [e.domain for e in entries] == ["a.invalid"]
