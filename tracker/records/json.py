"""The JSON values records are made of, and the two conversions every record's ``as_dict``/``from_dict`` share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeAlias

__all__ = ["Json", "JsonObject", "iso", "parse_iso"]

#: Any JSON value (what ``json.loads`` returns).
Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"
#: A JSON object read from stored or published JSON.
JsonObject: TypeAlias = Mapping[str, Json]


def iso(at: datetime | None) -> str | None:
    """A time as ISO 8601 text; None stays None (never observed)."""
    return at.isoformat() if at is not None else None


def parse_iso(text: Json) -> datetime | None:
    """ISO 8601 text back to a time; None (or anything not text) stays None."""
    return datetime.fromisoformat(text) if isinstance(text, str) else None
