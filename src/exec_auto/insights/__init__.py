"""Lessons from past runs: what keeps failing in this repository, read from progress files.

`collect` reads them; `report` renders `exec-auto insights`; `pitfalls` writes the bounded
"known pitfalls" section of the step prompt. The readiness score reads `collect.kind_history`.
"""
