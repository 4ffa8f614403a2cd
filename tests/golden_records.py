"""What the CLI prints from the store of tests/records_store.py: ``export latest`` (JSONL and CSV), ``site`` (JSON,
each site) and ``changes`` (JSON with diffs, and CSV). ``python -m tests.golden_records OUT.json`` writes it; run at
the commit before the typed records, it made tests/golden/records.json."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from tests.records_store import build
from tracker.cli import app

SITES = ("a.test", "b.test", "c.test")
ROBOTS = (
    b"\xef\xbb\xbfUser-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nContent-Signal: ai-train=no\n"
    b"Crawl-delay: 5\nDisallow: /private/\nAllow: /private/ok\nNosuchkey: x\n\nLicense: https://r.test/l.xml\n"
    b"Sitemap: https://r.test/sitemap.xml\n"
)


def outputs(db: str) -> dict[str, str]:
    """Each command's output, by command line."""
    runner = CliRunner()
    commands = [
        ["export", "latest", "--db", db],
        ["export", "latest", "--db", db, "-f", "csv"],
        ["changes", "--db", db, "-f", "json", "--limit", "0", "--diff"],
        ["changes", "--db", db, "-f", "csv", "--limit", "0"],
        *(["site", s, "--db", db, "-f", "json"] for s in SITES),
        *(["site", s, "--db", db, "-f", "json", "-a", "GPTBot", "-a", "Amazonbot"] for s in SITES),
    ]
    out: dict[str, str] = {}
    for argv in commands:
        r = runner.invoke(app, argv)
        assert r.exit_code == 0, (argv, r.output)
        out[" ".join(a for a in argv if a not in ("--db", db))] = r.stdout
    robots = ["robots", "-", "-a", "GPTBot", "-a", "Google-Extended", "-a", "*", "-u", "/", "-u", "/private/ok?x=é"]
    for fmt in ("json", "csv", "table"):
        r = runner.invoke(app, [*robots, "-f", fmt], input=ROBOTS)
        assert r.exit_code == 0, (robots, r.output)
        out[" ".join([*robots, "-f", fmt])] = r.stdout
    return out


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        got = outputs(build(Path(tmp) / "golden.db"))
    Path(sys.argv[1]).write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
