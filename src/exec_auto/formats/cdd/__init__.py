"""CDD, exec-auto's own layout: specs/tickets/<name>/ with plan.md, spec.yaml and progress.yaml."""
