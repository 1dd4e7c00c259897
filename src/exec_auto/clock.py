"""Timestamps in one format everywhere: UTC, ISO 8601, second precision, 'Z' suffix."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current UTC time as '2025-11-03T10:30:00Z'."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime | None:
    """Parse a timestamp written by now_iso (or any ISO 8601 string); None if it is not one."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
