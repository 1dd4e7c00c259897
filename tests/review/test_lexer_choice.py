"""The review page's lexer choice is pygments' own, without pygments' slow first lookup."""

from __future__ import annotations

import pytest
from pygments.lexers import find_lexer_class_for_filename, get_all_lexers

from exec_auto.review.diffs import _lexer, _lexer_class

EVERYDAY = [
    "a.py",
    "a.pyi",
    "conftest.py",
    "README.md",
    "notes.txt",
    "requirements.txt",
    "CMakeLists.txt",
    "Makefile",
    "Dockerfile",
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
    ".gitignore",
    ".bashrc",
    "a.sh",
    "a.json",
    "a.yaml",
    "a.yml",
    "a.js",
    "a.ts",
    "a.tsx",
    "a.html",
    "a.html.j2",
    "a.css",
    "a.h",
    "a.c",
    "a.cpp",
    "a.rs",
    "a.go",
    "a.sql",
    "archive.tar.gz",
    "a.PY",
    "no-extension",
]


def _every_pattern_as_a_name() -> list[str]:
    names = []
    for _name, _aliases, patterns, _mimes in get_all_lexers(plugins=True):
        for pattern in patterns:
            names.append(
                pattern.replace("*", "x").replace("?", "q").replace("[", "").replace("]", "")
            )
    return names


@pytest.mark.parametrize("name", EVERYDAY)
def test_everyday_names_get_the_lexer_pygments_picks(name: str) -> None:
    assert _lexer_class(name) is find_lexer_class_for_filename(name)


def test_a_name_for_every_pattern_pygments_knows_gets_the_same_lexer() -> None:
    names = _every_pattern_as_a_name()
    assert len(names) > 500
    differ = [n for n in names if _lexer_class(n) is not find_lexer_class_for_filename(n)]
    assert differ == []


def test_the_lexer_is_chosen_by_the_file_name_not_its_folder() -> None:
    assert type(_lexer("src/pkg.py/notes.txt")) is type(_lexer("notes.txt"))
    assert type(_lexer("docs/x/Makefile")).__name__ == "MakefileLexer"
