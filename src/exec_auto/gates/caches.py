"""Where the gates' tools keep their caches: in exec-auto's state folder, never in the work tree.

pytest, ruff and mypy write `.pytest_cache`, `.ruff_cache` and `.mypy_cache` beside the code they
check, and every Python process writes `__pycache__` beside what it imports. A gate run is
exec-auto's, not the user's: its caches go to `<state dir>/caches/<tool>` (pytest by `-o
cache_dir=`, ruff and mypy by their documented variables, which also reach pre-commit hooks and
configured commands), and bytecode is not written at all. A cache the project already has is
neither written nor moved. The rest of the project's configuration still applies: only the cache
location is overridden.
"""

from __future__ import annotations

import re
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.proc import git
from exec_auto.repo import state_dir

# A pytest configuration switching its cache off: nothing to redirect, and no option to pass.
_NO_CACHE = re.compile(r"-p\s*no:cacheprovider\b")


def cache_root(repo_root: Path) -> Path | None:
    """`<state dir>/caches` of the work tree whose top level is repo_root (its folders created).

    None for anything else (a scratch checkout under TMPDIR, a folder inside someone else's
    repository, no git): its tools keep their caches where they like, beside a checkout exec-auto
    removes anyway.
    """
    top = git("rev-parse", "--show-toplevel", cwd=repo_root)
    if not top.ok or Path(top.stdout.strip()).resolve() != repo_root.resolve():
        return None
    try:
        root = state_dir(repo_root) / "caches"
        # It must exist before a sandboxed command starts (only existing paths are bound); each
        # tool creates its own folder in it, with its CACHEDIR.TAG.
        root.mkdir(exist_ok=True)
    except (ExecAutoError, OSError):
        return None
    return root


def cache_env(root: Path) -> dict[str, str]:
    """Variables that send ruff's and mypy's caches under root and keep bytecode unwritten.

    Not PYTHONPYCACHEPREFIX: it would ignore every `__pycache__` already there and compile the
    standard library and each dependency again into exec-auto's folder (10 MB for one pytest run).
    """
    return {
        "RUFF_CACHE_DIR": str(root / "ruff"),
        "MYPY_CACHE_DIR": str(root / "mypy"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def pytest_cache_args(root: Path, repo_root: Path, configs: tuple[str, ...]) -> list[str]:
    """`-o cache_dir=...` for a pytest run, unless the project switches the cache plugin off."""
    for name in configs:
        try:
            text = (repo_root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if _NO_CACHE.search(text):
            return []
    return ["-o", f"cache_dir={root / 'pytest'}"]
