"""Distribution names and requirement strings: parsed and normalised in one place, with `packaging`.

The plan's dependency section, the project's declared dependencies, install commands in a plan and
the gates' dependency recovery all compare names through `canonical` (PEP 503, as pip compares
them) and read requirement lines through `parse_requirement`, so `python_jose`, `Python-Jose` and
`python.jose` are one distribution everywhere.
"""

from __future__ import annotations

import re

# A requirement at the start of a line ("python-jose[crypto]>=3.3 - JWT tokens"): name, extras
# and version specifiers only; never a URL, a path or an environment marker.
_PREFIX = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?P<extras>\s*\[[A-Za-z0-9._,\s-]+\])?"
    r"(?P<spec>\s*(?:~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
    r"(?:\s*,\s*(?:~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?"
)


def canonical(name: str) -> str:
    """The PEP 503 normalised name ('Python_Jose' -> 'python-jose')."""
    # Imported here: packaging costs ~15 ms at start-up, and most runs never ask.
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def parse_requirement(text: str) -> tuple[str, str] | None:
    """(name, requirement) from a dependency line, validated by packaging; None when it is not one.

    The requirement keeps the line's own spelling without spaces ('python-jose[crypto]>=3.3').
    """
    line = text.strip().strip("`'\"")
    match = _PREFIX.match(line)
    # A URL, a path or a direct reference (`name @ url`) is never read as a name to install.
    if match is None or line[match.end() :].lstrip().startswith((":", "/", "@")):
        return None
    name = match.group("name")
    requirement = name + re.sub(r"\s+", "", match.group("extras") or "")
    requirement += re.sub(r"\s+", "", match.group("spec") or "")
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(requirement)
    except InvalidRequirement:
        return None
    return name, requirement
