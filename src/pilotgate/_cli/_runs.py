"""Shared by result-producing commands: ``--store`` and recording a run in the store.

Every analysis writes its run to the store (docs/architecture.md: nothing talks behind the store's
back), with the command's ``--json`` document as the run summary, so the gate, the report
and the dashboard read one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import click

__all__ = ["record_run", "store_options"]

F = TypeVar("F", bound=Callable[..., Any])


def store_options(fn: F) -> F:
    """Add ``--store URL`` and ``--no-store`` to a command."""
    fn = click.option("--no-store", is_flag=True, help="Do not record this run in the store.")(fn)
    fn = click.option(
        "--store",
        "store_url",
        default=None,
        envvar="PILOTGATE_STORE",
        help="Store URL (default: the plan's, else sqlite:///.pilotgate/pilotgate.db).",
    )(fn)
    return fn


def record_run(
    store_url: str | None,
    kind: str,
    summary: Mapping[str, Any],
    results: Iterable[tuple[str, Mapping[str, Any]]] = (),
    *,
    status: str = "ok",
    **meta: Any,
) -> str:
    """Store a finished run (``status`` ``ok``, or ``interrupted`` for a partial one); its id."""
    from pilotgate._invocation import current_command
    from pilotgate.plan import plan_hash, resolve_settings
    from pilotgate.store import Store

    command = current_command()
    if command is not None:
        params = dict(meta.get("params") or {})
        params.setdefault("command", command)
        meta["params"] = params
    settings = resolve_settings(store=store_url)
    if settings.plan is not None and "plan_hash" not in meta:
        meta["plan_hash"] = plan_hash(settings.plan)
    with Store(settings.store) as store:
        if status == "ok":
            return store.save_run(kind, summary, results, **meta)
        rid = store.start_run(kind, **meta)
        store.add_results(rid, results)
        store.finish_run(rid, summary, status=status)
        return rid


def ensure_reachable(config: Any) -> None:
    """Fail fast with one line (exit 2) when the target cannot be reached, before a run.

    Args:
        config: the run's :class:`~pilotgate.targets.TargetConfig`. Python targets are
            always "reachable"; HTTP ones get a connection (and, for OpenAI-compatible
            APIs, a ``GET /models``) on a throwaway event loop and session.
    """
    import asyncio

    from pilotgate.targets import build_target, check_reachable, close_sessions

    if getattr(config, "kind", "python") == "python":
        return

    async def check() -> None:
        target = build_target(config)
        try:
            await check_reachable(target)
        finally:
            await target.aclose()
            await close_sessions()

    asyncio.run(check())
