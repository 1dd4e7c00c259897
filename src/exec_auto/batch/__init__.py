"""Batch and parallel runs: many tickets, one morning report."""
