"""`exec-auto show TICKET [--json]`: what exec-auto understood of a ticket."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from exec_auto.commands.housekeeping import finish_interrupted_moves


def describe(ref: str, cwd: Path, only: str | None = None) -> dict[str, Any]:
    """The ticket as one JSON-ready object."""
    from exec_auto.formats.registry import format_of, resolve
    from exec_auto.ticket.progress import inspect_progress

    ticket = resolve(ref, cwd, allow_archived=True, only=only)
    fmt = format_of(ticket)
    loaded = fmt.load(ticket)
    plan = loaded.plan
    cdd = ticket.format == "cdd"
    # What `run` would make of progress.yaml; a file it cannot use is said so, never shown blank.
    view = inspect_progress(ticket.progress_path)
    progress = view.progress
    by_id = {s.step_id: s for s in progress.implementation_steps} if progress else {}

    def status(step_id: str, done: bool) -> str:
        if step_id in by_id:
            return by_id[step_id].status
        return "done before" if done else "pending"

    return {
        "name": ticket.name,
        "format": ticket.format,
        "format_label": fmt.label,
        "status": loaded.status or ("archived" if ticket.archived else "unknown"),
        "archived": ticket.archived,
        "type": loaded.ticket_type,
        "title": loaded.title,
        "paths": {
            "root": str(ticket.root),
            "folder": str(ticket.location),
            "plan": str(ticket.plan_path if cdd else plan.path),
            "spec": (
                str(ticket.spec_path)
                if loaded.status is not None or f"{ticket.rel_dir}/spec.yaml" in loaded.files
                else None
            )
            if cdd
            else None,
            "progress": str(ticket.progress_path) if progress else None,
        },
        "files": list(loaded.files),
        "derivation": list(loaded.derivation),
        "steps": [
            {
                "id": s.id,
                "title": s.title,
                "phase": s.phase,
                "status": status(s.id, s.done),
                "depends_on": list(s.depends_on),
                "parallel": s.parallel,
                "optional": s.optional,
                "source": s.source,
            }
            for s in plan.steps
        ],
        "acceptance_criteria": [c.text for c in loaded.criteria],
        "criteria_detail": [c.model_dump() for c in loaded.criteria],
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
        "gates": _gates(ticket.root),
        "spec_problem": next((d for t, _, d in loaded.problems if t == "spec_unreadable"), None),
        "progress_problem": view.problem,
        "warnings": [*loaded.warnings, *filter(None, [view.note(ticket.progress_path)])],
    }


def _gates(root: Path) -> dict[str, Any]:
    """The checks that will judge this project's steps (a config problem is shown, not raised)."""
    from exec_auto.config import build_config
    from exec_auto.errors import ExecAutoError
    from exec_auto.gates.describe import describe_gates

    try:
        return describe_gates(root, build_config(root).gates)
    except ExecAutoError as exc:
        return {"enabled": None, "environment": None, "tools": [], "error": str(exc)}


def main(args: argparse.Namespace) -> int:
    """Print the description as JSON or as readable text."""
    finish_interrupted_moves(Path.cwd())
    data = describe(args.ticket, Path.cwd(), getattr(args, "format", None))
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"Ticket:   {data['name']}  ({data['status']}{', archived' if data['archived'] else ''})")
    print(f"Format:   {data['format_label']} — read {', '.join(data['files'])}")
    print(f"Title:    {data['title']}")
    for key, value in data["paths"].items():
        if value:
            print(f"{key + ':':<9} {value}")
    for line in data["derivation"]:
        print(f"Read:     {line}")
    print(f"\nSteps ({len(data['steps'])}):")
    for s in data["steps"]:
        phase = f" [{s['phase']}]" if s["phase"] else ""
        marks = (" (P)" if s["parallel"] else "") + (" (optional)" if s["optional"] else "")
        print(f"  {s['id']:>5}. {s['title']}{phase}{marks}  — {s['status']}")
        if s["depends_on"]:
            print(f"         depends on: {', '.join(s['depends_on'])}")
        if s["source"]:
            print(f"         from: {s['source']}")
    if data["spec_problem"]:
        print("\nAcceptance criteria: could not be read (spec.yaml is invalid, see below)")
    else:
        print(f"\nAcceptance criteria ({len(data['acceptance_criteria'])}):")
    for c in data["criteria_detail"]:
        verify = f"  (verify: {c['verify']})" if c.get("verify") else ""
        print(f"  - {c['text']}{verify}")
        if c.get("source"):
            print(f"      from: {c['source']}")
    if data["progress"]:
        p = data["progress"]
        print(
            f"\nProgress: {p['status']}, {p['steps_finished']}/{len(data['steps'])} steps finished, {p['open_issues']} open issues"
        )
    for issue in data["issues"]:
        step = f" step {issue['step_id']}" if issue["step_id"] else ""
        print(f"  [{issue['severity'].upper()}] {issue['type']}{step}: {issue['description']}")
    gates = data["gates"]
    if gates.get("environment"):
        print(f"\nGates (environment: {gates['environment']}):")
        for line in gates["tools"]:
            print(f"  - {line}")
    elif gates.get("error"):
        print(f"\nGates: {gates['error']}")
    for w in data["warnings"]:
        print(f"warning: {w}")
    return 0
