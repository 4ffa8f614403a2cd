"""Every setting's default value, in one leaf module: it imports nothing of the project but the package's version,
so the settings, the fetchers and the pipeline all read their defaults from here without importing each other.

The registry of settings (name, help, parser, environment variable) is :mod:`tracker.config.settings`.
"""

from __future__ import annotations

from tracker import __version__

__all__ = [
    "ARCHIVE_RATE",
    "ARCHIVE_URL",
    "CONCURRENCY",
    "CONTACT_URL",
    "DASHBOARD_URL",
    "DELAY",
    "MAX_REDIRECTS",
    "RETRIES",
    "SCHEDULE_ROBOTS",
    "SCHEDULE_SIGNALS",
    "SCHEDULE_WAYBACK",
    "TIMEOUT",
    "TOTAL_TIMEOUT",
    "TRANCO_URL",
    "USER_AGENT",
    "user_agent_header",
]

#: Where site operators learn about the crawler and reach its operator (the contact-url setting).
CONTACT_URL = "https://github.com/consent-tracker/consent-tracker"
#: The User-Agent sent with every request; {contact} is replaced by the contact URL (the user-agent setting).
USER_AGENT = f"consent-tracker/{__version__} (research crawler measuring AI opt-outs; +{{contact}})"
#: Seconds allowed for connecting and for each read, unless the caller says otherwise (timeout).
TIMEOUT = 10.0
#: Seconds allowed for one fetch in all, redirects included (total-timeout).
TOTAL_TIMEOUT = 30.0
#: Redirect hops followed (RFC 9309: at least 5) (max-redirects).
MAX_REDIRECTS = 5
#: The Wayback Machine: its CDX index and raw captures (archive-url).
ARCHIVE_URL = "https://web.archive.org"
#: Requests a second to the archive in a backfill; 0: no limit (archive-rate).
ARCHIVE_RATE = 1.0
#: Where Tranco lists are downloaded from (tranco-url).
TRANCO_URL = "https://tranco-list.eu"
#: Sites crawled at once (concurrency).
CONCURRENCY = 100
#: Seconds between two requests to the same host (delay).
DELAY = 0.1
#: Extra tries for transient failures (retries).
RETRIES = 1
#: When the scheduler crawls robots.txt (daily), every signal (weekly) and tops up from the Wayback Machine.
SCHEDULE_ROBOTS = "0 3 * * *"
SCHEDULE_SIGNALS = "0 4 * * 6"
SCHEDULE_WAYBACK = "0 5 1 * *"
#: The dashboard's address, for links in feeds and webhooks (dashboard-url).
DASHBOARD_URL = "http://127.0.0.1:8501"


def user_agent_header(template: str = USER_AGENT, contact: str = CONTACT_URL) -> str:
    """The User-Agent header: the template with ``{contact}`` replaced by the contact URL."""
    return template.replace("{contact}", contact)
