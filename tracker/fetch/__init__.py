"""Fetching: polite HTTP by RFC 9309's rules (robots.txt, pages), and the Wayback Machine's CDX index and captures."""

__all__: list[str] = []
