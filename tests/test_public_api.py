"""The package's public surface: every module says what it exports in ``__all__``, exports only what exists, and
defines no public function or class it does not export; the facades keep the names callers import."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import tracker

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(tracker.__path__, "tracker.")
    if ".migrations" not in m.name and ".dashboard" not in m.name
)


def test_the_package_has_its_modules() -> None:
    for name in (
        "tracker.records.vocabulary",
        "tracker.errors",
        "tracker.rules.signals.preferences",
        "tracker.store.queries",
        "tracker.store.runs",
        "tracker.cli",
    ):
        assert name in MODULES


@pytest.mark.parametrize("name", [m for m in MODULES if m not in ("tracker.__main__",)])
def test_all_is_declared_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    for n in exported:
        assert hasattr(module, n), f"{name}.__all__ names {n}, which does not exist"
    for n, obj in vars(module).items():
        if n.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) == name:
            assert n in exported, f"{name}.{n} is public but not in __all__ (export it or make it private)"


def test_facades_keep_the_names_callers_import() -> None:
    from tracker.rules import robots, signals

    for n in ("parse_robots", "RobotsRules", "Stance", "Verdict", "escape_path", "path_of", "PARSER_VERSION"):
        assert n in robots.__all__
    for n in (
        "html_signals",
        "x_robots_tag",
        "tdmrep_file",
        "tdm_for_path",
        "ai_txt",
        "content_signal",
        "content_signals_for",
        "content_usage",
        "content_usage_for",
        "rsl_document",
        "rsl_license_urls",
        "llms_txt",
        "classify_tos",
        "find_tos_links",
        "parse_directives",
        "site_preferences",
    ):
        assert n in signals.__all__, n


def test_errors_form_one_tree() -> None:
    from tracker import errors

    for n in errors.__all__:
        # What a user can fix, or (FetchFault) what a fetch raises and records itself, never shown as an error.
        assert issubclass(getattr(errors, n), errors.TrackerError | errors.FetchFault), n
    assert not issubclass(errors.FetchFault, errors.TrackerError)
    from tracker.analysis.trends import TrendError
    from tracker.config.settings import SettingError
    from tracker.pipeline.archive_import import ArchiveError
    from tracker.rules.agents import RegistryError
    from tracker.store import StoreError

    assert all(
        issubclass(e, errors.TrackerError) for e in (RegistryError, ArchiveError, SettingError, StoreError, TrendError)
    )


@pytest.mark.parametrize("name", [m for m in MODULES if m not in ("tracker.__main__", "tracker.errors")])
def test_every_exception_class_is_defined_in_errors(name: str) -> None:
    """One tree in one place: no module of the package defines an exception class of its own."""
    module = importlib.import_module(name)
    own = [
        n
        for n, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == name
    ]
    assert own == [], f"{name} defines {own}: define them in tracker/errors.py"
