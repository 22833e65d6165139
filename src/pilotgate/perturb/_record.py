"""A robustness run recorded through :mod:`pilotgate.runs` (kind ``robustness``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pilotgate.perturb._report import RobustnessResult
    from pilotgate.store import Store

__all__ = ["record_robustness"]


def record_robustness(
    result: RobustnessResult,
    store: Store | str,
    *,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """Store ``result``: its document as summary, one row per judged pair.

    Rows are keyed ``<perturbed id>@<severity>``, so a severity curve's pairs of the same
    perturbed case stay apart.
    """
    from pilotgate.runs import record_run

    rows = ((f"{r['perturbed_id']}@{r['severity']}", r) for r in result.rows())
    cases = (params or {}).get("cases")
    return record_run(
        store,
        "robustness",
        result.to_json(),
        rows,
        feature=result.scope.get("feature"),
        version=result.scope.get("version"),
        eval_set=result.scope.get("eval_set"),
        inputs={"cases": cases} if cases else None,
        target=result.target,
        params=params,
        name=name,
    )
