"""End to end: the real CLI crawls a fake web of real sockets (HTTP and HTTPS) full of faults, and every host's
outcome is recorded as it should be."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeweb import FakeWeb, Host

# Every test here crawls the fake web with the real CLI in a subprocess (the shared crawl alone takes seconds).
pytestmark = pytest.mark.slow

BLOCK_GPT = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"


def hosts(tmp_port_hint: int = 0) -> dict[str, Host]:
    return {
        "ok.test": Host(
            robots=BLOCK_GPT, files={"/llms.txt": (200, "# Ok site\n> hello\n", {"Content-Type": "text/plain"})}
        ),
        "allowall.test": Host(robots="User-agent: *\nDisallow:\n"),
        "notfound.test": Host(robots=None),
        "forbidden.test": Host(robots="no", robots_status=403),
        "error500.test": Host(fault="status", arg=500),
        "ratelimited.test": Host(fault="status", arg=429),
        "chain.test": Host(robots="User-agent: *\nDisallow: /\n", fault="redirect_chain", arg=3),
        "toolong.test": Host(fault="redirect_chain", arg=7),
        "loop.test": Host(fault="redirect_loop"),
        "cross.test": Host(fault="cross_host", arg="target.test"),
        "target.test": Host(robots="User-agent: CCBot\nDisallow: /\n"),
        "private.test": Host(fault="redirect_private", arg="http://127.0.0.1:9/robots.txt"),
        "huge.test": Host(fault="huge"),
        "bomb.test": Host(fault="gzip_bomb"),
        "binary.test": Host(robots=bytes(range(256)) * 50),
        "badutf8.test": Host(robots=b"User-agent: *\nDisallow: /caf\xe9\xff/\n"),
        "soft404.test": Host(robots="<!DOCTYPE html><html><body>Not here</body></html>", fault="soft404"),
        "reset.test": Host(fault="reset"),
        "slow.test": Host(fault="slow", arg=30),
        "slowloris.test": Host(fault="slowloris"),
        "httponly.test": Host(robots="User-agent: GPTBot\nDisallow: /\n", fault="no_https"),
        "noself.test": Host(robots="User-agent: consent-tracker\nDisallow: /\n"),
        "tdm.test": Host(
            files={
                "/.well-known/tdmrep.json": (
                    200,
                    '[{"location": "/", "tdm-reservation": 1}]',
                    {"Content-Type": "application/json"},
                )
            }
        ),
        "conflict.test": Host(
            robots="User-agent: *\nContent-Signal: ai-train=yes\nAllow: /\nUser-agent: GPTBot\nContent-Signal: ai-train=no\nAllow: /\n",
            homepage_headers=[("Content-Usage", "train-ai=n"), ("X-Robots-Tag", "CCBot: noai")],
            files={
                "/.well-known/tdmrep.json": (
                    200,
                    '[{"location": "/", "tdm-reservation": 1',
                    {"Content-Type": "application/json"},
                ),
                "/llms.txt": (200, "<!doctype html><html>soft 404</html>", {"Content-Type": "text/html"}),
            },
        ),
        "signals.test": Host(
            robots="License: https://signals.test/license.xml\nUser-Agent: *\nContent-Signal: search=yes, ai-train=no\n"
            "Content-Usage: train-ai=n\nAllow: /\n",
            homepage='<html><head><meta name="robots" content="noindex, noai"><meta name="tdm-reservation" content="1">'
            '</head><body>x<footer><a href="/agb">AGB</a> · <a href="/impressum">Impressum</a></footer></body></html>',
            homepage_headers=[("X-Robots-Tag", "noimageai"), ("X-Robots-Tag", "GPTBot: noarchive")],
            files={
                "/ai.txt": (200, "User-Agent: *\nDisallow: /\n", {"Content-Type": "text/plain"}),
                "/license.xml": (
                    200,
                    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
                    '<permits type="usage">search</permits><prohibits type="usage">ai-train'
                    "</prohibits></license></content></rsl>",
                    {"Content-Type": "application/rsl+xml"},
                ),
                "/llms.txt": (200, "# Signals test\n> all the signals\n", {"Content-Type": "text/plain"}),
                "/.well-known/tdmrep.json": (200, "<html>not found</html>", {"Content-Type": "text/html"}),
                "/agb": (
                    200,
                    "<html><body><h1>Allgemeine Geschäftsbedingungen</h1><p>Die Nutzung von Crawlern, "
                    "Scrapern oder anderen automatisierten Verfahren ist untersagt.</p><p>Das Training von "
                    "Systemen der künstlichen Intelligenz mit unseren Inhalten ist nicht gestattet.</p>"
                    "<p>Wir behalten uns Text- und Data-Mining gemäß § 44b UrhG vor.</p></body></html>",
                    {"Content-Type": "text/html; charset=utf-8"},
                ),
            },
        ),
        # Terms kept on the parent company's host: read only after that host's robots.txt allows it.
        "esquire.test": Host(homepage=_footer("https://hearst.test/terms")),
        "cosmo.test": Host(homepage=_footer("https://hearst.test/terms")),
        "hearst.test": Host(
            files={
                "/terms": (
                    200,
                    "<html><body><h1>Terms of Use</h1><p>You may not use our content to "
                    "train artificial intelligence models.</p></body></html>",
                    {"Content-Type": "text/html"},
                )
            }
        ),
        "bgr.test": Host(homepage=_footer("https://pmc.test/terms")),
        "pmc.test": Host(
            robots="User-agent: consent-tracker\nDisallow: /terms\n",
            files={"/terms": (200, "<html>never fetched</html>", {"Content-Type": "text/html"})},
        ),
    }


#: Hosts that keep other sites' terms and are not in the crawled site list themselves.
TERMS_HOSTS = {"hearst.test", "pmc.test"}


def _footer(href: str) -> str:
    return (
        f'<html><body><p>news</p><footer><div><div><a href="{href}">Terms of Use</a></div></div></footer></body></html>'
    )


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeWeb]:
    tmp = tmp_path_factory.mktemp("web")
    spec = hosts()
    spec["badtls.invalid"] = Host(robots="User-agent: *\nDisallow: /\n")
    w = FakeWeb(spec, tmp).start()
    yield w
    w.stop()


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def crawled(web: FakeWeb, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    tmp = tmp_path_factory.mktemp("crawl")
    sites = tmp / "sites.csv"
    names = sorted(set(web.hosts) - TERMS_HOSTS)
    sites.write_text(
        "rank,domain,category\n"
        + "".join(f"{i},{h},test\n" for i, h in enumerate(names, 1))
        + "999,not a domain,test\n1000,ok.test,test\n"
    )
    db = tmp / "crawl.db"
    proc = run_cli(
        "crawl",
        "--sites",
        str(sites),
        "--db",
        str(db),
        "--concurrency",
        "30",
        "--delay",
        "0",
        "--timeout",
        "2",
        "--total-timeout",
        "4",
        "--retries",
        "1",
        *web.connect_to_args(),
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "not a valid domain name" in proc.stderr and "listed again" in proc.stderr
    export = run_cli("export", "latest", "--db", str(db), "--format", "jsonl")
    assert export.returncode == 0, export.stderr
    records = {r["domain"]: r for r in map(json.loads, export.stdout.splitlines())}
    return db, records


EXPECTED = {
    "ok.test": "ok",
    "allowall.test": "ok",
    "notfound.test": "no_robots",
    "forbidden.test": "blocked_4xx",
    "error500.test": "unreachable",
    "ratelimited.test": "unreachable",
    "chain.test": "ok",
    "toolong.test": "redirect_loop",
    "loop.test": "redirect_loop",
    "cross.test": "ok",
    "target.test": "ok",
    "private.test": "network_error",
    "huge.test": "ok",
    "bomb.test": "ok",
    "binary.test": "ok",
    "badutf8.test": "ok",
    "soft404.test": "soft404_html",
    "reset.test": "network_error",
    "slow.test": "network_error",
    "slowloris.test": "network_error",
    "httponly.test": "ok",
    "noself.test": "ok",
    "tdm.test": "ok",
    "badtls.invalid": "network_error",
    "signals.test": "ok",
    "conflict.test": "ok",
    "esquire.test": "ok",
    "cosmo.test": "ok",
    "bgr.test": "ok",
}


@pytest.mark.network_local
def test_every_host_has_the_right_robots_status(crawled: tuple[Path, dict[str, dict]]) -> None:
    _, records = crawled
    got = {d: r["robots_status"] for d, r in records.items()}
    assert got == EXPECTED


@pytest.mark.network_local
def test_verdicts_and_stances(crawled: tuple[Path, dict[str, dict]]) -> None:
    _, r = crawled
    assert r["ok.test"]["agents"]["GPTBot"] == {
        "allowed_root": False,
        "named": True,
        "stance": "full_block",
        "training_optout": False,
        "training_optout_sources": [],
    }
    assert r["ok.test"]["agents"]["CCBot"]["stance"] == "partial_block"
    assert r["chain.test"]["agents"]["GPTBot"]["stance"] == "full_block"  # followed 3 redirects
    # Rules apply to the original host: cross.test redirected to target.test's file.
    assert r["cross.test"]["agents"]["CCBot"]["stance"] == "full_block"
    assert r["cross.test"]["final_url"] == "https://target.test/robots.txt"
    assert r["httponly.test"]["agents"]["GPTBot"]["stance"] == "full_block"  # fetched over http after https failed
    unreachable = r["error500.test"]["agents"]["GPTBot"]
    assert (unreachable["allowed_root"], unreachable["named"], unreachable["stance"]) == (False, False, "unreachable")
    assert r["notfound.test"]["agents"]["GPTBot"]["stance"] == "no_robots"
    assert r["huge.test"]["agents"]["GPTBot"]["stance"] == "partial_block"  # parsed the first 500 KiB
    assert r["bomb.test"]["agents"]["GPTBot"]["stance"] == "full_block"  # decompressed only up to the cap


@pytest.mark.network_local
def test_faults_are_named(crawled: tuple[Path, dict[str, dict]]) -> None:
    _, r = crawled
    assert r["private.test"]["error"].startswith("private_address")
    assert r["badtls.invalid"]["error"].startswith("tls")
    assert r["slow.test"]["error"].startswith("timeout")
    assert r["slowloris.test"]["error"].startswith("timeout")


@pytest.mark.network_local
def test_good_citizen(web: FakeWeb, crawled: tuple[Path, dict[str, dict]]) -> None:
    db, _ = crawled
    # Never contacted the private address, and never fetched pages our own robots group forbids.
    assert web.hits[("127.0.0.1", "/robots.txt")] == 0
    assert web.hits[("noself.test", "/")] == 0 and web.hits[("noself.test", "/llms.txt")] == 0
    # Nothing but robots.txt from a site whose robots.txt is unreachable.
    assert web.hits[("error500.test", "/")] == 0
    assert all(ua.startswith("consent-tracker/") and "+http" in ua for ua in web.user_agents)
    con = sqlite3.connect(db)
    kinds = dict(
        con.execute(
            "SELECT v.kind, v.status FROM versions v JOIN sites s ON s.id = v.site_id WHERE s.domain = 'noself.test'"
        ).fetchall()
    )
    assert kinds["homepage"] == "disallowed" and kinds["robots"] == "ok"


@pytest.mark.network_local
def test_other_resources_recorded(crawled: tuple[Path, dict[str, dict]]) -> None:
    db, _ = crawled
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT s.domain, v.kind, v.status, v.body_id IS NOT NULL FROM versions v JOIN sites s ON s.id = v.site_id"
    ).fetchall()
    by = {(d, k): (st, has_body) for d, k, st, has_body in rows}
    assert by[("ok.test", "llms_txt")] == ("ok", 1)
    assert by[("ok.test", "ai_txt")] == ("absent", 0)
    assert by[("tdm.test", "tdmrep")] == ("ok", 1)
    assert by[("ok.test", "homepage")] == ("ok", 0)  # homepages keep signals, not bytes
    assert con.execute("SELECT count(*) FROM crawl_runs WHERE status = 'done'").fetchone()[0] == 1
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.network_local
def test_second_crawl_adds_no_versions(web: FakeWeb, crawled: tuple[Path, dict[str, dict]], tmp_path: Path) -> None:
    db, _ = crawled
    con = sqlite3.connect(db)
    before = con.execute("SELECT count(*) FROM versions").fetchone()[0]
    sites = tmp_path / "few.txt"
    sites.write_text("ok.test\nallowall.test\ntdm.test\n")
    proc = run_cli("crawl", "--sites", str(sites), "--db", str(db), "--delay", "0", *web.connect_to_args())
    assert proc.returncode == 0, proc.stderr
    assert "0 new versions" in proc.stdout
    assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == before


def _slow_crawl_args(web: FakeWeb, tmp_path: Path, names: list[str], db: Path) -> list[str]:
    """CLI arguments crawling `names` (robots.txt only, 10 at a time) into `db`."""
    sites = tmp_path / "sites.txt"
    sites.write_text("\n".join(names) + "\n")
    return [
        "-m",
        "tracker",
        "crawl",
        "--sites",
        str(sites),
        "--db",
        str(db),
        "--concurrency",
        "10",
        "--delay",
        "0",
        "--resources",
        "robots",
        *web.connect_to_args(),
    ]


def _wait_for_first_batch(db: Path, timeout: float = 60) -> None:
    """Return once a crawl has committed its first batch of sites."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            if sqlite3.connect(db).execute("SELECT count(*) FROM crawl_run_sites").fetchone()[0] > 0:
                return
        except sqlite3.OperationalError:
            continue  # not created yet


@pytest.mark.network_local
def test_kill_and_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    # Batches commit every 200 sites or 2 s: 600 slow-ish hosts leave time to kill between the first and the last.
    n = 600
    many = {f"s{i}.test": Host(robots=f"User-agent: GPTBot\nDisallow: /{i}\n", latency=0.05) for i in range(n)}
    web = FakeWeb(many, tmp_path).start()
    try:
        db = tmp_path / "k.db"
        args = _slow_crawl_args(web, tmp_path, list(many), db)
        proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_first_batch(db)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(1.0)  # requests the killed crawler had already sent may still reach the server: let them land
        con = sqlite3.connect(db)
        partial = con.execute("SELECT count(*) FROM crawl_run_sites").fetchone()[0]
        assert 0 < partial < n
        hits_before = sum(web.hits.values())
        done = subprocess.run([sys.executable, *args, "--resume"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"{partial} already done before resuming" in done.stdout
        # Only the remaining sites were fetched again (one robots.txt each, https).
        assert sum(web.hits.values()) - hits_before == n - partial
        assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == n
        assert con.execute("SELECT count(DISTINCT site_id) FROM versions").fetchone()[0] == n
        assert con.execute("SELECT count(*) FROM crawl_run_sites").fetchone()[0] == n
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert dict(con.execute("SELECT id, status FROM crawl_runs").fetchall()) == {1: "done"}
    finally:
        web.stop()


@pytest.mark.network_local
def test_signals_exported(crawled: tuple[Path, dict[str, dict]]) -> None:
    _, r = crawled
    s = r["signals.test"]["signals"]
    assert s["noai"] is True and s["noimageai"] is True and s["noarchive"] is False  # GPTBot-scoped noarchive
    assert s["tdm_reservation"] is True  # from the meta tag (the tdmrep.json is an HTML page)
    assert s["content_signal"] == {"search": "yes", "ai-train": "no"}
    assert s["content_usage"] == {"train-ai": "n"}
    assert s["rsl_license"] == "https://signals.test/license.xml"
    assert s["rsl"] == {
        "status": "valid",
        "permits": ["search"],
        "prohibits": ["ai-train"],
        "payments": [],
        "training": "prohibited",
    }
    assert s["ai_txt"] is True and s["ai_txt_stance"] == "full_optout"
    assert s["llms_txt"] is True
    tos = s["tos"]
    assert tos["url"] == "https://signals.test/agb" and tos["scraping"] == "prohibited"
    assert tos["ai_training"] == "prohibited" and "künstlichen Intelligenz" in tos["evidence"]["ai_training"]
    assert "eu_tdm_reservation_art4" in tos["flags"]
    assert r["signals.test"]["agents"]["GPTBot"]["stance"] == "allowed"  # crawlable, yet no training
    gpt = r["signals.test"]["agents"]["GPTBot"]
    assert gpt["allowed_root"] is True and gpt["training_optout"] is True  # crawlable but no training
    assert {"content_signal", "content_usage", "noai", "tdmrep", "ai_txt", "rsl", "tos"} <= set(
        gpt["training_optout_sources"]
    )
    assert r["allowall.test"]["agents"]["GPTBot"]["training_optout"] is False
    plain = r["allowall.test"]["signals"]
    assert plain["noai"] is False and plain["tdm_reservation"] is None and plain["llms_txt"] is False
    assert plain["tos"]["scraping"] == "unknown" and plain["tos"]["found"] is False  # its homepage links no terms
    assert r["tdm.test"]["signals"]["tdm_reservation"] is True
    assert r["ok.test"]["signals"]["llms_txt"] is True


@pytest.mark.network_local
def test_conflicting_and_malformed_signals(crawled: tuple[Path, dict[str, dict]]) -> None:
    _, r = crawled
    c = r["conflict.test"]
    # '*' says ai-train=yes; the header's Content-Usage says train-ai=n: any "no" wins for everyone …
    assert c["signals"]["content_signal"] == {"ai-train": "yes"} and c["signals"]["content_usage"] == {"train-ai": "n"}
    assert c["agents"]["Amazonbot"]["training_optout_sources"] == ["content_usage"]
    # … and the groups naming GPTBot (Content-Signal) and the header naming CCBot (noai) add to theirs
    assert c["agents"]["GPTBot"]["training_optout_sources"] == ["content_signal", "content_usage"]
    assert c["agents"]["CCBot"]["training_optout_sources"] == ["content_usage", "noai"]
    assert c["signals"]["noai"] is False  # a scoped noai is not a site-wide one
    assert c["signals"]["tdm_reservation"] is None  # malformed tdmrep.json: unset, not a reservation
    assert c["signals"]["llms_txt"] is False  # an HTML page at /llms.txt is not an llms.txt


@pytest.mark.network_local
def test_terms_on_another_host(web: FakeWeb, crawled: tuple[Path, dict[str, dict]]) -> None:
    _, r = crawled
    for site in ("esquire.test", "cosmo.test"):
        tos = r[site]["signals"]["tos"]
        assert tos["url"] == "https://hearst.test/terms" and tos["host"] == "hearst.test", tos
        assert tos["ai_training"] == "prohibited" and tos["found"] is True
        assert r[site]["agents"]["GPTBot"]["training_optout_sources"] == ["tos"]
    # The other host's robots.txt is read once per run, however many sites keep their terms there.
    assert web.hits[("hearst.test", "/robots.txt")] == 1
    # Where that robots.txt forbids our group, the terms are not requested, and the record says whose they are.
    bgr = r["bgr.test"]["signals"]["tos"]
    assert bgr["host"] == "pmc.test" and bgr["found"] is False and bgr["ai_training"] == "unknown"
    assert web.hits[("pmc.test", "/terms")] == 0 and web.hits[("pmc.test", "/robots.txt")] == 1


@pytest.mark.network_local
def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path: Path) -> None:
    n = 600
    many = {f"c{i}.test": Host(robots="User-agent: *\nDisallow: /x\n", latency=0.05) for i in range(n)}
    web = FakeWeb(many, tmp_path).start()
    try:
        db = tmp_path / "c.db"
        args = _slow_crawl_args(web, tmp_path, list(many), db)
        proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_first_batch(db)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "run again with --resume" in stderr
        con = sqlite3.connect(db)
        assert con.execute("SELECT status FROM crawl_runs").fetchone()[0] == "interrupted"
        saved = con.execute("SELECT count(*) FROM crawl_run_sites").fetchone()[0]
        assert 0 < saved < n
        assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == saved  # what was fetched is saved
        done = subprocess.run([sys.executable, *args, "--resume"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == n
        assert con.execute("SELECT status FROM crawl_runs").fetchone()[0] == "done"
    finally:
        web.stop()
