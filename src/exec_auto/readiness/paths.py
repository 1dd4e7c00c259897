"""Files and modules a plan names, which of them a step creates, and which exist in the repository."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from exec_auto.readiness.text import CREATE_WORDS, fold, scrub
from exec_auto.ticket.model import Step

EXTENSIONS = frozenset(
    [
        "py",
        "pyi",
        "md",
        "rst",
        "txt",
        "toml",
        "yaml",
        "yml",
        "json",
        "cfg",
        "ini",
        "js",
        "jsx",
        "ts",
        "tsx",
        "mjs",
        "cjs",
        "html",
        "css",
        "scss",
        "sql",
        "sh",
        "go",
        "rs",
        "java",
        "kt",
        "rb",
        "php",
        "c",
        "h",
        "cpp",
        "hpp",
        "cs",
        "swift",
        "xml",
        "csv",
        "lock",
        "ipynb",
        "vue",
        "svelte",
        "tf",
        "proto",
        "graphql",
        "j2",
        "jinja",
        "conf",
        "env",
    ]
)
_PATH = re.compile(
    r"(?<![\w/.:@-])((?:\.{0,2}/)?(?:[\w.-]+/)*[\w-][\w.-]*\.([A-Za-z0-9]{1,8}))(?![\w/])"
)
# Files known by name alone (no extension); matched as words in prose.
BARE_NAMES = re.compile(
    r"(?<![\w/.-])(README|CHANGELOG|CONTRIBUTING|LICENSE|Makefile|Dockerfile|Justfile|Procfile)"
    r"(?![\w/-])"
)
_MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?$")


@dataclass(frozen=True)
class Mention:
    """A path (or dotted module) a step names, and whether that step says it creates it."""

    step_id: str
    name: str
    is_module: bool
    creates: bool


def _paths_in(text: str) -> list[str]:
    out = []
    for match in _PATH.finditer(text):
        path, ext = match.group(1), match.group(2).lower()
        if ext in EXTENSIONS and not any(c in path for c in "{}<>*$"):
            out.append(path.removeprefix("./"))
    out += [
        m.group(1)
        for m in BARE_NAMES.finditer(text)
        if not any(o.startswith(m.group(1)) for o in out)
    ]
    return out


def mentions(step: Step) -> list[Mention]:
    """What a step names: paths in prose and code spans, code-block headers, dotted modules."""
    found: list[Mention] = []
    title_creates = bool(CREATE_WORDS.search(fold(step.title)))
    parts = scrub(step.body)
    for line in step.body.splitlines():
        creates = title_creates or bool(CREATE_WORDS.search(fold(line)))
        for span in re.findall(r"`+([^`\n]+)`+", line):
            span = span.strip()
            if _MODULE.match(span):
                found.append(Mention(step.id, span.removesuffix("()"), True, creates))
        for path in _paths_in(line):
            found.append(Mention(step.id, path, False, creates))
    for head in parts.block_heads:
        # A code example headed `# src/x.py` is the content of that file: the step writes it.
        if head.startswith(("#", "//", "--")):
            for path in _paths_in(head):
                found.append(Mention(step.id, path, False, True))
    return found


class RepoFiles:
    """The repository's files (tracked and untracked, not ignored), for existence checks."""

    def __init__(self, root: Path, files: Iterable[str]):
        self.root = root
        self.files = frozenset(files)
        self.dirs = frozenset(str(Path(f).parent.as_posix()) for f in self.files) | {
            p.as_posix() for f in self.files for p in Path(f).parents if p.as_posix() != "."
        }
        self.basenames = frozenset(Path(f).name for f in self.files)

    @classmethod
    def scan(cls, root: Path) -> RepoFiles:
        """Files git knows of (plus untracked, not ignored); a plain walk outside git."""
        from exec_auto.proc import git

        result = git("ls-files", "-co", "--exclude-standard", "-z", cwd=root)
        if result.ok:
            return cls(root, [f for f in result.stdout.split("\0") if f])
        walked = (
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and ".git" not in p.parts
        )
        return cls(root, walked)

    def has_path(self, path: str) -> bool:
        """The path exists (relative to the root, or as the tail of a file inside it)."""
        path = path.strip("/")
        if path in self.files or path in self.dirs or (self.root / path).exists():
            return True
        if "/" not in path:
            if BARE_NAMES.fullmatch(path):
                return any(name.split(".")[0] == path for name in self.basenames)
            return path in self.basenames
        return any(f.endswith("/" + path) for f in self.files)

    def module_paths(self, module: str) -> tuple[str, ...] | None:
        """Candidate files of `pkg.mod`, or None when `pkg` is not a package of this repository."""
        parts = module.split(".")
        for base in ("", "src/"):
            if f"{base}{parts[0]}" in self.dirs:
                stem = base + "/".join(parts[:2])
                return (f"{stem}.py", f"{stem}/__init__.py", stem)
        return None
