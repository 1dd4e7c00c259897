"""Kernel-enforced containment for every agent process and every command that runs project code.

`policy` holds the typed, immutable description of what a sandboxed command may see and touch;
`backend` the small protocol and registry of mechanisms that enforce it (bubblewrap on Linux);
`session` the per-run `Sandbox` that `exec_auto.proc.run` wraps commands with. Kept import-light:
nothing here runs at import.
"""

from __future__ import annotations

from exec_auto.sandbox.policy import SandboxPolicy
from exec_auto.sandbox.session import Sandbox, SandboxStatus, open_sandbox, sandbox_status

__all__ = ["Sandbox", "SandboxPolicy", "SandboxStatus", "open_sandbox", "sandbox_status"]
