"""A load run recorded through :mod:`pilotgate.runs` (kind ``load``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pilotgate.load._result import LevelsResult, LoadResult
    from pilotgate.store import Store

__all__ = ["record_load"]


def record_load(
    result: LoadResult | LevelsResult,
    store: Store | str,
    *,
    feature: str | None = None,
    version: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    target: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Store a load result: its document without raw samples (those belong in ``--json``
    files, for ``load merge``); a multi-level run is one run whose ``levels[]`` the gate
    reads by label (``1x``, ``2x``…). ``extra`` fields are added to the stored document."""
    from pilotgate.load._result import LevelsResult
    from pilotgate.runs import record_run

    doc = {**result.to_json(include_samples=False), **(extra or {})}
    where = result.levels[-1].target if isinstance(result, LevelsResult) else result.target
    return record_run(
        store,
        "load",
        doc,
        feature=feature,
        version=version,
        target=target or where,
        params=params,
        name=name,
    )
