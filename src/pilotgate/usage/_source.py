"""Which source answers the headline usage figures: the hourly rollups or the raw rows.

Kept apart from both (``_figures.py`` the exact path, ``_rollup.py`` the rollups, which
builds on ``_figures``' types) so that the imports run one way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pilotgate.usage._figures import UsageFigures, exact_figures
from pilotgate.usage._rollup import rollup_figures

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["usage_figures"]


def usage_figures(
    store: Store,
    *,
    feature: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    exact: bool = False,
    whole_store: bool | None = None,
) -> UsageFigures:
    """The headline usage figures of ``feature`` (and ``version``) over ``[since, until)``.

    Read from the hourly rollups for the window's whole hours and the raw rows for its
    ragged edges (counts and rates exact; percentiles within ``rel_error_max * (x + 1)``),
    or with ``exact`` (or a store without log buckets) from the raw rows alone.

    Args:
        store: the store to read.
        feature, version: the scope (None: every feature / version).
        since: first instant included; until: first instant excluded (interaction time).
        exact: exact order statistics from the raw rows.
        whole_store: whether this store view's rows are the whole store's (no read
            project, or a store that holds only it), when the caller already asked
            ``store.holds_only``; None: ask here.
    """
    if whole_store is None:
        whole_store = _whole_store(store)
    if not exact and whole_store:
        rolled = rollup_figures(store, feature, version, since, until)
        if rolled is not None:
            return rolled
    return exact_figures(store, feature, version, since, until)


def _whole_store(store: Store) -> bool:
    """Whether the rollups (every project's rows) are this store view's rows: the whole
    store, or a read key's view of a store that holds only its project."""
    project = store.read_project
    return project is None or store.holds_only(project)
