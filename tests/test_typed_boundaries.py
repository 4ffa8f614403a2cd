"""No untyped dict crosses a module boundary of the library (issue 19): a public function or method of ``tracker/``
takes and returns records (frozen dataclasses) or typed JSON (``tracker.records.json.Json``/``JsonObject``), never
``dict[str, Any]``, ``Mapping[str, Any]`` (or ``object`` values) or a bare ``dict``; nor does a public record's
field or a module's public constant hold one. Read from the source with ``ast``, so the check holds for code no
test calls.

Private names (a leading underscore: the function, or any class it sits in) may keep dicts inside their module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracker

PACKAGE = Path(tracker.__file__).parent

#: (module, qualified name, where) that may keep an untyped dict in a public signature, each for a stated reason.
#: Empty: every boundary found so far could be typed. Decoding points (``CrawlConfig.from_json``,
#: ``ScheduleOptions.from_kwargs``) take ``JsonObject`` and keep their untyped dict local.
ALLOWED: set[tuple[str, str, str]] = set()

_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}
#: Values that say nothing: a mapping of these is a dict a reader must take apart by key and hope.
_UNTYPED = {"Any", "object"}


def _name(node: ast.expr) -> str:
    """The last part of a (dotted) name: ``typing.Mapping`` → ``Mapping``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def untyped_dicts(annotation: ast.expr) -> Iterator[str]:
    """Each untyped dict an annotation holds anywhere (``list[dict[str, Any]] | None`` included): a bare
    ``dict``/``Mapping``, or one whose values are ``Any`` (or ``object``)."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Subscript) and _name(node.value) in _MAPPINGS:
            args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if any(_name(a) in _UNTYPED for a in args):
                yield ast.unparse(node)
        elif isinstance(node, ast.Name | ast.Attribute) and _name(node) in _MAPPINGS:
            parent_subscripted = any(isinstance(p, ast.Subscript) and p.value is node for p in ast.walk(annotation))
            if not parent_subscripted:
                yield ast.unparse(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
            try:
                inner = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                continue
            yield from untyped_dicts(inner)


def violations(source: str, module: str = "probe") -> Iterator[tuple[str, str, str, str]]:
    """(module, qualified name, where, annotation) for every public signature with an untyped dict."""

    def visit(body: list[ast.stmt], prefix: str, public: bool) -> Iterator[tuple[str, str, str, str]]:
        for node in body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                # a record's field, or a module's constant: read by whoever imports it
                if public and not node.target.id.startswith("_"):
                    for found in untyped_dicts(node.annotation):
                        yield module, f"{prefix}{node.target.id}", "field", found
            elif isinstance(node, ast.ClassDef):
                yield from visit(node.body, f"{prefix}{node.name}.", public and not node.name.startswith("_"))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not public or (node.name.startswith("_") and not node.name.startswith("__")):
                    continue
                qualname = f"{prefix}{node.name}"
                a = node.args
                params = [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]
                for arg in params:
                    if arg.annotation is not None:
                        for found in untyped_dicts(arg.annotation):
                            yield module, qualname, arg.arg, found
                if node.returns is not None:
                    for found in untyped_dicts(node.returns):
                        yield module, qualname, "return", found

    yield from visit(ast.parse(source).body, "", True)


def _library() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if "migrations" in parts:
            continue  # Alembic's generated revisions, not the library's API
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path.read_text(encoding="utf-8")


def test_no_public_signature_takes_or_returns_an_untyped_dict() -> None:
    found = [
        f"{module}.{name} ({where}): {annotation}"
        for module, text in _library()
        for module, name, where, annotation in violations(text, module)
        if (module, name, where) not in ALLOWED
    ]
    assert not found, "public signatures with untyped dicts (use a record, or Json/JsonObject):\n" + "\n".join(found)


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose signature was typed since is dropped, so the list never outgrows the truth."""
    seen = {(m, n, w) for module, text in _library() for m, n, w, _ in violations(text, module)}
    assert seen >= ALLOWED, sorted(ALLOWED - seen)


PROBE = """
from typing import Any
from collections.abc import Mapping
import typing

def takes(d: dict[str, Any]) -> None: ...
def gives() -> list[Mapping[str, Any]] | None: ...
def bare(d: dict) -> None: ...
def quoted(d: "typing.Mapping[str, Any]") -> None: ...
async def later(*, options: Mapping[str, Any]) -> int: ...
def kwargs(**extra: dict[str, Any]) -> None: ...
class Public:
    params: dict[str, Any]
    _cache: dict[str, Any]
    def method(self) -> dict[str, Any]: ...
    def _private(self) -> dict[str, Any]: ...
class _Hidden:
    row: dict[str, Any]
    def method(self) -> dict[str, Any]: ...
SETTINGS: Mapping[str, Any] = {}
_REGISTRY: dict[str, Any] = {}
def _helper(d: dict[str, Any]) -> dict[str, Any]: ...
def typed(d: dict[str, int], m: Mapping[str, "Json"], j: JsonObject) -> dict[str, Json]: ...
def outer() -> None:
    def inner(d: dict[str, Any]) -> None: ...  # a closure is not a boundary
"""


def test_the_check_flags_untyped_dicts_and_only_those() -> None:
    found = {(name, where) for _, name, where, _ in violations(PROBE)}
    assert found == {
        ("takes", "d"),
        ("gives", "return"),
        ("bare", "d"),
        ("quoted", "d"),
        ("later", "options"),
        ("kwargs", "extra"),
        ("Public.method", "return"),
        ("Public.params", "field"),
        ("SETTINGS", "field"),
    }


@pytest.mark.parametrize(
    ("annotation", "flagged"),
    [
        ("dict[str, Any]", True),
        ("Mapping[str, Any] | None", True),
        ("dict", True),
        ("typing.Dict[str, Any]", True),
        ("tuple[int, dict[str, Any]]", True),
        ("Mapping[str, object]", True),
        ("dict[str, int]", False),
        ("dict[str, Json]", False),
        ("JsonObject", False),
        ("Any", False),
    ],
)
def test_annotations(annotation: str, flagged: bool) -> None:
    assert bool(list(untyped_dicts(ast.parse(annotation, mode="eval").body))) is flagged
