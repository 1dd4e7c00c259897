"""What a test module holds, read from its AST: test functions, their checks, skips and shortcuts.

Collection follows pytest's defaults (`test_*.py`/`*_test.py` files, `test*` functions, `Test*`
classes, `unittest.TestCase` subclasses) so a test renamed out of those patterns counts as gone.
Each check (an `assert` or a `self.assert*` call) is classified as strict, loose or trivial, and
marked when a try/except around it swallows its failure.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
Strength = Literal["strict", "loose", "trivial"]

SKIP_NAMES = frozenset(
    {"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure", "skipTest"}
)
SKIP_CALLS = frozenset({"skip", "xfail", "skipTest", "importorskip", "SkipTest"})
STRICT_METHODS = frozenset(
    {
        "assertEqual",
        "assertEquals",
        "assertListEqual",
        "assertDictEqual",
        "assertTupleEqual",
        "assertSetEqual",
        "assertSequenceEqual",
        "assertMultiLineEqual",
        "assertCountEqual",
        "assertIs",
        "assertIsNone",
        "assertRaises",
        "assertRaisesRegex",
        "assertNotEqual",
        "assertIsNot",
    }
)
# Comparisons that accept more than one value where == accepts one.
LOOSE_OPS = (ast.In, ast.NotIn, ast.Gt, ast.GtE, ast.Lt, ast.LtE)
RAISES = frozenset({"raises", "assertRaises", "assertRaisesRegex", "warns", "assertWarns"})
SWALLOWING = frozenset({"AssertionError", "Exception", "BaseException"})


def is_test_file(path: str) -> bool:
    """True for files pytest collects by default."""
    name = PurePosixPath(path).name
    return any(fnmatch.fnmatch(name, p) for p in TEST_FILE_PATTERNS)


@dataclass(frozen=True)
class Check:
    """One assert (or unittest assert call) in a test."""

    line: int
    text: str
    strength: Strength
    # Inside a try whose handler catches AssertionError/Exception and does not re-raise.
    swallowed: bool = False
    approx: bool = False

    @property
    def effective(self) -> bool:
        """A check that can still fail the test."""
        return self.strength != "trivial" and not self.swallowed


@dataclass
class TestFunction:
    """A collected test function (or method) and what it checks."""

    __test__ = False

    name: str
    qualname: str
    line: int
    checks: list[Check] = field(default_factory=list)
    skip_markers: list[tuple[int, str]] = field(default_factory=list)
    skip_calls: list[tuple[int, str]] = field(default_factory=list)
    early_returns: list[tuple[int, str]] = field(default_factory=list)
    dead_branches: list[tuple[int, str]] = field(default_factory=list)
    # The function's AST (decorators included): equal when the ticket left the test as it was.
    fingerprint: str = ""


@dataclass
class TestModule:
    """A test module's tests (by qualname) and its module-level skips."""

    __test__ = False

    tests: dict[str, TestFunction] = field(default_factory=dict)
    module_skips: list[tuple[int, str]] = field(default_factory=list)
    # Functions that are not tests (fixtures, helpers): their skip calls count too.
    helper_skips: list[tuple[int, str]] = field(default_factory=list)
    # `__test__ = False` assignments, which stop pytest from collecting a module or class.
    uncollected: list[tuple[int, str]] = field(default_factory=list)
    # Functions pytest does not collect, by qualname: where a test renamed away went.
    others: dict[str, int] = field(default_factory=dict)
    syntax_error: str | None = None


def _src(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse of exotic nodes must never break the audit
        return type(node).__name__


def _dotted(node: ast.AST) -> str:
    """'pytest.mark.skip' for an Attribute chain, the name for a Name, '' otherwise."""
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def is_skip_marker(node: ast.AST) -> bool:
    name = _dotted(node)
    return bool(name) and name.split(".")[-1] in SKIP_NAMES


def is_skip_call(node: ast.AST) -> bool:
    if isinstance(node, ast.Raise) and node.exc is not None:
        return _dotted(node.exc).split(".")[-1] in {"SkipTest", "Skipped"}
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func)
    last = name.split(".")[-1]
    return last in SKIP_CALLS and (
        name.startswith(("pytest.", "self.", "unittest.")) or last == "skipTest"
    )


def _falsy_constant(test: ast.expr) -> bool:
    if isinstance(test, ast.Constant):
        return not test.value
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Constant) and bool(test.operand.value)
    return False


def _truthy_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def _has_approx(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and _dotted(n.func).split(".")[-1] == "approx"
        for n in ast.walk(node)
    )


def _assert_strength(node: ast.Assert) -> Strength:
    test = node.test
    if _truthy_constant(test):
        return "trivial"
    if isinstance(test, ast.Compare):
        if any(isinstance(op, LOOSE_OPS) for op in test.ops) or _has_approx(test):
            return "loose"
        if all(_truthy_constant(c) for c in [test.left, *test.comparators]):
            return "trivial"
        return "strict"
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return "loose"
    # `assert x` / `assert f(x)`: a truth test; weaker than a comparison, stronger than nothing.
    return "loose"


def _method_strength(call: ast.Call) -> Strength | None:
    if not isinstance(call.func, ast.Attribute):
        return None
    name = call.func.attr
    if name.startswith("assert_"):
        return "strict"  # mock's assert_called_once_with and friends
    if not name.startswith("assert"):
        return None
    if name == "assertTrue" and call.args and _truthy_constant(call.args[0]):
        return "trivial"
    return "strict" if name in STRICT_METHODS else "loose"


def _swallows(handler: ast.ExceptHandler) -> bool:
    names = []
    if handler.type is None:
        names = ["BaseException"]
    elif isinstance(handler.type, ast.Tuple):
        names = [_dotted(e) for e in handler.type.elts]
    else:
        names = [_dotted(handler.type)]
    if not any(n.split(".")[-1] in SWALLOWING for n in names):
        return False
    return not any(isinstance(n, ast.Raise) for n in ast.walk(handler))


class _BodyVisitor(ast.NodeVisitor):
    """Walks one test function's body (not nested functions), collecting checks and shortcuts."""

    def __init__(self, test: TestFunction) -> None:
        self.test = test
        self.swallow_depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        """Nested functions are helpers: their asserts still count, returns do not."""
        saved = self.test.early_returns
        self.test.early_returns = []
        self.generic_visit(node)
        self.test.early_returns = saved

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        """A lambda's body is an expression: nothing to return early from."""
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        """Checks in a try body whose handler swallows assertion errors cannot fail the test."""
        swallowing = any(_swallows(h) for h in node.handlers)
        self.swallow_depth += swallowing
        for stmt in node.body:
            self.visit(stmt)
        self.swallow_depth -= swallowing
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_With(self, node: ast.With) -> None:
        """`with pytest.raises(...)` / `self.assertRaises(...)` is a check."""
        for item in node.items:
            expr = item.context_expr
            if isinstance(expr, ast.Call) and _dotted(expr.func).split(".")[-1] in RAISES:
                self.test.checks.append(
                    Check(
                        node.lineno,
                        f"with {_src(expr)}",
                        "strict",
                        swallowed=self.swallow_depth > 0,
                    )
                )
                for arg in (*expr.args, *expr.keywords):
                    self.visit(arg)
            else:
                self.visit(item)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With  # type: ignore[assignment]

    def visit_Assert(self, node: ast.Assert) -> None:
        """Record an assert statement."""
        self.test.checks.append(
            Check(
                node.lineno,
                f"assert {_src(node.test)}",
                _assert_strength(node),
                swallowed=self.swallow_depth > 0,
                approx=_has_approx(node.test),
            )
        )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        """Record unittest/mock assert calls and skip calls."""
        strength = _method_strength(node)
        if strength is not None:
            self.test.checks.append(
                Check(
                    node.lineno,
                    _src(node),
                    strength,
                    swallowed=self.swallow_depth > 0,
                    approx=_has_approx(node),
                )
            )
        elif is_skip_call(node):
            self.test.skip_calls.append((node.lineno, _src(node)))
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        """`raise unittest.SkipTest(...)` is a skip."""
        if is_skip_call(node):
            self.test.skip_calls.append((node.lineno, _src(node)))
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        """A return in a test body ends it before the checks after it run."""
        self.test.early_returns.append((node.lineno, _src(node)))

    def visit_If(self, node: ast.If) -> None:
        """`if False:` (and `if 0:`) hides its body from the test."""
        if _falsy_constant(node.test):
            self.test.dead_branches.append((node.lineno, f"if {_src(node.test)}:"))
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        """`while False:` hides its body from the test."""
        if _falsy_constant(node.test):
            self.test.dead_branches.append((node.lineno, f"while {_src(node.test)}:"))
        self.generic_visit(node)


def _test_function(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> TestFunction:
    test = TestFunction(node.name, qualname, node.lineno, fingerprint=ast.dump(node))
    for deco in node.decorator_list:
        if is_skip_marker(deco):
            test.skip_markers.append((deco.lineno, "@" + _src(deco)))
    visitor = _BodyVisitor(test)
    for stmt in node.body:
        visitor.visit(stmt)
    last_check = max((c.line for c in test.checks), default=0)
    end = getattr(node, "end_lineno", None) or node.lineno
    # A return is early when checks follow it, or when it is not the test's last statement.
    last_stmt_line = node.body[-1].lineno if node.body else end
    test.early_returns = [
        (line, text)
        for line, text in test.early_returns
        if line < last_check or line < last_stmt_line
    ]
    return test


def _is_test_class(node: ast.ClassDef) -> bool:
    if node.name.startswith("Test"):
        return not any(isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body)
    return any(
        _dotted(b).split(".")[-1] in {"TestCase", "IsolatedAsyncioTestCase"} for b in node.bases
    )


def _uncollected(body: list[ast.stmt]) -> list[tuple[int, str]]:
    found = []
    for stmt in body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__test__" for t in stmt.targets)
            and isinstance(stmt.value, ast.Constant)
            and not stmt.value.value
        ):
            found.append((stmt.lineno, _src(stmt)))
    return found


def _skips_in(node: ast.AST) -> list[tuple[int, str]]:
    found = []
    for n in ast.walk(node):
        if is_skip_call(n):
            found.append((getattr(n, "lineno", 0), _src(n)))
    return found


def parse_module(source: str) -> TestModule:
    """Read a test module; a syntax error leaves it empty with the error noted."""
    module = TestModule()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        module.syntax_error = f"{type(exc).__name__}: {exc}"
        return module
    module.uncollected = _uncollected(tree.body)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            for n in ast.walk(stmt.value):
                if isinstance(n, ast.Attribute | ast.Call | ast.Name) and is_skip_marker(n):
                    module.module_skips.append((stmt.lineno, _src(stmt)))
                    break
        elif isinstance(stmt, ast.Expr | ast.If | ast.Try | ast.Raise):
            module.module_skips.extend(_skips_in(stmt))
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name.startswith("test"):
                module.tests[stmt.name] = _test_function(stmt, stmt.name)
            else:
                module.others[stmt.name] = stmt.lineno
                module.helper_skips.extend(_skips_in(stmt))
        elif isinstance(stmt, ast.ClassDef) and _is_test_class(stmt):
            _add_class(module, stmt)
        elif isinstance(stmt, ast.ClassDef):
            for sub in stmt.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    module.others[f"{stmt.name}::{sub.name}"] = sub.lineno
    return module


def _add_class(module: TestModule, cls: ast.ClassDef) -> None:
    marks = [(d.lineno, "@" + _src(d)) for d in cls.decorator_list if is_skip_marker(d)]
    module.uncollected.extend(_uncollected(cls.body))
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name.startswith("test"):
                test = _test_function(stmt, f"{cls.name}::{stmt.name}")
                test.skip_markers = marks + test.skip_markers
                module.tests[test.qualname] = test
            else:
                # setUp/setup_method calling skip skips every test of the class.
                module.others[f"{cls.name}::{stmt.name}"] = stmt.lineno
                module.helper_skips.extend(_skips_in(stmt))
        elif (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets)
            and any(is_skip_marker(n) for n in ast.walk(stmt.value))
        ):
            module.module_skips.append((stmt.lineno, _src(stmt)))
