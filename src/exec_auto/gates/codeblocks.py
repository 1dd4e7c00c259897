"""Which functions of a Python module an edit changed, and whether it changed import-time code.

A test "executes" a function when coverage saw a line of its body run during that test. Code that
runs at import time (module-level statements, class bodies, decorators) runs during collection,
before any test, so no test is credited with it: an edit there cannot be traced through coverage
and is reported as a module-level change. Comparison is by AST, so comments and formatting never
count as changes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Decorators that only wrap a function at class creation: changing the body behind them is a
# body change, adding or removing such a method does not run anything else at import time.
INERT_DECORATORS = frozenset(
    {
        "property",
        "staticmethod",
        "classmethod",
        "abstractmethod",
        "abc.abstractmethod",
        "overload",
        "typing.overload",
        "override",
        "typing.override",
        "typing_extensions.override",
        "functools.wraps",
    }
)
_ACCESSOR_SUFFIXES = (".setter", ".getter", ".deleter")

_Def = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Shape:
    """A module's import-time skeleton and the AST of each function, by qualified name."""

    skeleton: str
    functions: dict[str, str]


@dataclass(frozen=True)
class Change:
    """What an edit changed: functions (by qualified name), or code that runs at import."""

    functions: frozenset[str]
    module_level: bool = False
    # Why the comparison could not be made (a syntax error, a missing version).
    unreadable: str = ""


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target)


def _inert(node: _Def) -> bool:
    return all(
        _decorator_name(d) in INERT_DECORATORS or _decorator_name(d).endswith(_ACCESSOR_SUFFIXES)
        for d in node.decorator_list
    )


class _Split(ast.NodeTransformer):
    """Cuts functions out of a module: their ASTs by name, the rest is the import-time skeleton."""

    def __init__(self) -> None:
        self.functions: dict[str, str] = {}
        self.prefix: list[str] = []

    def _function(self, node: _Def) -> ast.AST | None:
        name = ".".join([*self.prefix, node.name])
        header = "|".join(ast.dump(d) for d in node.decorator_list)
        decorators, node.decorator_list = node.decorator_list, []
        # Redefinitions share a name: any change to either counts for both.
        self.functions[name] = self.functions.get(name, "") + ast.dump(node)
        node.decorator_list = decorators
        if _inert(node):
            return None  # body, signature and presence are the function's own business
        # A decorator runs at import: keep it (and the name it binds) in the skeleton.
        return ast.Expr(ast.Constant(f"def {name} {header}"))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST | None:
        """A function: recorded whole, replaced in the skeleton."""
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST | None:
        """An async function: recorded whole, replaced in the skeleton."""
        return self._function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        """A class body runs at import; its methods are functions."""
        self.prefix.append(node.name)
        self.generic_visit(node)
        self.prefix.pop()
        if not node.body:
            node.body = [ast.Pass()]
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """Keep bodies non-empty after functions are cut out of them."""
        result = super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            value = getattr(result, name, None)
            if isinstance(value, list) and not value and name == "body":
                setattr(result, name, [ast.Pass()])
        return result


def shape(source: str) -> Shape:
    """The skeleton and functions of `source` (raises SyntaxError/ValueError when unparsable)."""
    tree = ast.parse(source)
    body = tree.body
    # The module docstring is documentation, not behaviour.
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        tree.body = body[1:]
    split = _Split()
    tree = split.visit(tree)
    return Shape(ast.dump(tree), split.functions)


def changed(before: str | None, after: str | None) -> Change:
    """The functions an edit from `before` to `after` changed (None: the file did not exist)."""
    if before is None or after is None:
        return Change(frozenset(), unreadable="the file is new" if before is None else "")
    try:
        old = shape(before)
    except (SyntaxError, ValueError) as exc:
        return Change(frozenset(), unreadable=f"the recorded version does not parse ({exc})")
    try:
        new = shape(after)
    except (SyntaxError, ValueError) as exc:
        return Change(frozenset(), unreadable=f"it does not parse ({type(exc).__name__})")
    names = {
        name
        for name in old.functions.keys() | new.functions.keys()
        if old.functions.get(name) != new.functions.get(name)
        # A function that did not exist before has run in no test yet.
        and name in old.functions
    }
    return Change(frozenset(names), module_level=old.skeleton != new.skeleton)
