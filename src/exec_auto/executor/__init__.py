"""The autonomous executor: run every step, log every problem, resume, validate, report, archive."""
