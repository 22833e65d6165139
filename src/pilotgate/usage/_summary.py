"""The ``pilotgate usage`` document: the usage report with its cost and metadata slices."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pilotgate.usage._cost import usage_cost
from pilotgate.usage._report import usage_report
from pilotgate.usage._slices import metadata_key, parse_selector, usage_slices

if TYPE_CHECKING:
    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = ["usage_summary"]


def usage_summary(
    store: Store,
    plan: Plan | None = None,
    *,
    feature: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str | None = None,
    where: Sequence[str] = (),
    exact: bool = False,
) -> dict[str, Any]:
    """The usage report of the selected interactions as a document, with cost and slices.

    The funnel follows the plan's ``[pilot] steps`` and the cost its ``[prices]`` (no
    plan: no funnel, ``cost`` None). Slices are computed by the same
    :func:`usage_report` the gate uses, so the figures agree.

    Args:
        store: the store to read.
        plan: the pilot plan in force, if any.
        feature, version: only this feature / version (None: all).
        since, until: the interactions' time window (``until`` exclusive).
        by: slice by a metadata key, ``metadata.KEY`` (its 20 commonest values); the
            document then carries ``by`` and ``slices``.
        where: only interactions with these ``KEY=VALUE`` metadata pairs (each may be a
            comma list).
        exact: exact percentiles from the raw rows instead of the hourly rollups.

    Raises:
        ConfigError: a bad metadata key or ``KEY=VALUE`` pair (naming ``--by``/``--where``).
    """
    key = metadata_key(by) if by else None
    sel = parse_selector(",".join(where), where="--where") if where else ()
    steps = plan.pilot.steps if plan is not None else []
    window: dict[str, Any] = {
        "feature": feature,
        "version": version,
        "since": since,
        "until": until,
    }
    prices = plan.prices if plan is not None else {}
    # the cost reads every row of its own: on its own connection, while the report is read
    with ThreadPoolExecutor(1) as pool:
        cost = pool.submit(usage_cost, store, prices, metadata=sel, exact=exact, **window)
        doc = usage_report(store, steps=steps, metadata=sel, exact=exact, **window).to_json()
        doc["cost"] = cost.result().to_json()
    if key is not None:
        parts = usage_slices(store, key, steps=steps, where=sel, **window)
        doc["by"] = f"metadata.{key}"
        doc["slices"] = [p.to_json() for p in parts]
    return doc
