"""The README documents every command and every setting (a new one fails this test until it is documented)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from tracker.cli import app
from tracker.config import settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []
    for name, cmd in click_group.commands.items():  # type: ignore[attr-defined]
        full = f"{prefix}{name}"
        sub = getattr(cmd, "commands", None)
        if sub:
            names += [f"{full} {s}" for s in sub]
        else:
            names.append(full)
    return names


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(app)
    assert "robots" in commands and "agents list" in commands
    for c in commands:
        assert f"consent-tracker {c}" in README, f"README does not show `consent-tracker {c}`"


def test_every_setting_is_in_the_readme() -> None:
    for s in settings.SETTINGS.values():
        assert f"`{s.name}`" in README and s.env in README, s.name


def test_readme_gives_the_two_commands() -> None:
    assert "pip install uv && uv run pytest" in README
    assert "pip install uv && uv run consent-tracker" in README
