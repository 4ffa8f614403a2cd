"""One registry of settings: name, default, help. Each is overridable by a CLI option and by the environment.

Precedence: an explicit option, then ``CONSENT_TRACKER_<NAME>`` (upper case, '-' → '_'), then the default.
``consent-tracker settings`` lists them all; tests/test_docs.py checks that the README documents each one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from tracker.config import defaults as d
from tracker.errors import SettingError

__all__ = [
    "ENV_PREFIX",
    "SETTINGS",
    "Setting",
    "SettingError",
    "SettingValue",
    "Settings",
    "feeds_dir",
    "get",
    "parse_trigger",
    "resolve",
    "resolve_all",
    "user_agent",
]

ENV_PREFIX = "CONSENT_TRACKER_"
#: A setting's resolved value (every setting is text, a number or a flag: plain values a stored job can carry).
SettingValue: TypeAlias = str | int | float | bool
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


#: The units of an ``every N<unit>`` schedule: seconds, minutes, hours, days, weeks.
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: The longest interval accepted (beyond it Python's dates overflow long before a run would be due).
_MAX_INTERVAL_DAYS = 3660


def parse_trigger(spec: str) -> Any:
    """The schedule-* settings' grammar, as an APScheduler trigger: a crontab of five fields (UTC), ``every 6h``
    (s/m/h/d/w), or ``off`` (None). Raises SettingError for anything else."""
    import re
    from datetime import UTC, datetime

    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    text = spec.strip().lower()
    if text in ("off", "never", ""):
        return None
    m = re.fullmatch(r"every\s+(\d+(?:\.\d+)?)\s*([smhdw])", text)
    if m:
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
        if seconds <= 0:
            raise SettingError(f"{spec!r}: the interval must be positive")
        if seconds > _MAX_INTERVAL_DAYS * 86400:
            raise SettingError(
                f"{spec!r}: the interval must be at most {_MAX_INTERVAL_DAYS}d (ten years); "
                "use 'off' for a job that never runs"
            )
        return IntervalTrigger(seconds=seconds, timezone=UTC)
    if len(text.split()) == 5:
        try:
            cron = CronTrigger.from_crontab(text, timezone=UTC)
        except ValueError as e:
            raise SettingError(f"{spec!r} is not a valid crontab: {e}") from None
        if cron.get_next_fire_time(None, datetime.now(UTC)) is None:
            # e.g. '0 3 31 2 *' (31 February): such a job would only ever be listed as paused.
            raise SettingError(f"{spec!r} never fires (no such date); use 'off' for a job that never runs")
        return cron
    raise SettingError(f"{spec!r}: use a crontab ('0 3 * * *'), 'every 6h' (s, m, h, d or w), or 'off'")


def _trigger(value: str) -> str:
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
    Setting(
        "user-agent", d.USER_AGENT, "User-Agent sent with every request; {contact} is replaced by the contact URL."
    ),
    Setting("contact-url", d.CONTACT_URL, "Where site operators can learn about the crawler and reach its operator."),
    Setting("timeout", d.TIMEOUT, "Seconds allowed for connecting and for each read.", _positive_float),
    Setting(
        "total-timeout", d.TOTAL_TIMEOUT, "Seconds allowed for one fetch in all (redirects included).", _positive_float
    ),
    Setting("max-redirects", d.MAX_REDIRECTS, "Redirect hops followed (RFC 9309: at least 5).", _positive_int),
    Setting("archive-url", d.ARCHIVE_URL, "The Wayback Machine (CDX index and raw captures) for backfill."),
    Setting(
        "archive-rate",
        d.ARCHIVE_RATE,
        "Requests a second to the archive in a backfill (0: no limit).",
        _non_negative_float,
    ),
    Setting("tranco-url", d.TRANCO_URL, "Where `sites add --tranco` downloads Tranco lists."),
    Setting("concurrency", d.CONCURRENCY, "Sites crawled at once.", _positive_int),
    Setting("delay", d.DELAY, "Seconds between two requests to the same host.", _non_negative_float),
    Setting("retries", d.RETRIES, "Extra tries for transient failures (5xx, 429, network errors).", _non_negative_int),
    Setting(
        "schedule-robots",
        d.SCHEDULE_ROBOTS,
        "When `schedule` crawls robots.txt: a crontab (UTC), 'every 6h', or 'off'.",
        _trigger,
    ),
    Setting(
        "schedule-signals",
        d.SCHEDULE_SIGNALS,
        "When `schedule` crawls every signal (default weekly, Saturdays).",
        _trigger,
    ),
    Setting(
        "schedule-wayback",
        d.SCHEDULE_WAYBACK,
        "When `schedule` tops up history from the Wayback Machine (monthly).",
        _trigger,
    ),
    Setting("feeds-dir", "", "Where Atom feeds of changes are written (default: <db name>-feeds/ beside it)."),
    Setting("webhook-url", "", "A URL that receives each live change event as JSON after a scheduled run."),
    Setting("dashboard-url", d.DASHBOARD_URL, "The dashboard's address, for links in feeds and webhooks."),
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


def resolve_all(environ: Mapping[str, str] | None = None) -> dict[str, SettingValue]:
    """Every setting's effective value."""
    return {name: get(name, environ=environ) for name in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting's effective value, resolved once at the edge (a face: the CLI, the dashboard, the scheduler's
    start) and passed down; one attribute per setting, named as the setting with '_' for '-'."""

    db: str
    agents_file: str
    user_agent: str
    contact_url: str
    timeout: float
    total_timeout: float
    max_redirects: int
    archive_url: str
    archive_rate: float
    tranco_url: str
    concurrency: int
    delay: float
    retries: int
    schedule_robots: str
    schedule_signals: str
    schedule_wayback: str
    feeds_dir: str
    webhook_url: str
    dashboard_url: str
    allow_private: bool

    @classmethod
    def from_values(cls, values: Mapping[str, SettingValue]) -> Settings:
        """Back from :meth:`values` (the plain values a scheduled job carries; a setting newer than the job: its
        default)."""
        return cls(**{name.replace("-", "_"): values.get(name, s.default) for name, s in SETTINGS.items()})

    def values(self) -> dict[str, SettingValue]:
        """As ``{setting name: value}``, the shape the scheduler's stored jobs carry (:meth:`from_values` reads it
        back)."""
        return {name: getattr(self, name.replace("-", "_")) for name in SETTINGS}

    def header(self) -> str:
        """The User-Agent header, with the contact URL filled in."""
        return d.user_agent_header(self.user_agent, self.contact_url)

    def feeds_path(self) -> Path:
        """Where the Atom feeds go (:func:`feeds_dir`)."""
        return feeds_dir(self.db, self.feeds_dir or None)


def resolve(
    overrides: Mapping[str, SettingValue | None] | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Every setting resolved once: ``overrides`` (by setting name; a None value is no override), then the
    environment, then the default."""
    given = dict(overrides or {})
    unknown = set(given) - set(SETTINGS)
    if unknown:
        raise SettingError(f"no such setting: {', '.join(sorted(unknown))}")
    return Settings(**{name.replace("-", "_"): get(name, given.get(name), environ=environ) for name in SETTINGS})


def user_agent(override_ua: str | None = None, contact: str | None = None) -> str:
    """The User-Agent header, with the contact URL filled in."""
    return d.user_agent_header(str(get("user-agent", override_ua)), str(get("contact-url", contact)))


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
