"""The time, in UTC: the one helper transports and tables share.

A module of its own so that a transport (mail, social) can stamp times without importing the
table models, which load SQLModel and every table.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (stored as UTC on every engine, shown in local time)."""
    return datetime.now(UTC)
