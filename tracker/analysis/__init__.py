"""Analysis (reads only): trends, weights, categories, the forecast, published claims, headlines, per-site state."""

__all__: list[str] = []
