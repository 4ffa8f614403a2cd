"""Configuration: settings and their defaults, resolved once at the edge."""

__all__: list[str] = []
