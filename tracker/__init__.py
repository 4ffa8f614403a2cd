"""consent-tracker: measure how the web's consent to AI data collection changes."""

from __future__ import annotations

__version__ = "0.1.0"
