"""The write pipeline: live crawls, Wayback backfill, archive import, evaluation, change detection, tracked lists."""

__all__: list[str] = []
