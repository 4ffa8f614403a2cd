"""Records: the typed, frozen values that cross the library's boundaries, one JSON shape each (``as_dict``)."""

__all__: list[str] = []
