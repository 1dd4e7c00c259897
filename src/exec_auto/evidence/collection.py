"""conftest.py changes that decide which tests run and how they end.

Adding a fixture is ordinary work; what the audit looks for is what can hide a failure:
`collect_ignore`, `pytest_plugins`, `pytestmark`, hooks that filter or rewrite collection or
outcomes (`pytest_collection_modifyitems`, `pytest_runtest_makereport`, `pytest_sessionfinish`,
...), and skip/xfail calls anywhere in the file (an autouse fixture can skip every test).
"""

from __future__ import annotations

import ast
from collections import Counter

from exec_auto.evidence.finding import IntegrityFinding, snippet
from exec_auto.evidence.testcode import is_skip_call, is_skip_marker

SETTINGS = frozenset({"collect_ignore", "collect_ignore_glob", "pytest_plugins", "pytestmark"})
HOOKS = frozenset(
    {
        "pytest_collection_modifyitems",
        "pytest_collection_finish",
        "pytest_ignore_collect",
        "pytest_collect_file",
        "pytest_pycollect_makeitem",
        "pytest_pycollect_makemodule",
        "pytest_itemcollected",
        "pytest_deselected",
        "pytest_configure",
        "pytest_load_initial_conftests",
        "pytest_cmdline_main",
        "pytest_cmdline_preparse",
        "pytest_runtestloop",
        "pytest_runtest_protocol",
        "pytest_runtest_setup",
        "pytest_runtest_call",
        "pytest_runtest_makereport",
        "pytest_runtest_logreport",
        "pytest_pyfunc_call",
        "pytest_report_teststatus",
        "pytest_sessionfinish",
        "pytest_exception_interact",
    }
)


def _elements(source: str) -> dict[str, tuple[int, str]] | None:
    """name -> (line, source) for collection settings and hooks; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    found: dict[str, tuple[int, str]] = {}
    for stmt in tree.body:
        names: list[str] = []
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in SETTINGS]
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in SETTINGS
            ):
                names = [func.value.id]  # collect_ignore.append("tests/test_x.py")
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name in HOOKS:
            names = [stmt.name]
        for name in names:
            line, text = found.get(name, (stmt.lineno, ""))
            found[name] = (line, (text + "\n" + ast.unparse(stmt)).strip())
    return found


def _skips(source: str) -> list[tuple[int, str]]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if is_skip_call(node):
            out.append((getattr(node, "lineno", 0), ast.unparse(node)))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.extend(
                (d.lineno, "@" + ast.unparse(d)) for d in node.decorator_list if is_skip_marker(d)
            )
    return out


def conftest_findings(path: str, before: str | None, after: str | None) -> list[IntegrityFinding]:
    """Collection- or outcome-changing edits of one conftest.py."""
    old = _elements(before or "") or {}
    new = _elements(after or "")
    if new is None:
        return [
            IntegrityFinding(
                "conftest_changed",
                path,
                None,
                f"{path} no longer parses: every test under it fails to collect",
                "(parsed)",
                "(syntax error)",
                subjects=(path, "conftest.py", "conftest"),
            )
        ]
    findings = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is not None and b is not None and a[1] == b[1]:
            continue
        if b is None and name not in {"collect_ignore", "collect_ignore_glob"}:
            continue  # removing a hook or plugin list is not a way to hide failures
        what = "added" if a is None else ("removed" if b is None else "changed")
        findings.append(
            IntegrityFinding(
                "conftest_changed",
                path,
                b[0] if b else (a[0] if a else None),
                f"`{name}` {what} in {path}",
                snippet(a[1]) if a else "(not there)",
                snippet(b[1]) if b else "(removed)",
                subjects=(name, path, "conftest.py", "conftest"),
            )
        )
    old_skips = Counter(text for _, text in _skips(before or ""))
    for line, text in _skips(after or ""):
        if old_skips[text]:
            old_skips[text] -= 1
            continue
        findings.append(
            IntegrityFinding(
                "skip_added",
                path,
                line,
                f"skip added in {path} (applies to every test it reaches)",
                "(not there)",
                text,
                subjects=(path, "conftest.py", "conftest", "skip"),
            )
        )
    return findings
