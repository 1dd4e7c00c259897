"""The ticket model: resolving a ticket, and reading plan.md, spec.yaml and progress.yaml."""
