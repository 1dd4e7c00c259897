"""`exec-auto diff TICKET [STEP]`: a step's changes (or the whole run's) from the step history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.repo import find_root


def ticket_name(text: str, cwd: Path) -> str:
    """The ticket's history key from what the user typed (a name, or a path into its folder)."""
    from exec_auto.formats.registry import resolve

    try:
        return resolve(text, cwd, allow_archived=True).history_key
    except ExecAutoError:
        # The folder may be gone while its history is kept: a bare name still finds it.
        return Path(text.rstrip("/")).name if "/" in text else text


def main(args: argparse.Namespace) -> int:
    """Print the patch (or --stat) of one step, or of the whole latest run."""
    from exec_auto.executor.history import diff

    cwd = Path.cwd()
    root = find_root(cwd)
    text = diff(root, ticket_name(args.ticket, cwd), args.step, run=args.run, stat=args.stat)
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
