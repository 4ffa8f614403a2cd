"""Pure rules: robots.txt (RFC 9309), the signal parsers, the agent registry, site lists. No I/O
beyond reading a given text."""

__all__: list[str] = []
