"""A scripted CLI agent for the interactive-mode tests; its behaviour is its first argument.

bug:   step 1 writes calc.py with a wrong `add`; a fix attempt writes the right one.
crash: step 2 exits 1 (a runtime error); a fix attempt writes its file; other steps write theirs.
ask:   step 1 asks for a decision unless its prompt carries one; then writes the answer.
Every prompt is appended to the log named by the second argument.
"""

import json
import os
import pathlib
import sys

mode, log_path = sys.argv[1], sys.argv[2]
step, kind = os.environ["EXEC_AUTO_STEP_ID"], os.environ.get("EXEC_AUTO_TASK_KIND", "step")
prompt = pathlib.Path(os.environ["EXEC_AUTO_PROMPT_FILE"]).read_text(encoding="utf-8")
with open(log_path, "a", encoding="utf-8") as log:
    log.write(json.dumps({"step": step, "kind": kind, "prompt": prompt}) + "\n")
note = pathlib.Path(f"step{step}.txt")
if mode == "bug" and step == "1":
    body = "return a + b  # fixed" if kind == "fix" else "return a - b"
    pathlib.Path("calc.py").write_text(f"def add(a, b):\n    {body}\n")
elif mode == "crash" and step == "2" and kind == "step":
    print("Traceback: ConnectionError: could not reach the database", file=sys.stderr)
    sys.exit(1)
elif mode == "ask" and step == "1" and "## Decisions a human made" not in prompt:
    print("EXEC-AUTO-DECISION\nquestion: Which queue?\noption: RQ\noption: Celery\nEND-DECISION")
else:
    decided = prompt.split("  A: ", 1)[1].split(" (decided by", 1)[0] if "  A: " in prompt else ""
    note.write_text(f"{kind} {decided}\n")
