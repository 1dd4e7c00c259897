"""Re-record the demo session: run the demo ticket with the scripted agent and --record.

Usage: python scripts/record_demo.py   (writes src/exec_auto/demo/session.json)
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from exec_auto.commands.demo_cmd import create_demo_repo
from exec_auto.demo import SESSION_FILE, TICKET

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Record into a temp copy of the demo project, then install the recording."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "demo"
        create_demo_repo(repo)
        recording = Path(tmp) / "session.json"
        cmd = [
            sys.executable,
            "-m",
            "exec_auto",
            "run",
            TICKET,
            "--no-archive",
            "--fix-attempts",
            "1",
            "--agent",
            "command",
            "--agent-command",
            f"{sys.executable} {HERE / 'demo_agent.py'}",
            "--record",
            str(recording),
        ]
        result = subprocess.run(cmd, cwd=repo, check=False)
        print(f"run exited {result.returncode}")
        shutil.copyfile(recording, SESSION_FILE)
        print(f"wrote {SESSION_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
