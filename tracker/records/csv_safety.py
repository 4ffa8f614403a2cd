"""CSV cells a spreadsheet cannot run: every CSV the tracker writes (CLI, reports, dashboard downloads) passes its
cells through :func:`csv_safe`, so fetched text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is shown as text, never evaluated as a formula (CSV injection)."""

from __future__ import annotations

__all__ = ["csv_safe"]


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: text must not start with = + - @ or a tab/CR."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
