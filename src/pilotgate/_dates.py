"""The one parser of the dates and times users type (``--since``, ``--until``, ``--now``…)."""

from __future__ import annotations

from datetime import UTC, datetime

from pilotgate.errors import ConfigError

__all__ = ["parse_time"]


def parse_time(value: str | None, *, where: str) -> datetime | None:
    """``2026-05-01`` or an RFC 3339 time (``Z`` or an offset) as an aware datetime.

    A time without a zone is taken as UTC, so the same text means the same instant on
    every machine. ``None`` stays ``None`` (the option was not given).

    Raises:
        ConfigError: not a date, naming the option (``where``) and the accepted forms.
    """
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"bad date: {value!r} is not a date",
            where=where,
            fix="use YYYY-MM-DD or an RFC 3339 time, e.g. 2026-06-01T00:00:00Z",
        ) from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
