"""What every ticket command does first: finish archive/restore moves a kill interrupted."""

from __future__ import annotations

import sys
from pathlib import Path


def finish_interrupted_moves(cwd: Path) -> None:
    """Complete half-done moves under the project at cwd; say what was repaired on stderr."""
    from exec_auto.formats.cdd.archive import repair_pending_moves
    from exec_auto.repo import find_root

    for note in repair_pending_moves(find_root(cwd)):
        print(f"exec-auto: {note}", file=sys.stderr)
