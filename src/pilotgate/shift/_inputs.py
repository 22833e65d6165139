"""Read eval or production inputs from a file: case lines or ingest interaction lines.

Reading goes through :func:`pilotgate.records.read_cases`, so both formats DESIGN.md
promises are accepted. Timestamps are not part of a case, so a second, JSON-only pass
picks up ``ts`` from interaction lines (and from case lines that carry one); they drive
the early-vs-late drift test and the per-day coverage trend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pilotgate.errors import InputError
from pilotgate.records import BadLine, iter_jsonl, read_cases

__all__ = ["ShiftInputs", "load_inputs"]


@dataclass
class ShiftInputs:
    """Inputs read from one file, with what could not be read."""

    ids: list[str]
    texts: list[str]
    ts: list[datetime | None]
    bad_lines: list[BadLine] = field(default_factory=list)
    #: ``name@version`` when the inputs are a stored eval set's cases.
    ref: str | None = None

    @property
    def has_timestamps(self) -> bool:
        return any(t is not None for t in self.ts)


def load_inputs(path: str | Path, *, max_bad_share: float = 0.5) -> ShiftInputs:
    """Read inputs; bad lines are skipped and reported unless they are most of the file.

    Why lenient: one corrupt line in 100k production records should not stop a shift
    analysis (the result lists the skipped lines). A file that is mostly unreadable is
    more likely the wrong file, so it is an error.

    Raises:
        InputError: the file is missing, empty, or mostly unreadable.
    """
    cases, bad = read_cases(path, strict=False)
    if not cases:
        detail = f"; first bad line {bad[0].line}: {bad[0].error}" if bad else ""
        raise InputError(
            f"no inputs found{detail}",
            where=str(path),
            fix='write one JSON object per line: {"id": "...", "input": "..."} '
            "or ingest interaction records",
        )
    if bad and len(bad) > max_bad_share * (len(bad) + len(cases)):
        raise InputError(
            f"{len(bad)} of {len(bad) + len(cases)} lines are unreadable; "
            f"first: line {bad[0].line}: {bad[0].error}",
            where=str(path),
            fix="check that this is a cases or ingest JSONL file in UTF-8",
        )
    ts_by_id = _timestamps(path)
    return ShiftInputs(
        ids=[c.id for c in cases],
        texts=[c.text for c in cases],
        ts=[ts_by_id.get(c.id) for c in cases],
        bad_lines=bad,
    )


def _timestamps(path: str | Path) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for _, obj in iter_jsonl(path):
        if not isinstance(obj, dict) or obj.get("kind") in ("feedback", "step"):
            continue
        raw, rid = obj.get("ts"), obj.get("id")
        if not isinstance(raw, str) or not isinstance(rid, str):
            continue
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            continue
        if ts.tzinfo is not None:
            out[rid] = ts
    return out
