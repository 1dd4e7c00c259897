"""Ticket formats: each layout a planning tool writes, read into the one ticket model."""
