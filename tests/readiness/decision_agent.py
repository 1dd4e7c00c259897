"""A scripted CLI agent for decision tests: writes notes/<ticket>-<step>.txt, asks when told to.

$DECISION_AGENT_ASK names "<ticket>:<step>" pairs that ask for a decision (once: when the prompt
already carries a human decision, the agent follows it and writes it into its note). Every prompt
is appended to $DECISION_AGENT_LOG as JSON lines.
"""

import json
import os
import pathlib

ticket, step = os.environ["EXEC_AUTO_TICKET"], os.environ["EXEC_AUTO_STEP_ID"]
kind = os.environ.get("EXEC_AUTO_TASK_KIND", "step")
prompt = pathlib.Path(os.environ["EXEC_AUTO_PROMPT_FILE"]).read_text(encoding="utf-8")
with open(os.environ["DECISION_AGENT_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"ticket": ticket, "step": step, "kind": kind, "prompt": prompt}) + "\n")
asks = os.environ.get("DECISION_AGENT_ASK", "").split(",")
decided = "## Decisions a human made for this step" in prompt
note = pathlib.Path("notes") / f"{ticket}-{step}.txt"
note.parent.mkdir(exist_ok=True)
if f"{ticket}:{step}" in asks and not decided:
    note.write_text("half done\n", encoding="utf-8")
    print("I cannot pick the cache backend myself.")
    print("EXEC-AUTO-DECISION")
    print("question: Which cache backend should the sessions use?")
    print("option: Redis (already deployed)")
    print("option: Memcached (simpler)")
    print("END-DECISION")
else:
    answer = prompt.split("  A: ", 1)[1].split(" (decided by", 1)[0] if decided else "none"
    note.write_text(f"{ticket} {step} decision={answer}\n", encoding="utf-8")
    print(f"did {ticket} step {step}")
