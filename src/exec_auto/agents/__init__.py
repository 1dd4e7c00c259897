"""Coding agent backends: one module each, behind the small `Agent` protocol of `base`."""
