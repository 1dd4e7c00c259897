"""Quality gates after each step: format, lint, test, and automatic dependency installs."""
