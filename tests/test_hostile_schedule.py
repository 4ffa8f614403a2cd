"""Hostile input against the scheduler's outputs (issue 18): control characters in a fetched robots.txt must not
break the feeds, a webhook receiver that drips its answer must not hold a scheduled run, two schedulers on one
store must not both run the jobs — real sockets and real processes where they matter."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine, text

from tests.conftest import BACKENDS, new_store_url
from tests.fakeweb import FakeWeb, Host
from tests.test_changes import AGENTS, OPEN, Receiver, robots, sid
from tracker.config.settings import resolve_all
from tracker.errors import StoreBusy
from tracker.operations.schedule import ScheduleOptions, run_job
from tracker.pipeline.changes import detect_changes, list_events
from tracker.publishing.feeds import ATOM_NS, post_webhook, write_feeds, xml_text
from tracker.store import open_store
from tracker.store.lock import hold_store
from tracker.store.writer import Writer

CONTROL = b"\x01\x08\x0b\x1b\x1f"
HOSTILE = b"# evil " + CONTROL + b" bytes\nUser-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    e = open_store(store_url)
    Writer(e).record("ctl.test", [robots(0, OPEN), robots(3, HOSTILE)])
    with e.begin() as conn:
        conn.execute(text("UPDATE sites SET category = 'news' WHERE domain = 'ctl.test'"))
    detect_changes(e, [sid(e, "ctl.test")], AGENTS)
    yield e
    e.dispose()


def test_control_characters_in_a_diff_leave_every_feed_strict_xml(engine: Engine, tmp_path: Path) -> None:
    paths = write_feeds(engine, tmp_path / "feeds", "http://127.0.0.1:8501")
    names = {p.relative_to(tmp_path / "feeds").as_posix() for p in paths}
    assert names == {"all.atom", "category/news.atom", "site/ctl.test.atom"}
    for p in paths:
        root = etree.fromstring(p.read_bytes(), etree.XMLParser(recover=False))  # strict: raises on \x01
        contents = [e.findtext(f"{{{ATOM_NS}}}content") or "" for e in root.iter(f"{{{ATOM_NS}}}entry")]
        gpt = next(c for c in contents if "GPTBot" in c)
        # Replaced visibly, not dropped: the reader sees that the file carried these bytes (the diff reads
        # \x0b as a line break, like Python's splitlines).
        assert "+# evil \\x01\\x08\n+\\x1b\\x1f bytes" in gpt, p
        assert not any(ch in c for c in contents for ch in CONTROL.decode()), p


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("\x0b\x0c\x1b\x7f", "\\x0b\\x0c\\x1b\x7f"),
        ("tab\tlf\ncr\r", "tab\tlf\ncr\r"),
        ("\ud800", "\\ud800"),
        ("\ufffe\uffff", "\\ufffe\\uffff"),
        ("é €", "é €"),
    ],
)
def test_xml_text_escapes_what_xml_cannot_carry(raw: str, shown: str) -> None:
    assert xml_text(raw) == shown
    etree.fromstring(f"<a>{xml_text(raw)}</a>".encode("utf-8", "surrogatepass"))


class DripReceiver:
    """A webhook receiver on a real loopback socket that reads the post, then answers one byte every ``drip``
    seconds — the status line too (``body_only``: the headers at once, then the body drips)."""

    def __init__(self, drip: float = 0.5, *, body_only: bool = False) -> None:
        self.drip, self.body_only = drip, body_only
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.posts = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
            self.posts += 1
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n" + b"x" * 400
            if self.body_only:
                conn.sendall(answer[:41])
                answer = answer[41:]
            try:
                for i in range(len(answer)):
                    if self.stopped.wait(self.drip):
                        return
                    conn.sendall(answer[i : i + 1])
            except OSError:
                return  # the client gave up: what we want

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


@pytest.mark.slow
def test_a_receiver_that_drips_its_answer_is_cut_off_and_the_events_stay_pending(engine: Engine) -> None:
    hook = DripReceiver(drip=0.5)
    try:
        t = time.monotonic()
        r = post_webhook(engine, hook.url, timeout=1.0, retries=1, backoff=0.01)
        took = time.monotonic() - t
        # Two attempts of 1 s each as a whole (the receiver sends a byte every 0.5 s, so a per-read timeout of
        # 1 s would wait for all 400 bytes: 200 s an attempt).
        assert took < 30, took  # (a bound on a hang, not a speed target: a per-read timeout would take minutes)
        assert hook.posts == 2 and r.delivered == 0 and r.pending == len(list_events(engine)) == 1
        assert "no complete answer within 1 s" in (r.error or "")
    finally:
        hook.stop()
    ok = Receiver().start()
    try:
        again = post_webhook(engine, ok.url, backoff=0.01)  # nothing was lost: all go at the next run
        assert again.delivered == 1 and ok.received[0]["site"] == "ctl.test"
    finally:
        ok.stop()


def test_a_receiver_that_answers_2xx_and_drips_its_body_is_not_waited_for(engine: Engine) -> None:
    hook = DripReceiver(drip=5.0, body_only=True)
    try:
        t = time.monotonic()
        r = post_webhook(engine, hook.url, timeout=10.0, backoff=0.01)
        assert time.monotonic() - t < 30  # the 2xx status is the answer; the body (minutes of drip) is never read
        assert r.delivered == 1 and r.pending == 0 and hook.posts == 1
    finally:
        hook.stop()


def _tracked_site_with_pending_events(
    tmp_path: Path,
) -> tuple[Path, Engine, FakeWeb, DripReceiver, tuple[str, ...], str]:
    """A store tracking one site whose change events wait for delivery, its fake web, and a dripping receiver."""
    db = tmp_path / "s.db"
    e = open_store(str(db))
    Writer(e).record("s0.test", [robots(0, OPEN), robots(3, HOSTILE)])  # events already waiting for delivery
    detect_changes(e, [sid(e, "s0.test")], AGENTS)
    (tmp_path / "sites.txt").write_text("s0.test\n")
    add = subprocess.run(
        [sys.executable, "-m", "tracker", "sites", "add", str(tmp_path / "sites.txt"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    web = FakeWeb({"s0.test": Host(robots="User-agent: *\nDisallow: /private/\n")}, tmp_path).start()
    args = web.connect_to_args()
    connect_to = tuple(args[i + 1] for i, a in enumerate(args) if a == "--connect-to")
    return db, e, web, DripReceiver(drip=0.5), connect_to, args[-1]


@pytest.mark.network_local
@pytest.mark.slow
def test_a_scheduled_run_with_a_dripping_receiver_ends_within_the_deadline(tmp_path: Path) -> None:
    db, e, web, hook, connect_to, ca_bundle = _tracked_site_with_pending_events(tmp_path)
    e.dispose()
    opts = ScheduleOptions(
        db=str(db),
        settings={**resolve_all(), "delay": 0},
        connect_to=connect_to,
        ca_bundle=ca_bundle,
        allow_private=True,
        feeds_dir=str(tmp_path / "feeds"),
        webhook_url=hook.url,
        webhook_timeout=1.0,
        webhook_retries=1,
    )
    try:
        t = time.monotonic()
        result = run_job("robots", opts.as_kwargs())
        took = time.monotonic() - t
        print(f"scheduled run with a dripping receiver: {took:.1f} s, {result}")
        assert result.status == "done" and result.feeds >= 1
        assert result.webhook.delivered == 0 and result.webhook.pending >= 1
        assert took < 60, took  # a bound on a hang (the dripping answer takes minutes), not a speed target
        assert hook.posts == 2
    finally:
        hook.stop()
        web.stop()


def _holder(lock: Path) -> str:
    try:
        return lock.read_text()
    except FileNotFoundError:
        return ""


def _wait_for(cond: object, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.network_local
@pytest.mark.slow
def test_one_scheduler_per_store_and_a_killed_one_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    lock = tmp_path / "s.db.scheduler.lock"
    env = {
        **os.environ,
        "CONSENT_TRACKER_SCHEDULE_ROBOTS": "every 1h",
        "CONSENT_TRACKER_SCHEDULE_SIGNALS": "off",
        "CONSENT_TRACKER_SCHEDULE_WAYBACK": "off",
    }
    cmd = [sys.executable, "-m", "tracker", "schedule", "--db", str(db)]
    procs: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> subprocess.Popen[str]:
        with open(tmp_path / f"stderr-{len(procs)}.txt", "w") as log:
            p = subprocess.Popen([*cmd, *extra], env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
        procs.append(p)
        return p

    def running(p: subprocess.Popen[str]) -> bool:
        return "scheduler running" in (tmp_path / f"stderr-{procs.index(p)}.txt").read_text()

    try:
        first = start()
        _wait_for(lambda: f'"pid": {first.pid},' in _holder(lock), 60, "the first scheduler to hold the store")
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        print("the second scheduler says:", second.stderr)
        said = " ".join(second.stderr.split())
        assert f"another scheduler holds this store: pid {first.pid} on host {socket.gethostname()} since" in said
        assert first.poll() is None  # the first is untouched

        first.send_signal(signal.SIGKILL)  # dies without releasing anything: the OS frees the lock
        first.wait()
        third = start()
        _wait_for(lambda: f'"pid": {third.pid},' in _holder(lock) and running(third), 60, "a new scheduler")

        fourth = start("--wait")  # waits for the third instead of failing
        time.sleep(3)
        assert fourth.poll() is None and f'"pid": {third.pid},' in _holder(lock)
        third.send_signal(signal.SIGINT)
        assert third.wait(60) == 0
        _wait_for(lambda: running(fourth), 60, "the waiting scheduler to take over")
        assert f'"pid": {fourth.pid},' in _holder(lock)
        fourth.send_signal(signal.SIGINT)
        assert fourth.wait(60) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.mark.network_local
@pytest.mark.slow
def test_an_unwritable_feeds_dir_is_a_warning_and_the_webhook_is_still_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "s.db"
    e = open_store(str(db))
    Writer(e).record("s0.test", [robots(0, OPEN), robots(3, HOSTILE)])
    detect_changes(e, [sid(e, "s0.test")], AGENTS)
    e.dispose()
    (tmp_path / "sites.txt").write_text("s0.test\n")
    add = subprocess.run(
        [sys.executable, "-m", "tracker", "sites", "add", str(tmp_path / "sites.txt"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    (tmp_path / "a-file").write_text("")  # a feeds-dir under a file: unwritable even for root
    web = FakeWeb({"s0.test": Host(robots="User-agent: *\nDisallow: /private/\n")}, tmp_path).start()
    hook = Receiver().start()
    args = web.connect_to_args()
    connect_to = tuple(args[i + 1] for i, a in enumerate(args) if a == "--connect-to")
    opts = ScheduleOptions(
        db=str(db),
        settings={**resolve_all(), "delay": 0},
        connect_to=connect_to,
        ca_bundle=args[-1],
        allow_private=True,
        feeds_dir=str(tmp_path / "a-file" / "feeds"),
        webhook_url=hook.url,
    )
    try:
        result = run_job("robots", opts.as_kwargs())
        assert result.status == "done" and str(result.feeds).startswith("not written (Not a directory")
        assert result.webhook.delivered >= 1 and {e["site"] for e in hook.received} == {"s0.test"}
        warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "feeds-dir" in r.getMessage()]
        assert len(warned) == 1 and "\n" not in warned[0] and "cannot write the feeds" in warned[0]
    finally:
        hook.stop()
        web.stop()


@pytest.mark.network_local
@pytest.mark.slow
def test_a_slow_receiver_never_holds_the_next_scheduled_crawl(tmp_path: Path) -> None:
    from tracker.operations.schedule import Scheduler
    from tracker.store.changelog import pending_notifications

    db, e, web, hook, connect_to, ca_bundle = _tracked_site_with_pending_events(tmp_path)
    opts = ScheduleOptions(
        db=str(db),
        settings={**resolve_all(), "delay": 0},
        triggers={"robots": "every 1s"},
        connect_to=connect_to,
        ca_bundle=ca_bundle,
        allow_private=True,
        feeds_dir=str(tmp_path / "feeds"),
        webhook_url=hook.url,
        webhook_timeout=5.0,
        webhook_retries=1,
    )
    said: list[str] = []
    scheduler = Scheduler(e, opts, on_event=said.append)
    try:
        scheduler.start()
        # The first delivery takes two attempts of 5 s; runs every second go on beside it.
        _wait_for(lambda: hook.posts >= 1, 30, "the first delivery")
        done = lambda: sum("job robots finished: " in m and "status done" in m for m in said)  # noqa: E731
        before = done()
        _wait_for(lambda: done() >= before + 3, 8, "three more runs while the receiver drips")
        assert not any(m.startswith("job webhook finished") for m in said)  # still dripping
        _wait_for(lambda: any(m.startswith("job webhook finished") for m in said), 15, "the delivery to give up")
        gave_up = next(m for m in said if m.startswith("job webhook finished"))
        assert "0 delivered" in gave_up and "no complete answer within 5 s" in gave_up
    finally:
        scheduler.shutdown(timeout=20)
        hook.stop()
        web.stop()
    assert len(pending_notifications(e)) >= 1  # nothing lost: the next delivery sends them
    e.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow
def test_the_store_lock_names_its_holder_and_is_free_once_released(backend: str, tmp_path: Path) -> None:
    url = new_store_url(backend, tmp_path)
    a, b = open_store(url), open_store(url)
    try:
        held = hold_store(a)
        with pytest.raises(StoreBusy, match=f"another scheduler holds this store: .*pid.{os.getpid()}") as busy:
            hold_store(b)
        assert socket.gethostname()[:20] in str(busy.value)
        waited: list[str] = []
        t = threading.Timer(0.5, held.release)
        t.start()
        again = hold_store(b, wait=True, poll=0.1, on_wait=waited.append)  # taken once the holder lets go
        t.join()
        assert len(waited) == 1 and waited[0].endswith("waiting until it stops")
        again.release()
    finally:
        a.dispose()
        b.dispose()
