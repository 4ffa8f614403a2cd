"""One exception tree for the library. The CLI's ``main()`` turns any of them into a one-line message, once.

    TrackerError          anything the user can fix: a bad file, a bad value, a missing database
    ├── SettingError      a setting's value (option or environment) cannot be used (config.settings)
    ├── RegistryError     the agent registry or an upstream list is missing or malformed (rules.agents)
    ├── SiteListError     a site list cannot be read (rules.sitelist)
    ├── DownloadError     a file the user asked for could not be downloaded (fetch.http)
    ├── StoreError        the database cannot be opened, created or upgraded (store)
    ├── ParamsError       a forecast parameter file or override cannot be used (analysis.forecast)
    ├── ArchiveError      an archive cannot be imported at all (pipeline.archive_import)
    └── TrendError        a series cannot be computed as asked (analysis.trends)

Network and HTTP trouble is never raised: every fetch outcome is a recorded status (tracker.rules.vocabulary).
Each error derives from ValueError too, so callers that caught ValueError keep working.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "DownloadError",
    "ParamsError",
    "RegistryError",
    "SettingError",
    "SiteListError",
    "StoreError",
    "TrackerError",
    "TrendError",
]


class TrackerError(ValueError):
    """Base of every error the library raises on purpose; its message is meant for the user."""


class SettingError(TrackerError):
    """A setting's value (from an option or the environment) cannot be used."""


class RegistryError(TrackerError):
    """The registry file or an upstream list is missing or malformed."""


class SiteListError(TrackerError):
    """A site list cannot be read."""


class DownloadError(TrackerError):
    """A file the user asked for (an upstream agent list, a site list) could not be downloaded."""


class StoreError(TrackerError):
    """The database cannot be opened, created or upgraded."""


class ParamsError(TrackerError):
    """A forecast parameter file or override cannot be used."""


class ArchiveError(TrackerError):
    """The archive cannot be imported at all (e.g. the folder does not exist)."""


class TrendError(TrackerError):
    """The series cannot be computed as asked (unknown agent, bad dates, unreadable weights)."""
