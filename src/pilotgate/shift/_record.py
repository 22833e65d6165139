"""A shift analysis recorded as a run (kind ``shift``) through :mod:`pilotgate.runs`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pilotgate.shift._result import ShiftResult
    from pilotgate.store import Store

__all__ = ["record_shift"]


def record_shift(
    result: ShiftResult, store: Store | str, *, name: str | None = None, level: float = 0.95
) -> str:
    """Store ``result``: its ``--json`` document as summary, its uncovered inputs as rows.

    Only uncovered production inputs are kept as rows: they are what a reader follows up
    (gaps, suggested cases); the covered ones are counted in the summary.
    """
    from pilotgate.runs import record_run

    scope = result.scope
    uncovered = ((row["id"], row) for row in result.score_rows() if not row["covered"])
    return record_run(
        store,
        "shift",
        result.to_json(),
        uncovered,
        feature=scope.get("feature"),
        version=scope.get("version"),
        eval_set=scope.get("eval_set"),
        inputs=scope.get("inputs"),
        name=name,
        params={"embedder": result.embedder, "seed": result.seed, "level": level},
    )
