"""The file formats users' scripts rely on: cases JSONL and ingest JSONL (docs/formats.md).

Readers are strict about structure and lenient about extras: unknown keys are kept in
``metadata``/``extra``; a bad line is reported with its file and line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from pilotgate._results import ResultDocument
from pilotgate.errors import InputError

__all__ = [
    "BadLine",
    "Case",
    "FeedbackRecord",
    "InteractionRecord",
    "ResultDocument",
    "StepRecord",
    "format_validation_error",
    "iter_jsonl",
    "json_error_text",
    "parse_ingest_line",
    "read_cases",
    "write_cases",
]

Message = dict[str, Any]


class Case(BaseModel):
    """One eval case: an input with an optional reference output and tags."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    id: str = Field(description="Stable case id, unique within an eval set.")
    input: str | list[Message] = Field(description="The request text, or chat messages.")
    expected: Any = Field(default=None, description="Reference output or label, if any.")
    tags: list[str] = Field(default_factory=list, description="Free-form tags (kind, cluster…).")
    source: str | None = Field(
        default=None, description="Where it came from: production, demo, perturbed, manual."
    )
    origin: dict[str, Any] | None = Field(
        default=None, description="Provenance (interaction id, perturbation, strategy…)."
    )

    @property
    def text(self) -> str:
        """The input as one string (the last user message for chat inputs)."""
        return input_text(self.input)


def input_text(value: str | list[Message]) -> str:
    if isinstance(value, str):
        return value
    for msg in reversed(value):
        if msg.get("role", "user") == "user":
            content = msg.get("content", "")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


class InteractionRecord(BaseModel):
    """One recorded call of the feature (ingest kind ``interaction``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["interaction"] = "interaction"
    id: str = Field(
        min_length=1, max_length=200, description="Record id; re-ingesting it is a no-op."
    )
    ts: datetime = Field(description="When the call started (RFC 3339, with a timezone).")
    feature: str = Field(min_length=1, description="Feature name, e.g. support-router.")
    version: str = Field(default="", description="Prompt/model version of the feature.")
    session_id: str | None = Field(default=None, description="Session the call belongs to.")
    user_id: str | None = Field(default=None, description="End user who made the call.")
    input: str | list[Message] = Field(description="What the user sent: text or chat messages.")
    output: str | None = Field(default=None, description="What the feature answered.")
    latency_ms: float | None = Field(default=None, ge=0, description="End-to-end latency, ms.")
    ttft_ms: float | None = Field(default=None, ge=0, description="Time to first token, ms.")
    tokens_in: int | None = Field(default=None, ge=0, description="Prompt tokens.")
    tokens_out: int | None = Field(default=None, ge=0, description="Completion tokens.")
    error: str | None = Field(default=None, description="Error class if the call failed.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Anything else.")


class FeedbackRecord(BaseModel):
    """What the user did with an output (ingest kind ``feedback``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["feedback"] = "feedback"
    id: str | None = Field(default=None, description="Record id; derived when absent.")
    interaction_id: str = Field(min_length=1, description="The interaction this is about.")
    ts: datetime = Field(description="When the user reacted.")
    accepted: StrictBool | None = Field(
        default=None,
        description="Accepted (true) or rejected (false): a JSON boolean, never a string.",
    )
    score: float | None = Field(default=None, description="Optional numeric rating.")
    edited_output: str | None = Field(default=None, description="The user's edited version.")
    dwell_ms: float | None = Field(default=None, ge=0, description="Time spent on the output, ms.")
    comment: str | None = Field(default=None, description="Free-text comment.")


class StepRecord(BaseModel):
    """One workflow event in a session (ingest kind ``step``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["step"] = "step"
    id: str | None = Field(default=None, description="Record id; derived when absent.")
    session_id: str = Field(min_length=1, description="The session the step belongs to.")
    ts: datetime = Field(description="When it happened.")
    name: str = Field(min_length=1, description="Step name, e.g. opened_assistant.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Anything else.")


IngestRecord = InteractionRecord | FeedbackRecord | StepRecord
_KINDS: dict[str, type[BaseModel]] = {
    "interaction": InteractionRecord,
    "feedback": FeedbackRecord,
    "step": StepRecord,
}


@dataclass(frozen=True)
class BadLine:
    """A line that could not be read: where and why."""

    path: str
    line: int
    error: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.error}"


def json_error_text(exc: json.JSONDecodeError) -> str:
    """``Unterminated string starting at column 115`` (json's own message may end in "at")."""
    msg = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg
    return f"{msg} at column {exc.colno}"


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_ingest_line(obj: Any) -> IngestRecord:
    """Validate one decoded ingest object; raises ValueError with a field-level message."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    kind = obj.get("kind", "interaction")
    model = _KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValueError(f"kind: must be one of {', '.join(_KINDS)} (got {kind!r})")
    try:
        rec = model.model_validate(obj)
    except ValidationError as exc:
        raise ValueError(format_validation_error(exc)) from None
    if isinstance(rec, InteractionRecord | FeedbackRecord | StepRecord):
        if rec.ts.tzinfo is None:
            raise ValueError("ts: needs a timezone (RFC 3339, e.g. 2026-05-01T12:00:00Z)")
        return rec
    raise AssertionError("unreachable")


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any | BadLine]]:
    """Yield (line number, decoded object or BadLine) for each non-blank line."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", where=str(p), fix="check the path")
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield lineno, json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield (
                    lineno,
                    BadLine(str(p), lineno, f"not UTF-8 ({exc.reason} at byte {exc.start})"),
                )
            except json.JSONDecodeError as exc:
                yield (
                    lineno,
                    BadLine(str(p), lineno, f"invalid JSON: {json_error_text(exc)}"),
                )


def read_cases(path: str | Path, *, strict: bool = True) -> tuple[list[Case], list[BadLine]]:
    """Read inputs from a cases JSONL file or an ingest JSONL file (interaction records).

    Returns the cases and the bad lines. With ``strict`` an empty result or any bad line
    raises :class:`InputError` naming the first problem.
    """
    cases: list[Case] = []
    bad: list[BadLine] = []
    for lineno, obj in iter_jsonl(path):
        if isinstance(obj, BadLine):
            bad.append(obj)
            continue
        try:
            cases.append(_case_from_obj(obj))
        except ValueError as exc:
            bad.append(BadLine(str(path), lineno, str(exc)))
        except _Skip:
            continue
    if strict and bad:
        raise InputError(
            f"{len(bad)} bad line(s); first: line {bad[0].line}: {bad[0].error}",
            where=str(path),
            fix="fix or remove those lines (cases need id and input)",
        )
    if strict and not cases:
        raise InputError(
            "no cases in file",
            where=str(path),
            fix='write one JSON object per line: {"id": "...", "input": "..."}',
        )
    return cases, bad


class _Skip(Exception):
    pass


def _case_from_obj(obj: Any) -> Case:
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    kind = obj.get("kind")
    if kind in ("feedback", "step"):
        raise _Skip
    if kind == "interaction":
        rec = parse_ingest_line(obj)
        assert isinstance(rec, InteractionRecord)
        return Case(
            id=rec.id,
            input=rec.input,
            tags=[],
            source="production",
            origin={"interaction_id": rec.id, "feature": rec.feature, "version": rec.version},
        )
    try:
        return Case.model_validate(obj)
    except ValidationError as exc:
        raise ValueError(format_validation_error(exc)) from None


def write_cases(path: str | Path, cases: Iterable[Case]) -> int:
    """Write cases as JSONL; returns the count."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(case.model_dump_json(exclude_none=True) + "\n")
            n += 1
    return n
