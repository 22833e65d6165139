"""Hourly rollups of interactions and feedback (public face of ``store._rollups``)."""

from __future__ import annotations

from pilotgate.store._rollups import (
    REL_ERROR,
    after_bulk_write,
    decode_bucket,
    hour_of,
    hour_sql,
    hour_start,
    model_sql,
    refresh_rollups,
)

__all__ = [
    "REL_ERROR",
    "after_bulk_write",
    "decode_bucket",
    "hour_of",
    "hour_sql",
    "hour_start",
    "model_sql",
    "refresh_rollups",
]
