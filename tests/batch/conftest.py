"""Fixtures for the batch tests (the helpers themselves live in support.py)."""

from tests.batch.support import make_batch, report_dir, run_batch_cli

__all__ = ["make_batch", "report_dir", "run_batch_cli"]
