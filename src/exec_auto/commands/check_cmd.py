"""`exec-auto check TICKET [--json]`: how ready a ticket is for an unattended run, and why."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exec_auto.errors import EXIT_ISSUES, EXIT_OK


def main(args: argparse.Namespace) -> int:
    """Print the readiness score and its reasons; exit 0 when ready, 1 when below the threshold."""
    from exec_auto.config import build_config
    from exec_auto.formats.registry import resolve
    from exec_auto.readiness.gate import check_ticket, render

    ticket = resolve(args.ticket, Path.cwd(), allow_archived=True, only=args.format)
    overrides = {"readiness": {"threshold": args.threshold}}
    readiness = check_ticket(ticket, build_config(ticket.root, overrides))
    if args.json:
        data = readiness.model_dump(mode="json")
        data["ready"] = readiness.ready
        data["improvements"] = readiness.improvements()
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(f"{ticket.name}: {render(readiness, limit=1000)}")
    return EXIT_OK if readiness.ready else EXIT_ISSUES
