"""`exec-auto show TICKET [--json]`: what exec-auto understood of a ticket."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from exec_auto.ticket.resolve import resolve_ticket


def describe(ref: str, cwd: Path) -> dict[str, Any]:
    """The ticket as one JSON-ready object."""
    from exec_auto.formats.cdd.plan import load_plan
    from exec_auto.formats.cdd.spec import load_spec
    from exec_auto.ticket.progress import peek_progress

    ticket = resolve_ticket(ref, cwd, allow_archived=True)
    plan = load_plan(ticket.plan_path)
    spec = load_spec(ticket.spec_path) if ticket.spec_path.is_file() else None
    progress = peek_progress(ticket.progress_path)
    by_id = {s.step_id: s for s in progress.implementation_steps} if progress else {}
    return {
        "name": ticket.name,
        "status": (spec.status if spec else None) or ("archived" if ticket.archived else "unknown"),
        "archived": ticket.archived,
        "type": spec.ticket_type if spec else None,
        "title": (spec.title if spec and spec.title else plan.title),
        "paths": {
            "root": str(ticket.root),
            "folder": str(ticket.dir),
            "plan": str(ticket.plan_path),
            "spec": str(ticket.spec_path) if spec else None,
            "progress": str(ticket.progress_path) if progress else None,
        },
        "steps": [
            {
                "id": s.id,
                "title": s.title,
                "phase": s.phase,
                "status": by_id[s.id].status if s.id in by_id else "pending",
            }
            for s in plan.steps
        ],
        "acceptance_criteria": [c.text for c in (spec.criteria if spec else ())],
        "criteria_detail": [c.model_dump() for c in (spec.criteria if spec else ())],
        "plan_dependencies": list(plan.dependencies),
        "issues": [
            {
                "type": i.type,
                "severity": i.severity,
                "step_id": i.step_id,
                "description": i.description,
            }
            for i in (progress.open_issues() if progress else [])
        ],
        "progress": None
        if progress is None
        else {
            "status": progress.ticket.status,
            "steps_finished": sum(
                1
                for s in progress.implementation_steps
                if s.status not in {"pending", "in_progress"}
            ),
            "open_issues": len(progress.open_issues()),
        },
        "warnings": list(spec.warnings)
        if spec
        else ["spec.yaml not found: no acceptance criteria"],
    }


def main(args: argparse.Namespace) -> int:
    """Print the description as JSON or as readable text."""
    data = describe(args.ticket, Path.cwd())
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"Ticket:   {data['name']}  ({data['status']}{', archived' if data['archived'] else ''})")
    print(f"Title:    {data['title']}")
    for key, value in data["paths"].items():
        if value:
            print(f"{key + ':':<9} {value}")
    print(f"\nSteps ({len(data['steps'])}):")
    for s in data["steps"]:
        phase = f" [{s['phase']}]" if s["phase"] else ""
        print(f"  {s['id']:>5}. {s['title']}{phase}  — {s['status']}")
    print(f"\nAcceptance criteria ({len(data['acceptance_criteria'])}):")
    for c in data["criteria_detail"]:
        verify = f"  (verify: {c['verify']})" if c.get("verify") else ""
        print(f"  - {c['text']}{verify}")
    if data["progress"]:
        p = data["progress"]
        print(
            f"\nProgress: {p['status']}, {p['steps_finished']}/{len(data['steps'])} steps finished, {p['open_issues']} open issues"
        )
    for issue in data["issues"]:
        step = f" step {issue['step_id']}" if issue["step_id"] else ""
        print(f"  [{issue['severity'].upper()}] {issue['type']}{step}: {issue['description']}")
    for w in data["warnings"]:
        print(f"warning: {w}")
    return 0
