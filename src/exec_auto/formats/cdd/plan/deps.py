"""Distribution names a plan asks to install — the list that authorises automatic installs.

Two sources only: install commands (`poetry add`, `uv add`, `pdm add`, `pip install`) written as
code (fenced or indented blocks, inline code spans), and list items under a "Dependencies" style
heading that are nothing but a package name, optionally with a version and a note. Prose is never
read for names, and documents embedded in ```` ```markdown ```` fences describe other projects,
so their commands are ignored. Names are reduced to the bare distribution name.
"""

from __future__ import annotations

import re
import sys

from exec_auto import distnames
from exec_auto.formats.cdd.plan.blocks import Code, Document
from exec_auto.formats.cdd.plan.text import section_key

_COMMAND = re.compile(
    r"(?<![\w.-])(?:(?:poetry|uv|pdm)\s+add|uv\s+pip\s+install"
    r"|(?:python(?:3(?:\.\d+)?)?\s+-m\s+)?pip3?\s+install)\s+(.*)$"
)
_SEPARATORS = re.compile(r"&&|\|\||;|\|")
_REQUIREMENT = re.compile(
    r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._,\s-]*\])?"
    r"((?:===|==|>=|<=|!=|~=|<|>|@|\^|~)\S*)?$"
)
_VALUE_OPTIONS = frozenset(
    {
        "--requirement", "--constraint", "--editable", "--index-url", "--extra-index-url",
        "--find-links", "--target", "--prefix", "--root", "--src", "--python", "--group",
        "--source", "--extras", "--optional", "--upgrade-strategy", "--platform", "--only-binary",
        "--no-binary", "--trusted-host", "--cache-dir", "--index", "--default-index", "--rev",
        "--tag", "--branch", "--marker", "--extra", "--python-version", "--config-settings",
        "--project", "--directory", "--package", "--script", "--lockfile", "--venv",
    }
)  # fmt: skip
# Short options taking a value (-r file, -e path, -G group, -p python, ...), also last in a cluster.
_VALUE_SHORT = frozenset("rceiftGEpg")
# Tools and runtimes, not dependencies to add (skipped).
_TOOLS = frozenset(
    {
        "pip", "pipx", "python", "python3", "poetry", "uv", "pdm", "conda", "node", "nodejs",
        "npm", "yarn", "docker", "git",
    }
)  # fmt: skip
# Placeholders and prose: reading stops at them (what follows is a sentence, not arguments).
_NOT_NAMES = frozenset(
    {
        "none", "nenhuma", "nenhum", "tbd", "todo", "n-a", "package", "package-name",
        "packagename", "pkg", "pkg-name", "your-package", "my-package", "some-package", "name",
        "nome-pacote", "pacote", "library", "lib", "module", "dependency", "dependencies",
        "example", "foo", "bar", "baz", "the", "a", "an", "and", "or", "to", "for", "with",
        "then", "all", "it", "them", "this", "that", "in", "into", "first", "de", "e", "o",
        "os", "as", "para", "com", "depois", "em", "no", "na", "se",
    }
)  # fmt: skip
_FILE_SUFFIX = re.compile(r"\.(?:txt|whl|gz|zip|tar|toml|cfg|py|in|lock|ini|json|ya?ml)$", re.I)
_DEPENDENCY_HEADING = re.compile(
    r"(?:(?:new|external|python|runtime|required|additional|third[- ]party|project)\s+)?"
    r"(?:dependencies|packages|libraries)(?:\s+(?:to\s+(?:install|add)|required|needed))?"
    r"|(?:novas\s+)?depend[êe]ncias(?:\s+(?:externas|novas|necess[áa]rias|python"
    r"|a\s+(?:instalar|adicionar)))?"
    r"|(?:novos\s+)?pacotes(?:\s+(?:necess[áa]rios|a\s+instalar))?"
    r"|(?:dependencies|depend[êe]ncias)\s*(?:&|and|e)\s*(?:prerequisites|pr[ée]-?requisitos)"
)
# Sub-sections of a dependency section that list things not to install.
_NOT_TO_INSTALL = re.compile(
    r"existing|existentes|team|equipe|\btime\b|prerequisite|pr[ée]-?requisito|before\s+starting"
    r"|constraint|restri|version|vers[ãa]o|updat|atualiz|upgrade|service|servi[çc]o|system"
    r"|sistema|internal|interna|dev(?:elopment)?\s+tools"
)
_ALREADY = re.compile(
    r"already|existing|built-?in|stdlib|standard\s+library|j[áa]\s+(?:instalad|existe)"
    r"|biblioteca\s+padr[ãa]o|existente",
    re.IGNORECASE,
)
_VERSION_NOTE = re.compile(
    r"^\s*(?:(?:===|==|>=|<=|!=|~=|<|>|\^|~)\s*[\w.*+!-]+"
    r"(?:\s*,\s*(?:==|>=|<=|!=|~=|<|>)\s*[\w.*+!-]+)*)?"
    r"\s*(?:v?\d+(?:\.\d+)*\+?)?\s*(?:(?:[-\u2013\u2014:]|\()\s*.*)?$"
)
_SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", "zsh", "shell-session"})
_LIST_LANGS = frozenset({"", "text", "txt", "requirements", "pip", "plain"}) | _SHELL_LANGS


def canonical(name: str) -> str:
    """PEP 503 normalised form, for comparing names (the one rule: `exec_auto.distnames`)."""
    return distnames.canonical(name)


def requirement_name(token: str) -> str | None:
    """The bare distribution name of a requirement like `pkg[extra]>=1`, else None."""
    match = _REQUIREMENT.match(token.strip().strip("\"'"))
    if match is None or not re.search(r"[A-Za-z]", match.group(1)):
        return None
    name = match.group(1)
    if _FILE_SUFFIX.search(name):
        return None
    return name


def _acceptable(name: str) -> bool:
    key = canonical(name)
    return key not in _TOOLS | _NOT_NAMES and key.replace("-", "_") not in sys.stdlib_module_names


def command_packages(line: str) -> list[str]:
    """Packages named by install commands in one line of code."""
    names: list[str] = []
    for segment in _SEPARATORS.split(line):
        match = _COMMAND.search(segment)
        if match is None:
            continue
        args = re.split(r"\s#", match.group(1))[0]
        skip = False
        for raw in args.split():
            if skip:
                skip = False
                continue
            token = raw.strip("\"'`")
            # "pip install requests, then ..." — punctuation means a sentence goes on from here.
            last = token.endswith((",", ".", ";", ":"))
            token = token.rstrip(",.;:)").strip("\"'")
            if token.startswith("-"):
                long_value = token in _VALUE_OPTIONS
                short_value = re.fullmatch(r"-[A-Za-z]+", token) and token[-1] in _VALUE_SHORT
                skip = bool(long_value or short_value)
                continue
            name = requirement_name(token)
            if name is None or canonical(name) in _NOT_NAMES:
                break
            if _acceptable(name):
                names.append(name)
            if last:
                break
    return names


def item_package(text: str) -> str | None:
    """The package a dependency list item names, if the item is just a package (and a note)."""
    first = text.strip().split("\n", 1)[0].strip()
    first = re.sub(r"^\[[ xX]\]\s*", "", first)
    marked = re.match(r"^(?:\*\*|__)?`([^`]+)`(?:\*\*|__)?(.*)$", first) or re.match(
        r"^(?:\*\*|__)([^*_`]+)(?:\*\*|__)(.*)$", first
    )
    if marked is not None:
        token, rest = re.sub(r"\s+", "", marked.group(1)), marked.group(2)
    else:
        parts = first.split(None, 1)
        if not parts:
            return None
        token, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if not _VERSION_NOTE.match(" " + rest):
            return None
    if _ALREADY.search(rest):
        return None
    name = requirement_name(token)
    return name if name is not None and _acceptable(name) else None


def _code_lines(block: Code, lines: tuple[str, ...]) -> range:
    if not block.fenced:
        return range(block.start, block.end)
    return range(block.start + 1, min(block.end, len(lines)))


def find_dependencies(doc: Document) -> tuple[str, ...]:
    """Distribution names to install, in order of first mention, without duplicates."""
    found: list[tuple[int, str]] = []
    claimed: set[int] = set()
    for block in doc.code:
        claimed.update(range(block.start, block.end))
        if block.embedded_document:
            continue
        for index in _code_lines(block, doc.lines):
            found.extend((index, name) for name in command_packages(doc.lines[index]))
    for index, line in enumerate(doc.lines):
        if index in claimed or "`" not in line:
            continue
        for span in re.finditer(r"(`+)(.+?)\1", line):
            found.extend((index, name) for name in command_packages(span.group(2)))
    found.extend(_section_packages(doc))
    seen: set[str] = set()
    names: list[str] = []
    for _, name in sorted(found, key=lambda pair: pair[0]):
        if canonical(name) not in seen:
            seen.add(canonical(name))
            names.append(name)
    return tuple(names)


def _section_packages(doc: Document) -> list[tuple[int, str]]:
    """Packages listed under dependency headings (minus their "existing"/"team" sub-sections)."""
    found: list[tuple[int, str]] = []
    for heading in doc.headings:
        if not _DEPENDENCY_HEADING.fullmatch(section_key(heading.text)):
            continue
        start, end = heading.line, doc.section_end(heading)
        excluded = [
            (h.line, doc.section_end(h))
            for h in doc.headings_between(start + 1, end)
            if _NOT_TO_INSTALL.search(section_key(h.text))
        ]
        for item in doc.items:
            if _inside(item.line, start, end, excluded):
                name = item_package(item.text)
                if name is not None:
                    found.append((item.line, name))
        for block in doc.code:
            if not _inside(block.start, start, end, excluded) or block.lang not in _LIST_LANGS:
                continue
            for index in _code_lines(block, doc.lines):
                line = re.split(r"(?:^|\s)#", doc.lines[index])[0].strip()
                if not line or " " in line:
                    continue
                name = requirement_name(line)
                has_version = re.search(r"[<>=!~^@]", line) is not None
                if name and _acceptable(name) and (has_version or block.lang not in _SHELL_LANGS):
                    found.append((index, name))
    return found


def _inside(line: int, start: int, end: int, excluded: list[tuple[int, int]]) -> bool:
    """Whether the line is in the section (start, end) and outside its excluded sub-sections."""
    return start < line < end and not any(a <= line < b for a, b in excluded)
