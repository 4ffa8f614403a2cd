"""The packages of ``tracker/`` import one way: a package may import its own modules and the packages below it,
never one above. Read from the source (module-level and function-level imports alike, relative ones resolved), so
a deferred import cannot hide an upward dependency.

    errors, config            leaves: the exception tree; defaults and settings
    records                   the published schema and the vocabulary
    rules                     pure parsers and rules (robots.txt, signals, the agent registry, site lists)
    fetch                     polite HTTP, the Wayback client
    store                     tables, engine, the single writer, queries (and its migrations)
    pipeline                  crawl, backfill, import, change detection, tracked lists
    analysis                  trends, weights, categories, forecast, claims, headlines
    publishing                report, charts, feeds, webhook
    service                   one function per use case
    operations                scheduler, workers, up, demo
    dashboard, api, cli       the faces (the CLI starts the dashboard and the API: it may import ``tracker.dashboard``
                              and ``tracker.api``; they import neither each other nor the CLI)
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracker

PACKAGE = Path(tracker.__file__).parent
LAYERS = [
    {"errors", "config"},
    {"records"},
    {"rules"},
    {"fetch"},
    {"store", "migrations"},
    {"pipeline"},
    {"analysis"},
    {"publishing"},
    {"service"},
    {"operations"},
    {"dashboard", "api"},
    {"cli", "__main__"},
]
LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}
#: imports allowed across the order, each for a stated reason
EXCEPTIONS = {
    # the CLI finds the dashboard's app file to serve it; the package root imports nothing
    ("tracker.cli.presenting", "tracker.dashboard"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_only(tree: ast.AST) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:`` (for annotations only: nothing loads them)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            found |= {id(n) for child in node.body for n in ast.walk(child)}
    return found


def _imports(path: Path, module: str, *, runtime: bool = False) -> Iterator[tuple[str, int]]:
    """Every ``tracker`` module a file (the module ``module``) imports, by absolute name, with the line;
    ``runtime``: leave out the imports for type checking only."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree) if runtime else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names = [".".join([*base, node.module] if node.module else base)]
            else:
                names = [node.module or ""]
            # ``from tracker import service`` imports the package tracker.service (``__version__`` is no module)
            if names[0] == "tracker":
                names = [f"tracker.{alias.name}" for alias in node.names if not alias.name.startswith("__")]
        else:
            continue
        for name in names:
            if name.startswith("tracker."):
                yield name, node.lineno


def _part(module: str) -> str:
    return module.split(".")[1]


@functools.cache  # two tests read the same scan: parse the package once per session
def _edges() -> tuple[tuple[str, str, str], ...]:
    """(importer, imported, where) for every import between two different top-level parts of the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        if importer == "tracker":
            continue
        for imported, line in _imports(path, importer):
            if _part(imported) != _part(importer):
                found.append((importer, imported, f"{path.relative_to(PACKAGE.parent)}:{line}"))
    return tuple(found)


def test_every_part_of_the_package_has_a_layer_and_no_flat_pile() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name not in ("__pycache__", "data")}
    assert modules == {"errors"}, f"modules beside the packages: {sorted(modules)}"
    assert packages | modules == set(LEVEL) - {"__main__"}, "every package has a layer here, and only those"


def test_imports_point_down_the_layers() -> None:
    edges = _edges()
    assert len(edges) > 100  # the scan sees the package's imports
    upward = [
        f"{where}: {importer} imports {imported}"
        for importer, imported, where in edges
        if _part(imported) in LEVEL
        and LEVEL[_part(imported)] > LEVEL[_part(importer)]
        and (importer, imported) not in EXCEPTIONS
    ]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_the_faces_reach_data_only_through_the_service() -> None:
    """The CLI and the dashboard ask the service (or the operations above it) for data: no face opens the store,
    runs a pipeline step or fetches by itself (annotations under TYPE_CHECKING aside)."""
    below = {"store", "pipeline", "fetch"}
    bypass = []
    for face in ("cli", "dashboard"):
        for path in sorted((PACKAGE / face).rglob("*.py")):
            module = _module_name(path)
            bypass += [
                f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {imported}"
                for imported, line in _imports(path, module, runtime=True)
                if _part(imported) in below
            ]
    assert not bypass, "faces around the service:\n" + "\n".join(bypass)


def test_the_leaves_import_nothing_above_them() -> None:
    """The leaves stay leaves: errors imports nothing of the project; config only errors and itself."""
    for importer, imported, where in _edges():
        if _part(importer) == "errors":
            pytest.fail(f"{where}: tracker.errors imports {imported}")
        if _part(importer) == "config" and _part(imported) != "errors":
            pytest.fail(f"{where}: tracker.config imports {imported}")


def test_the_scan_sees_deferred_relative_and_package_imports(tmp_path: Path) -> None:
    """The check can fail: a deferred import inside a function, a relative import and ``from tracker import x``
    are all found."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from ..store import queries\nfrom tracker import service\n\ndef f():\n    from tracker.cli import app\n",
        encoding="utf-8",
    )
    found = {name for name, _ in _imports(probe, "tracker.rules.probe")}
    assert found == {"tracker.store", "tracker.service", "tracker.cli"}
    typed = tmp_path / "typed.py"
    typed.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tracker.store import queries\n")
    assert [n for n, _ in _imports(typed, "tracker.cli.typed")] == ["tracker.store"]
    assert [n for n, _ in _imports(typed, "tracker.cli.typed", runtime=True)] == []
