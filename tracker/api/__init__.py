"""The read API: ``consent-tracker serve``, a JSON face beside the CLI and the dashboard (FastAPI on uvicorn).

    app       the app factory: typed settings in (resolved by the face that starts it), the store opened read-only,
              error handlers (every failure a JSON body, bad input a 4xx), CORS for GET, the OpenAPI document
    answers   what makes answers cheap to repeat: the data's version, ETags, a response cache shared by
              concurrent requests for the same answer, and the computations kept off the event loop
    routes    ``/v1/trends``, ``/v1/sites/{domain}``, ``/v1/changes``, ``/v1/agents``, ``/v1/forecast``: thin,
              each one call of :mod:`tracker.service` whose result's own ``as_dict()`` is the body — the same
              document ``--format json`` prints

Names are exported lazily: importing ``tracker.api`` does not import FastAPI (the CLI's start-up stays light).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"ApiOptions": "app", "create_app": "app"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
