"""Readiness: how safely a ticket can run unattended, scored 0-100 from its plan, spec and history.

`model` holds the records, `text` the EN/PT word lists and markdown scrubbing, `rules` one
function per kind of finding, `score` combines them, `gate` decides whether a run may start.
"""
