"""The ticket model shared by every format: resolving a ticket, typed records, progress.yaml."""
