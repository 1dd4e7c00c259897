"""A stand-in CLI agent for tests: does what $SCRIPT_AGENT_BEHAVIOUR says for each step.

Behaviour JSON: {"<step>": [action, ...], "fix:<step>": [...], "*": [...]} where an action is
{"write": path, "text": "..."}, {"append": path, "text": "..."}, {"delete": path},
{"exit": code}, {"sleep": seconds}, {"ignore_term": true} (SIGTERM ignored from then on),
{"wait_for": path, "timeout": seconds} (hold until a test creates path), {"touch_outside": path} or {"marker": path} (write a file, for
synchronising with a test), {"crash": true} (raise an exception).
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

step = os.environ["EXEC_AUTO_STEP_ID"]
kind = os.environ.get("EXEC_AUTO_TASK_KIND", "step")
prompt = Path(os.environ["EXEC_AUTO_PROMPT_FILE"]).read_text(encoding="utf-8")
with open(os.environ["SCRIPT_AGENT_LOG"], "a", encoding="utf-8") as log:
    log.write(
        json.dumps(
            {
                "step": step,
                "kind": kind,
                "attempt": os.environ["EXEC_AUTO_ATTEMPT"],
                "ticket": os.environ["EXEC_AUTO_TICKET"],
                "title": os.environ["EXEC_AUTO_STEP_TITLE"],
                "prompt": prompt,
                "stdin_isatty": sys.stdin.isatty(),
                "stdin_data": sys.stdin.read(),
            }
        )
        + "\n"
    )
behaviour = json.loads(Path(os.environ["SCRIPT_AGENT_BEHAVIOUR"]).read_text(encoding="utf-8"))
key = step if kind == "step" else f"{kind}:{step}"
actions = behaviour.get(key, behaviour.get("*", [])) if kind == "step" else behaviour.get(key, [])
for action in actions:
    if "write" in action:
        Path(action["write"]).parent.mkdir(parents=True, exist_ok=True)
        Path(action["write"]).write_text(action.get("text", ""), encoding="utf-8")
    elif "append" in action:
        with open(action["append"], "a", encoding="utf-8") as f:
            f.write(action.get("text", ""))
    elif "delete" in action:
        Path(action["delete"]).unlink()
    elif "marker" in action:
        Path(action["marker"]).write_text(str(os.getpid()), encoding="utf-8")
    elif "ignore_term" in action:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif "wait_for" in action:
        deadline = time.monotonic() + action.get("timeout", 60)
        while not Path(action["wait_for"]).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    elif "sleep" in action:
        time.sleep(action["sleep"])
    elif "crash" in action:
        raise RuntimeError("scripted agent crash")
    elif "exit" in action:
        print(action.get("message", "scripted exit"), file=sys.stderr)
        sys.exit(action["exit"])
print(f"did step {step}")
