"""One registry of settings: name, default, help. Each is overridable by a CLI option and by the environment.

Precedence: an explicit option, then ``CONSENT_TRACKER_<NAME>`` (upper case, '-' → '_'), then the default.
``consent-tracker settings`` lists them all; tests/test_docs.py checks that the README documents each one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.errors import SettingError
from tracker.fetch.http import CONTACT_URL, MAX_REDIRECTS, TIMEOUT, USER_AGENT, user_agent_header
from tracker.fetch.wayback import ARCHIVE_URL
from tracker.rules.sitelist import TRANCO_URL

__all__ = ["ENV_PREFIX", "SETTINGS", "Setting", "SettingError", "feeds_dir", "get", "resolve_all", "user_agent"]

ENV_PREFIX = "CONSENT_TRACKER_"
#: Where the stores live unless the settings say otherwise: ``data/`` in the current folder (the project's own
#: ``data/`` for someone in a checkout; for an installed tool, never a folder inside the package).
DATA_DIR = Path("data")


def _bool(v: str) -> bool:
    s = v.strip().lower()
    if s in {"1", "true", "yes", "on"}:
        return True
    if s in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {v!r}")


def _positive_float(v: str) -> float:
    f = float(v)
    if not f > 0:
        raise ValueError("must be > 0")
    return f


def _non_negative_float(v: str) -> float:
    f = float(v)
    if not f >= 0:
        raise ValueError("must be ≥ 0")
    return f


def _non_negative_int(v: str) -> int:
    i = int(v)
    if i < 0:
        raise ValueError("must be ≥ 0")
    return i


def _positive_int(v: str) -> int:
    i = int(v)
    if i < 1:
        raise ValueError("must be ≥ 1")
    return i


def _trigger(value: str) -> str:
    from tracker.operations.schedule import parse_trigger

    parse_trigger(value)  # raises SettingError with what is accepted
    return value.strip()


@dataclass(frozen=True, slots=True)
class Setting:
    """A named setting with its default and help text."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        """The environment variable that overrides it."""
        return ENV_PREFIX + self.name.upper().replace("-", "_")


_SETTINGS = [
    Setting("db", str(DATA_DIR / "tracker.db"), "SQLite database path (or an SQLAlchemy URL)."),
    Setting("agents-file", "", "Agent registry JSON (default: the packaged tracker/data/agents.json)."),
    Setting("user-agent", USER_AGENT, "User-Agent sent with every request; {contact} is replaced by the contact URL."),
    Setting("contact-url", CONTACT_URL, "Where site operators can learn about the crawler and reach its operator."),
    Setting("timeout", TIMEOUT, "Seconds allowed for connecting and for each read.", _positive_float),
    Setting("total-timeout", 30.0, "Seconds allowed for one fetch in all (redirects included).", _positive_float),
    Setting("max-redirects", MAX_REDIRECTS, "Redirect hops followed (RFC 9309: at least 5).", _positive_int),
    Setting("archive-url", ARCHIVE_URL, "The Wayback Machine (CDX index and raw captures) for backfill."),
    Setting("archive-rate", 1.0, "Requests a second to the archive in a backfill (0: no limit).", _non_negative_float),
    Setting("tranco-url", TRANCO_URL, "Where `sites add --tranco` downloads Tranco lists."),
    Setting("concurrency", 100, "Sites crawled at once.", _positive_int),
    Setting("delay", 0.1, "Seconds between two requests to the same host.", _non_negative_float),
    Setting("retries", 1, "Extra tries for transient failures (5xx, 429, network errors).", _non_negative_int),
    Setting(
        "schedule-robots",
        "0 3 * * *",
        "When `schedule` crawls robots.txt: a crontab (UTC), 'every 6h', or 'off'.",
        _trigger,
    ),
    Setting(
        "schedule-signals", "0 4 * * 6", "When `schedule` crawls every signal (default weekly, Saturdays).", _trigger
    ),
    Setting(
        "schedule-wayback", "0 5 1 * *", "When `schedule` tops up history from the Wayback Machine (monthly).", _trigger
    ),
    Setting("feeds-dir", "", "Where Atom feeds of changes are written (default: <db name>-feeds/ beside it)."),
    Setting("webhook-url", "", "A URL that receives each live change event as JSON after a scheduled run."),
    Setting("dashboard-url", "http://127.0.0.1:8501", "The dashboard's address, for links in feeds and webhooks."),
    Setting(
        "allow-private",
        False,
        "Allow requests to private, loopback and link-local addresses (tests and local fake webs only).",
        _bool,
    ),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _SETTINGS}


def get(name: str, override: Any = None, *, environ: Mapping[str, str] | None = None) -> Any:
    """Resolve one setting: ``override`` if not None, else its environment variable, else its default."""
    setting = SETTINGS[name]
    if override is not None:
        return override
    env = os.environ if environ is None else environ
    raw = env.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    try:
        return setting.parse(raw)
    except ValueError as e:
        raise SettingError(f"{setting.env}={raw!r}: {e}") from None


def resolve_all(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting's effective value."""
    return {name: get(name, environ=environ) for name in SETTINGS}


def user_agent(override_ua: str | None = None, contact: str | None = None) -> str:
    """The User-Agent header, with the contact URL filled in."""
    return user_agent_header(str(get("user-agent", override_ua)), str(get("contact-url", contact)))


def feeds_dir(db: str, value: str | None = None) -> Path:
    """Where the Atom feeds go: the ``feeds-dir`` setting, else ``<name>-feeds/`` beside an SQLite database file
    (``data/tracker-feeds`` for ``data/tracker.db``; for a server database, ``data/feeds`` in the current folder)."""
    chosen = get("feeds-dir", value)
    if chosen:
        return Path(chosen)
    if "://" in db and not db.startswith("sqlite:///"):
        return DATA_DIR / "feeds"
    path = Path(db.removeprefix("sqlite:///")).expanduser()
    return path.parent / f"{path.stem}-feeds"
