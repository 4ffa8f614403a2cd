"""One exception tree for the library. Every exception class of the package is defined here, and nowhere else.

    TrackerError          anything the user can fix: a bad file, a bad value, a missing database
    ├── SettingError      a setting's value (option or environment) cannot be used (config.settings)
    ├── ParameterError    a parameter's value cannot be used (its ``parameter`` names it; service, pipeline)
    ├── NotFoundError     a site, run or list asked for is not in the database (service)
    ├── RegistryError     the agent registry or an upstream list is missing or malformed (rules.agents)
    ├── SiteListError     a site list cannot be read (rules.sitelist)
    ├── DownloadError     a file the user asked for could not be downloaded (fetch.http)
    ├── StoreError        the database cannot be opened, created or upgraded (store)
    │   └── StoreBusy     another process holds the store's lock (store.lock)
    ├── ParamsError       a forecast parameter file or override cannot be used (analysis.forecast)
    ├── ClaimsError       a claims file cannot be used; it names the line and column (analysis.claims)
    ├── ArchiveError      an archive cannot be imported at all (pipeline.archive_import)
    ├── ArchiveUnavailable the Wayback Machine refuses us after every retry, or is out of reach (pipeline.backfill)
    ├── NetworkDown       DNS fails for every name tried: this machine looks offline (fetch.network, pipeline.crawl)
    ├── TrendError        a series cannot be computed as asked (analysis.trends)
    ├── ReportError       a report cannot be written (publishing.report)
    └── PublishError      a release cannot be written: nothing to publish, or a folder in the way (publishing.release)

    FetchFault            inside a fetch only: caught by tracker.fetch and recorded, never shown as an error
    ├── PrivateAddressError  a host resolves to an address the crawler must not contact (``allow_private``)
    ├── LocalResourceError   our side ran out of file handles, buffers or memory (the site is left unrecorded)
    └── DecodingError        a body whose content encoding we will not decode

Network and HTTP trouble is never raised to a caller: every fetch outcome is a recorded status
(tracker.records.vocabulary). Each TrackerError derives from ValueError too, so callers that caught ValueError keep
working. Messages name parameters and settings, never command-line flags: the CLI maps an error's ``parameter``
to its option in one place (``tracker.cli._option``).
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ArchiveUnavailable",
    "ClaimsError",
    "DecodingError",
    "DownloadError",
    "FetchFault",
    "LocalResourceError",
    "NetworkDown",
    "NotFoundError",
    "ParameterError",
    "ParamsError",
    "PrivateAddressError",
    "PublishError",
    "RegistryError",
    "ReportError",
    "SettingError",
    "SiteListError",
    "StoreBusy",
    "StoreError",
    "TrackerError",
    "TrendError",
]


class TrackerError(ValueError):
    """Base of every error the library raises on purpose; its message is meant for the user. ``parameter``: the
    parameter (or setting) at fault when there is one, named at the start of the message."""

    def __init__(self, *args: object, parameter: str | None = None) -> None:
        super().__init__(*args)
        self.parameter = parameter


class SettingError(TrackerError):
    """A setting's value (from an option or the environment) cannot be used."""


class ParameterError(TrackerError):
    """A parameter's value cannot be used. The message starts with the parameter's name (``since must be a date
    like 2024-01-31, not 'x'``); ``parameter`` holds that name so a face can say it in its own words (the CLI: its
    option, ``--since``)."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message, parameter=parameter)


class NotFoundError(TrackerError):
    """A site, crawl run or tracked list asked for is not in the database."""


class RegistryError(TrackerError):
    """The registry file or an upstream list is missing or malformed."""


class SiteListError(TrackerError):
    """A site list cannot be read."""


class DownloadError(TrackerError):
    """A file the user asked for (an upstream agent list, a site list) could not be downloaded."""


class StoreError(TrackerError):
    """The database cannot be opened, created or upgraded."""


class StoreBusy(StoreError):
    """Another process holds the store's lock."""


class ParamsError(TrackerError):
    """A forecast parameter file or override cannot be used."""


class ClaimsError(TrackerError):
    """The claims file cannot be used: it names the line and column at fault."""


class ArchiveError(TrackerError):
    """The archive cannot be imported at all (e.g. the folder does not exist)."""


class ArchiveUnavailable(TrackerError):
    """The archive keeps refusing us (429, 5xx) after every retry, or cannot be reached: stop, and say how to go on."""


class NetworkDown(TrackerError):
    """The network looks down: lookups of every name tried failed (or no site could be reached at all), so going
    on would only record this machine's outage as every site's."""


class TrendError(TrackerError):
    """The series cannot be computed as asked (unknown agent, bad dates, unreadable weights)."""


class ReportError(TrackerError):
    """The report cannot be written (no data, no Chromium for a PDF, an unwritable folder)."""


class PublishError(TrackerError):
    """A release cannot be written: the database holds nothing to publish, or the folder is not empty."""


class FetchFault(Exception):
    """Raised inside a fetch and caught there: it becomes a recorded outcome (or an unrecorded site), never an
    error a user sees."""


class PrivateAddressError(FetchFault):
    """The host resolves to an address the crawler must not contact without ``allow_private``."""


class LocalResourceError(FetchFault):
    """Our side ran out of something — file handles, buffers, memory — during a fetch: a failure of the crawler,
    never an observation of the site (the site is left unrecorded, for a resume)."""


class DecodingError(FetchFault):
    """A body whose encoding we will not decode (too many layers, or data no decoder accepts)."""
