"""Hostile input at the faces (issue 18): fetched text never drives the terminal, and the forecast's size is bounded
before any memory is taken."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.analysis.forecast import load_params
from tracker.analysis.forecast.params import MAX_DRAWS, ParamsError
from tracker.cli import app
from tracker.cli.common import visible, visible_data

EVIL = b"User-agent: *\nDisallow: /\x1b]0;pwned\x07\x1b[31mred\n# \x1b[2J\nContent-Signal: ai-train=no\x1b[0m\x9b\xe2\x80\xae\n"


def test_control_characters_are_made_visible() -> None:
    assert visible("a\x1b[31mb\x07c\td\ne") == "a\\x1b[31mb\\x07c\td\ne"  # tab and newline stay
    assert visible("\x9b\u202e") == "\\x9b\\u202e"  # C1 CSI and a bidi override
    assert visible_data({"a": ["\x1b", 3, ("\x00",)]}) == {"a": ["\\x1b", 3, ["\\x00"]]}


def test_robots_file_with_escape_sequences_does_not_reach_the_terminal(tmp_path: Path) -> None:
    f = tmp_path / "robots.txt"
    f.write_bytes(EVIL)
    result = CliRunner().invoke(app, ["robots", str(f), "-a", "GPTBot"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.output  # shown, not obeyed


@pytest.mark.parametrize("draws", ["0", "-5", "1000000000", str(MAX_DRAWS + 1)])
def test_forecast_draws_are_bounded_with_a_message(draws: str) -> None:
    result = CliRunner().invoke(app, ["forecast", "--draws", draws])
    assert result.exit_code != 0 and "draws must be between 100 and 200,000" in result.output
    assert "Traceback" not in result.output


def test_a_grid_too_fine_for_memory_is_refused_before_drawing() -> None:
    with pytest.raises(ParamsError, match="would need more than"):
        load_params(None, ["steps_per_year=365"])


def test_a_params_file_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_bytes(b"\xff\xfe\x00\x01binary")
    result = CliRunner().invoke(app, ["forecast", "--params", str(bad)])
    assert result.exit_code != 0 and "not a UTF-8 text file" in result.output and "Traceback" not in result.output


def test_changes_diff_with_escape_sequences_does_not_reach_the_terminal(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tracker.pipeline.changes import detect_changes
    from tracker.store import open_store
    from tracker.store.writer import Observation, Writer

    db = tmp_path / "c.db"
    engine = open_store(db)
    w = Writer(engine)
    w.record(
        "evil.example",
        [Observation("robots", datetime(2024, 1, 1, tzinfo=UTC), "ok", 200, body=b"User-agent: *\nAllow: /\n")],
    )
    w.record("evil.example", [Observation("robots", datetime(2024, 2, 1, tzinfo=UTC), "ok", 200, body=EVIL)])
    detect_changes(engine, [w.site_id("evil.example")])
    result = CliRunner().invoke(app, ["changes", "--diff", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Disallow: /\\x1b]0;pwned\\x07\\x1b[31mred" in result.output  # the diff is shown …
    assert "\x1b" not in result.output and "\x07" not in result.output  # … and obeyed by no terminal
