"""The batch fixtures, for the CI generator tests."""

from tests.batch.support import make_batch

__all__ = ["make_batch"]
