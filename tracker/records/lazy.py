"""Lazy re-exports (PEP 562) for a package's ``__init__``: names listed once, per submodule, and imported on first
use, so that importing the package (or one of its modules) does not load every submodule. Used by
:mod:`tracker.records` and :mod:`tracker.service`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, tuple[str, ...]]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package`` whose names live in the submodules ``where``
    says; a name is looked up once, then kept as an attribute of the package."""
    module_of = {name: module for module, names in where.items() for name in names}
    exported = sorted(module_of)

    def getattr_(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exported))

    return exported, getattr_, dir_
