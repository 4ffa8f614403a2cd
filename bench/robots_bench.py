"""Benchmark: parse + evaluate robots.txt files of the real corpus, against protego and urllib.robotparser.

Two workloads, each run by every parser in the same process over the same bodies and the same questions:

- parse-heavy: 2,500 files sampled evenly from the corpus, 6 agents x 6 URLs (36 questions a file);
- verdict-heavy: every file of the corpus, 20 agents x 6 URLs (120 questions a file).

Our lexing, pattern and path caches are emptied before every timed pass, so no pass profits from having seen
the same files before (caches still warm up across different files within a pass, as in a real crawl). Every
parser gets the same full URLs. Prints seconds, µs per file and our speed relative to each peer (> 1: faster).

    uv run python bench/robots_bench.py [--corpus ../shared/corpus] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import urllib.robotparser
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.rules import robots  # noqa: E402

AGENTS = [
    "GPTBot",
    "ChatGPT-User",
    "OAI-SearchBot",
    "ClaudeBot",
    "anthropic-ai",
    "Claude-Web",
    "Google-Extended",
    "Googlebot",
    "Applebot",
    "Applebot-Extended",
    "CCBot",
    "meta-externalagent",
    "FacebookBot",
    "PerplexityBot",
    "Bytespider",
    "Amazonbot",
    "cohere-ai",
    "Diffbot",
    "omgili",
    "Bingbot",
]
FEW_AGENTS = ["GPTBot", "ClaudeBot", "Google-Extended", "CCBot", "Googlebot", "Bytespider"]
URLS = [
    "https://example.com" + p
    for p in ("/", "/index.html", "/search?q=ai", "/news/2024/story.html", "/wp-admin/admin-ajax.php", "/a1b2c3/x.pdf")
]


def load(corpus: Path, sample: int | None) -> list[str]:
    files = sorted(p for sub in ("real_robots", "history") for p in (corpus / sub).rglob("*") if p.is_file())
    if sample and sample < len(files):
        step = len(files) / sample
        files = [files[int(i * step)] for i in range(sample)]
    # Text for all three parsers (protego and urllib take str); decoded as a fetcher would.
    return [f.read_bytes().decode("utf-8", "replace") for f in files]


Runner = Callable[[list[str], list[str]], int]


def run_ours_verdict(bodies: list[str], agents: list[str]) -> int:
    n = 0
    for body in bodies:
        rules = robots.parse_robots(body)
        for a in agents:
            for u in URLS:
                n += rules.verdict(a, u).allowed
    return n


def run_ours(bodies: list[str], agents: list[str]) -> int:
    n = 0
    for body in bodies:
        rules = robots.parse_robots(body)
        for a in agents:
            for u in URLS:
                n += rules.allowed(a, u)
    return n


def run_protego(bodies: list[str], agents: list[str]) -> int:
    from protego import Protego

    n = 0
    for body in bodies:
        rp = Protego.parse(body)
        for a in agents:
            for u in URLS:
                n += rp.can_fetch(u, a)
    return n


def run_urllib(bodies: list[str], agents: list[str]) -> int:
    n = 0
    for body in bodies:
        rp = urllib.robotparser.RobotFileParser()
        rp.parse(body.splitlines())
        for a in agents:
            for u in URLS:
                n += rp.can_fetch(a, u)
    return n


def _cold() -> None:
    """Empty our caches so a pass cannot profit from an earlier pass over the same files."""
    for cache in (robots._LINE_CACHE, robots._MATCHER_CACHE, robots._PATH_CACHE, robots._KEY_KINDS):
        cache.clear()


def timed(fn: Runner, bodies: list[str], agents: list[str], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        _cold()
        gc.collect()
        t = time.perf_counter()
        result = fn(bodies, agents)
        best = min(best, time.perf_counter() - t)
    return best, result


RUNNERS: list[tuple[str, Runner]] = [
    ("consent-tracker allowed()", run_ours),
    ("consent-tracker verdict()", run_ours_verdict),
    ("protego can_fetch()", run_protego),
    ("urllib.robotparser", run_urllib),
]


def workload(title: str, bodies: list[str], agents: list[str], repeat: int) -> None:
    size = sum(len(b) for b in bodies)
    print(
        f"\n{title}: {len(bodies)} files ({size / 1e6:.1f} MB), {len(agents)} agents x {len(URLS)} URLs "
        f"= {len(agents) * len(URLS)} questions a file"
    )
    results: dict[str, float] = {}
    answers: dict[str, int] = {}
    for name, fn in RUNNERS:
        secs, allowed = timed(fn, bodies, agents, repeat)
        results[name], answers[name] = secs, allowed
        print(f"  {name:27s} {secs:7.2f} s  {secs / len(bodies) * 1e6:8.1f} µs/file  ({allowed} allowed answers)")
    for ours in ("consent-tracker allowed()", "consent-tracker verdict()"):
        peers = ("protego can_fetch()", "urllib.robotparser")
        ratios = ", ".join(f"{results[p] / results[ours]:.2f}x {p.split()[0]}" for p in peers)
        print(f"  speed of {ours.split()[1]} vs peers (time ratio peer/ours): {ratios}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--sample", type=int, default=2500, help="files in the parse-heavy workload")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found at {args.corpus}")
    workload("parse-heavy", load(args.corpus, args.sample), FEW_AGENTS, args.repeat)
    workload("verdict-heavy", load(args.corpus, None), AGENTS, args.repeat)


if __name__ == "__main__":
    main()
