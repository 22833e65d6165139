"""Validating decoded ingest objects into plain record dicts, with field-level errors.

Both the collector and ``pilotgate ingest`` go through :func:`validate_record`: the fast
path for well-formed interactions, pydantic for everything else (and for the error
message, so a bad record is always explained the same way).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from pilotgate._interaction_rows import normalise_interaction
from pilotgate.ingest._sanitise import NORMALISED, Refused, sanitise
from pilotgate.records import FeedbackRecord, InteractionRecord, StepRecord

__all__ = ["InvalidRecord", "RecordError", "validate_record"]

_MODELS: dict[str, type[BaseModel]] = {
    "interaction": InteractionRecord,
    "feedback": FeedbackRecord,
    "step": StepRecord,
}


class InvalidRecord(ValueError):
    """A record that cannot be stored: the field at fault and why."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(f"{field}: {error}")
        self.field = field
        self.error = error


@dataclass(frozen=True)
class RecordError:
    """Where a record failed (its index in a batch, or its line in a file) and why."""

    index: int
    field: str
    error: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def validate_record(
    obj: Any,
    *,
    default_kind: str = "interaction",
    counts: dict[str, int] | None = None,
    clean: bool = True,
) -> dict[str, Any]:
    """A validated, storable record as a plain dict with its ``kind``.

    Timestamps must carry a timezone (RFC 3339), so that a day is the same day everywhere.
    What no store can hold is refused here, record by record (see ``_sanitise``); NUL and
    lone surrogates are replaced, their number added to ``counts["_normalised"]``
    (``clean=False``: the caller knows there are none; see ``_sanitise.needs_cleaning``).

    Raises:
        InvalidRecord: the field at fault and why.
    """
    rec = _validate(obj, default_kind)
    try:
        n = sanitise(rec, clean=clean)
    except Refused as exc:
        raise InvalidRecord(exc.field, exc.error) from None
    if n and counts is not None:
        counts[NORMALISED] = counts.get(NORMALISED, 0) + n
    return rec


def _validate(obj: Any, default_kind: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InvalidRecord("(record)", f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind", default_kind)
    if kind == "interaction":
        fast = normalise_interaction(obj)
        if fast is not None:
            return fast
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise InvalidRecord("kind", f"must be one of {', '.join(_MODELS)} (got {kind!r})")
    try:
        rec = model.model_validate(obj if "kind" in obj else {**obj, "kind": kind})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        # pydantic names the union member in the path ("input.str"); users know the field
        field = field.split(".")[0] if field.startswith("input.") else field
        raise InvalidRecord(field, err["msg"]) from None
    d = rec.model_dump()
    if d["ts"].tzinfo is None:
        raise InvalidRecord("ts", "needs a timezone (RFC 3339, e.g. 2026-05-01T12:00:00Z)")
    return d
