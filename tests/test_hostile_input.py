"""Hostile input (issue 18): files and options that must be refused with a one-line message, never a traceback,
never half-accepted, and never silently turned into wrong figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.errors import TrackerError
from tracker.weights import load_weights

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _one_line_error(code: int, output: str) -> str:
    assert code == 2, output
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error: "), output
    return " ".join(lines)


# --- item 5: token weights must be finite, non-negative counts -------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "inf", "-inf", "nan", "NaN", "-5", "lots"])
def test_weights_refuse_non_finite_or_negative(tmp_path: Path, value: str) -> None:
    f = tmp_path / "w.csv"
    f.write_text(f"url,c4_tokens\na.com,10\nb.com,{value}\nc.com,5\n", encoding="utf-8")
    with pytest.raises(TrackerError, match="line 3"):
        load_weights(f)


def test_weights_keep_zero_and_skip_empty(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text("url,c4_tokens\na.com,10\nb.com,0\nc.com,\n", encoding="utf-8")
    assert load_weights(f) == {"a.com": 10.0, "b.com": 0.0}


def test_weights_import_and_trends_weights_refuse_infinite(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text("url,c4_tokens\na.com,10\nb.com,1e400\n", encoding="utf-8")
    db = str(tmp_path / "t.db")
    msg = _one_line_error(*invoke("weights", "import", str(f), "--db", db))
    assert "line 3" in msg and "1e400" in msg
    msg = _one_line_error(*invoke("trends", "--weight", "tokens", "--weights", str(f), "--db", db))
    assert "line 3" in msg


def test_weights_import_non_utf8_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_bytes(b"url,c4_tokens\n\xff\xfe\x00caf\xe9.com,10\n")
    msg = _one_line_error(*invoke("weights", "import", str(f), "--db", str(tmp_path / "t.db")))
    assert "UTF-8" in msg
