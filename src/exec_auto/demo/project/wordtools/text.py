"""Text normalisation."""

import re

_WORD = re.compile(r"[a-z0-9']+")


def normalize(text: str) -> str:
    """Lower-case text and keep only words separated by single spaces."""
    return " ".join(_WORD.findall(text.lower()))


def words(text: str) -> list[str]:
    """The normalised words of text, in order."""
    return normalize(text).split()
