"""The sandbox backend protocol and its explicit registry.

A backend turns a `SandboxPolicy` and an argv into the argv that runs it contained, and says
whether it can work on this machine at all (`probe`: the tool exists *and* a trivial command
actually runs under it - a kernel without user namespaces fails only at that point).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from exec_auto.sandbox.policy import SandboxPolicy


@dataclass(frozen=True)
class Probe:
    """Whether a backend works here, and if not, one line saying why."""

    usable: bool
    reason: str = ""


class SandboxBackend(Protocol):
    """A mechanism that runs a command under a SandboxPolicy."""

    name: str
    # Each command gets its own PID namespace: nothing it starts outlives it.
    contains_processes: bool
    # Network can be cut off per command.
    isolates_network: bool

    def probe(self) -> Probe:
        """Can this backend run commands on this machine (tried for real, then cached)?"""
        ...

    def wrap(self, policy: SandboxPolicy, argv: Sequence[str], cwd: Path) -> list[str]:
        """The argv that runs `argv` in `cwd` contained by `policy`."""
        ...


# name -> module defining `create() -> SandboxBackend`; tried in this order.
BACKENDS: dict[str, str] = {
    "bwrap": "exec_auto.sandbox.bwrap",
}

_instances: dict[str, SandboxBackend] = {}


def get_backend(name: str) -> SandboxBackend:
    """The (cached) backend called name."""
    if name not in _instances:
        module = importlib.import_module(BACKENDS[name])
        _instances[name] = module.create()
    return _instances[name]


def first_usable() -> tuple[SandboxBackend | None, list[str]]:
    """The first backend that works here, and why each one before it did not."""
    reasons: list[str] = []
    for name in BACKENDS:
        backend = get_backend(name)
        probe = backend.probe()
        if probe.usable:
            return backend, reasons
        reasons.append(f"{name}: {probe.reason}")
    return None, reasons
