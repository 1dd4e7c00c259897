"""A stand-in for a CLI agent that speaks the OpenAI API (like aider or codex), for the proxy tests.

It streams one chat completion with the real `openai` SDK, configured only from its environment
(OPENAI_BASE_URL, OPENAI_API_KEY), writes the answer to answer.txt, and dumps everything it can
see of its environment into seen.txt - as a hostile agent would, to leak it.
"""

import contextlib
import os
from pathlib import Path

import openai

client = openai.OpenAI(max_retries=0)
stream = client.chat.completions.create(
    model="gpt-test",
    messages=[{"role": "user", "content": Path(os.environ["EXEC_AUTO_PROMPT_FILE"]).read_text()}],
    stream=True,
)
answer = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
Path("answer.txt").write_text(answer)
seen = [f"{k}={v}" for k, v in os.environ.items()]
for pid in os.listdir("/proc"):
    if pid.isdigit():
        with contextlib.suppress(OSError):
            seen.append(Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace"))
Path("seen.txt").write_text("\n".join(seen))
