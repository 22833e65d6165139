"""Time helpers shared by the store and its readers (usage, signals)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["to_utc"]


def to_utc(value: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
