"""The batch fixtures, for review tests that need a night of several tickets."""

from tests.batch.support import make_batch, report_dir, run_batch_cli

__all__ = ["make_batch", "report_dir", "run_batch_cli"]
