"""Publishing: trend reports, charts, Atom feeds and the webhook."""

__all__: list[str] = []
