"""Text from agents and tools made safe for a terminal and a markdown file.

Agent output (and test output it causes) may hold terminal escape sequences: colours are
harmless, but others move the cursor, rewrite earlier lines, set the window title, or — in some
terminals — write to the clipboard or run hyperlinks. exec-auto shows such text on the console
and writes it to progress.yaml and report.md, so escape sequences and other control characters
(everything below U+0020 except tab and newline, DEL, and the C1 range) are removed first.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \\), DCS/SOS/PM/APC strings, two-byte escapes,
# and the 8-bit C1 forms (U+009B CSI, U+009D OSC).
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?          # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])    # OSC, DCS, SOS, PM, APC ...
    [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?       # ... up to their terminator
  | \x1b[ -/]*[0-~]?                           # other escapes (charset selection, ESC c ...)
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """text without terminal escape sequences and control characters (tabs and newlines kept)."""
    if not text or (text.isprintable() and "\x1b" not in text):
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
