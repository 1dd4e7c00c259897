"""The morning review: HTML reports, the decisions ledger, notifications, PR text, serve."""
