"""The bundled offline example: a small project, one ticket, and a recorded agent session."""

from pathlib import Path

PROJECT_DIR = Path(__file__).parent / "project"
SESSION_FILE = Path(__file__).parent / "session.json"
TICKET = "feature-word-stats"
