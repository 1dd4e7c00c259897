"""The run's record of what judges its steps: each check's tool, version and source, once per run.

`exec-auto show` prints the same list before a run (`gates.describe`); the run keeps it among
progress.yaml's quality gates (`checks: <tool>`), so report.md, report.json and report.html name
every tool that judged, at which version, and why it was chosen.
"""

from __future__ import annotations

from exec_auto.executor.steps import StepEnv


def record_checks(env: StepEnv) -> None:
    """Keep the discovered checks in progress.yaml (nothing when the gates are off)."""
    gates = env.config.gates
    if not gates.enabled:
        return
    from exec_auto.gates.describe import describe_gates

    try:
        described = describe_gates(env.root, gates)
    except Exception as exc:  # the list is information; the gates themselves still run
        env.store.progress.quality_gates["checks"] = f"could not be listed: {exc}"
        return
    for check in described["checks"]:
        line = f"{check['tool']} {check['version']}".strip()
        if check["source"]:
            line += f" ({check['source']})"
        if check["tool"].startswith("tests") and check["command"]:
            line += f": {check['command']}"
        env.store.progress.quality_gates[f"checks: {check['tool']}"] = line
