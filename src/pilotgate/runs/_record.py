"""Recording a run: the one path every capability's entry point takes into the store.

A run records what it measured (feature, version, eval set or inputs), how (target
fingerprint without secrets, parameters), under which plan (``plan_hash``), its ``--json``
document as the summary, and its result rows. The gate, the report and the dashboard
select runs by those fields (``pilotgate.runs.select_run``), so a capability that records
through here is visible to them whether it was called by the CLI, the demo or a script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["finish_run", "plan_in_force", "record_run", "safe_target", "start_run", "using_store"]

# query parameters whose value is a credential (``?api_key=…``, ``&token=…``, ``sig=``)
_SECRET_PARAM = re.compile(
    r"([?&](?:[A-Za-z0-9_\-]*(?:key|token|secret|password|passwd|sig|signature|auth)"
    r"[A-Za-z0-9_\-]*)=)[^&#\s]*",
    re.IGNORECASE,
)


def safe_target(target: str | None) -> str | None:
    """``target`` fit to store: no ``user:password@``, no credential query values.

    Takes a target spec (``openai:https://user:key@host/v1?api_key=…``) or a description;
    secrets are replaced so two runs of the same target still read the same.
    """
    if not target:
        return None
    from pilotgate._net import safe_url

    text = _SECRET_PARAM.sub(r"\1***", safe_url(str(target)))
    return text[:500]


def plan_in_force() -> str | None:
    """The hash of the plan found the usual way (``PILOTGATE_PLAN``, ``./pilotgate.toml``).

    None when there is no plan or it cannot be read: recording a run never fails because
    of a plan it does not need.
    """
    from pilotgate.errors import PilotgateError
    from pilotgate.plan import plan_hash, resolve_settings

    try:
        plan = resolve_settings().plan
    except PilotgateError:
        return None
    return plan_hash(plan) if plan is not None else None


@contextmanager
def using_store(store: Store | str | None) -> Iterator[Store]:
    """A :class:`Store` for ``store`` (a Store, a URL, or None for the configured one).

    A store passed in stays open; one opened here is closed on exit.
    """
    from pilotgate.store import Store, open_store

    if isinstance(store, Store):
        yield store
        return
    st = open_store(store)
    try:
        yield st
    finally:
        st.close()


def _meta(
    *,
    feature: str | None,
    version: str | None,
    eval_set: str | None,
    inputs: Mapping[str, Any] | None,
    target: str | None,
    params: Mapping[str, Any] | None,
    name: str | None,
    plan_hash: str | None,
) -> dict[str, Any]:
    from pilotgate._invocation import current_command

    kept = dict(params or {})
    command = current_command()  # the CLI line that made the run, secrets masked
    if command is not None:
        kept.setdefault("command", command)
    return {
        "feature": feature or None,
        "version": version or None,
        "eval_set": eval_set or None,
        "inputs": dict(inputs) if inputs else None,
        "target": safe_target(target),
        "params": kept,
        "name": name,
        "plan_hash": plan_hash if plan_hash is not None else plan_in_force(),
    }


def start_run(
    store: Store,
    kind: str,
    *,
    feature: str | None = None,
    version: str | None = None,
    eval_set: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    target: str | None = None,
    params: Mapping[str, Any] | None = None,
    name: str | None = None,
    plan_hash: str | None = None,
) -> str:
    """Open a run that fills its result rows as it goes (an eval); see :func:`record_run`."""
    meta = _meta(
        feature=feature, version=version, eval_set=eval_set, inputs=inputs, target=target,
        params=params, name=name, plan_hash=plan_hash,
    )  # fmt: skip
    return store.start_run(kind, **meta)


def finish_run(
    store: Store, run_id: str, summary: Mapping[str, Any], *, status: str = "ok"
) -> None:
    """Close a run opened by :func:`start_run` with its ``--json`` document."""
    store.finish_run(run_id, summary, status=status)


def record_run(
    store: Store | str | None,
    kind: str,
    summary: Mapping[str, Any],
    results: Iterable[tuple[str, Mapping[str, Any]]] = (),
    *,
    feature: str | None = None,
    version: str | None = None,
    eval_set: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    target: str | None = None,
    params: Mapping[str, Any] | None = None,
    name: str | None = None,
    plan_hash: str | None = None,
    status: str = "ok",
) -> str:
    """Record a finished run in one call; returns its id.

    Args:
        store: a Store, its URL, or None for the configured store.
        kind: ``eval``, ``compare``, ``shift``, ``robustness``, ``load``, ``cases``, ``gate``…
        summary: the run's ``--json`` document.
        results: ``(item id, row)`` pairs: per case, per pair, per uncovered input.
        feature: the feature measured (None = unknown: no criterion selects the run).
        version: the version measured (None = unknown).
        eval_set: ``name@version`` of the stored eval set the run read, if any.
        inputs: what it read otherwise (files, stored production), e.g.
            ``{"eval": "cases.jsonl", "production": "store:feature:router"}``.
        target: the target spec or description; secrets are stripped before storing.
        params: the parameters that reproduce the run.
        name: a free label (comparisons are looked up by it).
        plan_hash: the plan in force; default: the plan found as the CLI finds it.
        status: ``ok``, or ``interrupted`` for a partial run (readers judge ``ok`` runs only).
    """
    meta = _meta(
        feature=feature, version=version, eval_set=eval_set, inputs=inputs, target=target,
        params=params, name=name, plan_hash=plan_hash,
    )  # fmt: skip
    with using_store(store) as st:
        return st.save_run(kind, summary, results, status=status, **meta)
