"""Relaxed check configuration: pytest, coverage, ruff, flake8, mypy and tox settings, and CI files.

Each configuration file is flattened into `tool.key -> value` (lists of entries, numbers, flags),
from pyproject.toml, setup.cfg, tox.ini, pytest.ini, .coveragerc, .flake8, mypy.ini and ruff.toml
alike, so one table of rules says what counts as relaxing: entries added to an ignore/exclude list,
entries removed from a select list, a threshold lowered, a strictness flag switched off,
deselection options (`-k`, `--deselect`, `--ignore`, `-m`) added to pytest's addopts.
"""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import PurePosixPath
from typing import Any

from exec_auto.evidence.finding import IntegrityFinding, snippet

Flat = dict[str, Any]

CONFIG_FILES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "pytest.ini",
        ".coveragerc",
        ".flake8",
        "mypy.ini",
        ".mypy.ini",
        "ruff.toml",
        ".ruff.toml",
    }
)
CI_FILES = frozenset(
    {
        ".gitlab-ci.yml",
        ".gitlab-ci.yaml",
        ".travis.yml",
        "azure-pipelines.yml",
        "bitbucket-pipelines.yml",
        "Jenkinsfile",
        ".pre-commit-config.yaml",
        ".pre-commit-config.yml",
        "noxfile.py",
    }
)
CI_DIRS = (".github/workflows/", ".circleci/", ".buildkite/", ".gitlab/ci/", ".woodpecker/")

# pytest options that take tests out of the run when added to addopts.
DESELECTING = (
    "-k",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "-m",
    "--lf",
    "--last-failed",
    "--co",
    "--collect-only",
    "--runxfail",
    "--no-cov",
)
NO_VALUE = frozenset({"--lf", "--last-failed", "--co", "--collect-only", "--runxfail", "--no-cov"})

# (tool, key) rules: "grows" = adding entries relaxes, "shrinks" = removing entries relaxes,
# "lower"/"higher" = moving the number that way relaxes, "off"/"on" = that flag value relaxes,
# "any" = any change is a relaxation worth a look.
RULES: dict[str, str] = {
    "pytest.testpaths": "any",
    "pytest.python_files": "any",
    "pytest.python_classes": "any",
    "pytest.python_functions": "any",
    "pytest.norecursedirs": "grows",
    "pytest.filterwarnings": "filterwarnings",
    "pytest.xfail_strict": "off",
    "coverage.fail_under": "lower",
    "coverage.omit": "grows",
    "coverage.exclude_lines": "grows",
    "coverage.exclude_also": "grows",
    "coverage.source": "shrinks",
    "coverage.include": "any",
    "ruff.ignore": "grows",
    "ruff.extend-ignore": "grows",
    "ruff.exclude": "grows",
    "ruff.extend-exclude": "grows",
    "ruff.select": "shrinks",
    "ruff.extend-select": "shrinks",
    "ruff.line-length": "higher",
    "ruff.max-complexity": "higher",
    "ruff.unfixable": "any",
    "flake8.ignore": "grows",
    "flake8.extend-ignore": "grows",
    "flake8.exclude": "grows",
    "flake8.extend-exclude": "grows",
    "flake8.select": "shrinks",
    "flake8.max-line-length": "higher",
    "flake8.max-complexity": "higher",
    "mypy.exclude": "grows",
    "mypy.ignore_errors": "on",
    "mypy.ignore_missing_imports": "on",
    "mypy.follow_imports": "any",
    "mypy.strict": "off",
    "mypy.files": "shrinks",
    "mypy.disable_error_code": "grows",
}
# mypy flags that make it stricter: switching one off relaxes it.
MYPY_STRICT_PREFIXES = ("disallow_", "warn_", "check_untyped_defs", "strict_", "no_implicit")


def is_config_file(path: str) -> bool:
    """A file whose check configuration the audit reads."""
    return PurePosixPath(path).name in CONFIG_FILES


def is_ci_file(path: str) -> bool:
    """A CI pipeline (or pre-commit/nox) definition."""
    return PurePosixPath(path).name in CI_FILES or path.startswith(CI_DIRS)


def _entries(value: Any) -> Any:
    """Lists and comma/newline-separated INI strings become lists of entries; numbers stay numbers."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    text = str(value).strip()
    low = text.lower()
    if low in {"true", "yes", "on", "1"}:
        return True
    if low in {"false", "no", "off", "0"}:
        return False
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        pass
    parts = [p.strip() for p in re.split(r"[,\n]", text)]
    return [p for p in parts if p] if len(parts) > 1 else text


def _put(flat: Flat, tool: str, table: dict[str, Any], prefix: str = "") -> None:
    for key, value in table.items():
        if isinstance(value, dict):
            if tool == "ruff" and key in {"lint", "format"}:
                _put(flat, tool, value, prefix)
            elif key.replace("_", "-") in {"per-file-ignores", "extend-per-file-ignores"}:
                for pattern, codes in value.items():
                    flat[f"{tool}.per-file-ignores:{pattern}"] = _entries(codes)
            elif tool == "coverage":
                _put(flat, tool, value, prefix)
            else:
                _put(flat, tool, value, f"{prefix}{key}.")
        elif tool == "mypy" and key == "overrides" and isinstance(value, list):
            for override in value:
                if not isinstance(override, dict):
                    continue
                modules = override.get("module", "?")
                name = ",".join(modules) if isinstance(modules, list) else str(modules)
                for k, v in override.items():
                    if k != "module":
                        flat[f"mypy.{k}:{name}"] = _entries(v)
        else:
            flat[f"{tool}.{prefix}{_key_for(tool, key)}"] = _entries(value)


def _key_for(tool: str, key: str) -> str:
    if tool in {"ruff", "flake8"}:
        return key.replace("_", "-")
    if tool in {"mypy", "pytest", "coverage"}:
        return key.replace("-", "_")
    return key


def _from_toml(text: str, name: str) -> Flat:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    flat: Flat = {}
    if name in {"ruff.toml", ".ruff.toml"}:
        _put(flat, "ruff", data)
        return flat
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        return flat
    pytest_table = tool.get("pytest", {})
    if isinstance(pytest_table, dict):
        _put(flat, "pytest", pytest_table.get("ini_options", {}))
    for t in ("coverage", "ruff", "mypy", "flake8"):
        if isinstance(tool.get(t), dict):
            _put(flat, t, tool[t])
    return flat


INI_SECTIONS: dict[str, str] = {
    "pytest": "pytest",
    "tool:pytest": "pytest",
    "flake8": "flake8",
    "mypy": "mypy",
    "coverage:run": "coverage",
    "coverage:report": "coverage",
    "run": "coverage",
    "report": "coverage",
}


def _from_ini(text: str, name: str) -> Flat:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    flat: Flat = {}
    for section in parser.sections():
        items = dict(parser.items(section))
        if section in {"run", "report"} and name != ".coveragerc":
            continue
        tool = INI_SECTIONS.get(section)
        if tool == "flake8" and "per-file-ignores" in items:
            for line in str(items.pop("per-file-ignores")).splitlines():
                if ":" in line:
                    pattern, codes = line.split(":", 1)
                    flat[f"flake8.per-file-ignores:{pattern.strip()}"] = _entries(codes)
        if tool is not None:
            for key, value in items.items():
                flat[f"{tool}.{_key_for(tool, key)}"] = _entries(value)
        elif section.startswith("mypy-"):
            for key, value in items.items():
                flat[f"mypy.{key}:{section[5:]}"] = _entries(value)
        elif section.startswith("testenv") and "commands" in items:
            flat[f"tox.{section}.commands"] = [
                line.strip() for line in items["commands"].splitlines() if line.strip()
            ]
    return flat


def flatten(path: str, text: str | None) -> Flat:
    """A configuration file's check settings as `tool.key -> value`."""
    if not text:
        return {}
    name = PurePosixPath(path).name
    if name.endswith(".toml"):
        return _from_toml(text, name)
    return _from_ini(text, name)


def _addopts_tokens(value: Any) -> list[str]:
    text = " ".join(value) if isinstance(value, list) else str(value)
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _deselecting(tokens: list[str]) -> list[str]:
    """The deselecting options in an addopts token list, each with its value."""
    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        opt = tok.split("=", 1)[0]
        if opt in DESELECTING:
            if "=" in tok or opt in NO_VALUE or i + 1 >= len(tokens):
                out.append(tok)
            else:
                out.append(f"{tok} {tokens[i + 1]}")
                i += 1
        elif tok == "-p" and i + 1 < len(tokens) and tokens[i + 1].startswith("no:"):
            out.append(f"-p {tokens[i + 1]}")
            i += 1
        elif tok.startswith("-pno:"):
            out.append(tok)
        i += 1
    return out


def _fail_under(tokens: list[str]) -> float | None:
    for i, tok in enumerate(tokens):
        if tok.startswith("--cov-fail-under"):
            raw = (
                tok.split("=", 1)[1]
                if "=" in tok
                else (tokens[i + 1] if i + 1 < len(tokens) else "")
            )
            try:
                return float(raw)
            except ValueError:
                return None
    return None


def _rule(key: str) -> str | None:
    base = key.split(":", 1)[0]
    if base in RULES:
        return RULES[base]
    if ".per-file-ignores" in base:
        return "grows"
    if base.startswith("tox.") and base.endswith(".commands"):
        return "any"
    if base.startswith("mypy."):
        flag = base[5:]
        if flag in {"ignore_errors", "ignore_missing_imports"}:
            return "on"
        if flag.startswith(MYPY_STRICT_PREFIXES):
            return "off"
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [str(value)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _judge(rule: str, old: Any, new: Any) -> str | None:
    """Why old -> new relaxes a check under `rule`, or None when it does not."""
    if old == new:
        return None
    if rule == "any":
        return "changed"
    if rule == "grows":
        added = [e for e in _as_list(new) if e not in _as_list(old)]
        return f"added {', '.join(added)}" if added else None
    if rule == "shrinks":
        removed = [e for e in _as_list(old) if e not in _as_list(new)]
        return f"removed {', '.join(removed)}" if removed else None
    if rule in {"lower", "higher"}:
        a, b = _number(old), _number(new)
        if rule == "lower" and a is not None and b is None:
            return f"removed (was {a:g})"
        if a is None or b is None:
            return None
        if (rule == "lower" and b < a) or (rule == "higher" and b > a):
            return f"{'lowered' if rule == 'lower' else 'raised'} from {a:g} to {b:g}"
        return None
    if rule == "filterwarnings":
        added = [e for e in _as_list(new) if e not in _as_list(old) and e.startswith("ignore")]
        removed = [e for e in _as_list(old) if e not in _as_list(new) and e.startswith("error")]
        parts = [f"added {', '.join(added)}"] if added else []
        parts += [f"removed {', '.join(removed)}"] if removed else []
        return "; ".join(parts) or None
    if rule == "on":
        return "switched on" if new is True else None
    if rule == "off":
        return "switched off" if new is False or (new is None and old is True) else None
    return None


def _line_of(text: str, key: str) -> int | None:
    name = key.split(":", 1)[0].rsplit(".", 1)[-1]
    variants = {name, name.replace("-", "_"), name.replace("_", "-")}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if any(re.match(rf"{re.escape(v)}\s*[=:]", stripped) for v in variants):
            return number
    return None


def config_findings(path: str, before: str | None, after: str | None) -> list[IntegrityFinding]:
    """Relaxed settings between two versions of one configuration file."""
    old, new = flatten(path, before), flatten(path, after)
    findings = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "pytest.addopts":
            findings.extend(_addopts_finding(path, after or "", a, b))
            continue
        rule = _rule(key)
        why = _judge(rule, a, b) if rule else None
        if why is None:
            continue
        setting = key.split(".", 1)[1]
        tool = key.split(".", 1)[0]
        codes = [] if not isinstance(b, list) else [e for e in b if e not in _as_list(a)]
        findings.append(
            IntegrityFinding(
                "config_weakened",
                path,
                _line_of(after or "", key) if after else None,
                f"{tool} setting `{setting}` {why}",
                f"{setting} = {snippet(repr(a), 200)}" if a is not None else "(not set)",
                f"{setting} = {snippet(repr(b), 200)}" if b is not None else "(removed)",
                subjects=(setting.split(":", 1)[0], setting, tool, path, *codes),
            )
        )
    return findings


def _addopts_finding(path: str, after_text: str, old: Any, new: Any) -> list[IntegrityFinding]:
    old_tokens, new_tokens = _addopts_tokens(old or ""), _addopts_tokens(new or "")
    added = [d for d in _deselecting(new_tokens) if d not in _deselecting(old_tokens)]
    old_fu, new_fu = _fail_under(old_tokens), _fail_under(new_tokens)
    lowered = old_fu is not None and (new_fu is None or new_fu < old_fu)
    if lowered:
        added.append(
            f"--cov-fail-under lowered from {old_fu:g} to {new_fu:g}"
            if new_fu is not None
            else f"--cov-fail-under {old_fu:g} removed"
        )
    if not added:
        return []
    return [
        IntegrityFinding(
            "config_weakened",
            path,
            _line_of(after_text, "pytest.addopts"),
            f"pytest addopts now deselects or relaxes: {'; '.join(added)}",
            f"addopts = {snippet(' '.join(old_tokens), 200) or '(not set)'}",
            f"addopts = {snippet(' '.join(new_tokens), 200) or '(removed)'}",
            subjects=("addopts", path, *added, *(a.split()[-1] for a in added)),
        )
    ]


def ci_finding(path: str, status: str, before: str | None, after: str | None) -> IntegrityFinding:
    """Any edit of a CI definition: the checks that run on every push are the agent's to keep."""
    what = {"A": "added", "D": "deleted", "M": "modified"}.get(status[:1], "changed")
    return IntegrityFinding(
        "ci_changed",
        path,
        _first_difference(before or "", after or ""),
        f"CI configuration {path} {what}",
        snippet(_diff_side(before or "", after or "", first=True)) or "(no file)",
        snippet(_diff_side(before or "", after or "", first=False)) or "(no file)",
        subjects=(path, PurePosixPath(path).name, "CI", "workflow", "pipeline"),
    )


def _first_difference(a: str, b: str) -> int | None:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return number
    shorter = min(len(a.splitlines()), len(b.splitlines()))
    return shorter + 1 if a != b else None


def _diff_side(a: str, b: str, *, first: bool) -> str:
    import difflib

    out = []
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        if (first and line.startswith("-")) or (not first and line.startswith("+")):
            out.append(line[1:])
    return "\n".join(out[:12])
