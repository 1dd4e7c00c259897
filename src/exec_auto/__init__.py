"""exec-auto: execute a planned ticket through a coding agent, unattended, and report honestly."""

__version__ = "0.1.0"
