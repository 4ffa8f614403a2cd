"""Benchmark: parse + evaluate robots.txt files of the real corpus, against protego and urllib.robotparser.

Each parser parses every file once and answers AGENTS × URLS questions on it, in the same process, over the same
bodies. Prints time per file and our speed relative to each peer (a ratio > 1 means we are faster).

    uv run python bench/robots_bench.py [--corpus ../shared/corpus] [--limit N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import urllib.robotparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.robots import parse_robots  # noqa: E402

AGENTS = [
    "GPTBot", "ChatGPT-User", "OAI-SearchBot", "ClaudeBot", "anthropic-ai", "Claude-Web", "Google-Extended",
    "Googlebot", "Applebot", "Applebot-Extended", "CCBot", "meta-externalagent", "FacebookBot", "PerplexityBot",
    "Bytespider", "Amazonbot", "cohere-ai", "Diffbot", "omgili", "Bingbot",
]  # fmt: skip
URLS = [
    "/",
    "/index.html",
    "/search?q=ai",
    "/news/2024/story.html",
    "/wp-admin/admin-ajax.php",
    "/a1b2c3/x.pdf",
]


def load(corpus: Path, limit: int | None) -> list[str]:
    files = sorted(p for sub in ("real_robots", "history") for p in (corpus / sub).rglob("*") if p.is_file())
    if limit:
        files = files[:limit]
    # Text for all three parsers (protego and urllib take str); decoded as a fetcher would.
    return [f.read_bytes().decode("utf-8", "replace") for f in files]


def run_ours(bodies: list[str]) -> int:
    n = 0
    for body in bodies:
        rules = parse_robots(body)
        for a in AGENTS:
            for u in URLS:
                n += rules.verdict(a, u).allowed
    return n


def run_protego(bodies: list[str]) -> int:
    from protego import Protego

    n = 0
    for body in bodies:
        rp = Protego.parse(body)
        for a in AGENTS:
            for u in URLS:
                n += rp.can_fetch("https://example.com" + u, a)
    return n


def run_urllib(bodies: list[str]) -> int:
    n = 0
    for body in bodies:
        rp = urllib.robotparser.RobotFileParser()
        rp.parse(body.splitlines())
        for a in AGENTS:
            for u in URLS:
                n += rp.can_fetch(a, "https://example.com" + u)
    return n


def timed(fn, bodies: list[str], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        result = fn(bodies)
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N files")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found at {args.corpus}")
    bodies = load(args.corpus, args.limit)
    size = sum(len(b) for b in bodies)
    print(f"{len(bodies)} robots.txt files ({size / 1e6:.1f} MB), {len(AGENTS)} agents x {len(URLS)} URLs each")
    results = {}
    for name, fn in (
        ("consent-tracker", run_ours),
        ("protego", run_protego),
        ("urllib.robotparser", run_urllib),
    ):
        secs, allowed = timed(fn, bodies, args.repeat)
        results[name] = secs
        print(f"{name:20s} {secs:8.2f} s  {secs / len(bodies) * 1e6:9.1f} µs/file  ({allowed} allowed answers)")
    ours = results["consent-tracker"]
    for peer in ("protego", "urllib.robotparser"):
        print(f"speed vs {peer}: {results[peer] / ours:.2f}x (time ratio {peer}/ours)")


if __name__ == "__main__":
    main()
