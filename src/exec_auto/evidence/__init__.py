"""Evidence the agent cannot fake: an integrity audit of every step's diff, and red/green runs.

`audit` compares a step's before/after snapshot trees and reports checks that were weakened
(tests deleted or skipped, asserts removed or loosened, lint/test/coverage configuration relaxed,
suppression comments, CI edits). `redgreen` runs the ticket's tests against the code as it was
before the ticket, so a criterion is `met` only when its test fails before and passes after.
"""
