"""The per-ticket job command: the one line every engine runs for one ticket.

GitHub Actions, Kubernetes and the tests all take it from `job_script`, so what CI runs is exactly
what the end-to-end test runs. The ticket arrives in an environment variable, never spliced into
the script (a ticket name is data; expanding it into shell source would be an injection).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

TICKET_VAR = "EXEC_AUTO_JOB_TICKET"
RESULT_DIR = "exec-auto-results"
DEFAULT_REMOTE = "origin"


def job_script(
    *,
    remote: str = DEFAULT_REMOTE,
    result_dir: str = RESULT_DIR,
    run_args: Sequence[str] = (),
    executable: str = "exec-auto",
) -> str:
    """The shell line of one job: `exec-auto run "$T" --branch "exec-auto/$T" --push ... --result-file ...`."""
    ticket = f'"${TICKET_VAR}"'
    parts = [
        shlex.quote(executable),
        "run",
        ticket,
        "--branch",
        f'"exec-auto/${TICKET_VAR}"',
        "--push",
        shlex.quote(remote),
        "--result-file",
        f'{shlex.quote(result_dir)}/"${TICKET_VAR}.json"',
        *(shlex.quote(a) for a in run_args),
    ]
    return " ".join(parts)
