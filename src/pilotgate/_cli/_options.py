"""Options shared by result-producing commands: ``--store``, ``--feature``/``--version``.

The commands do not record runs themselves: they pass ``store=`` and ``save=`` to the
capability's entry point, which records its run through :mod:`pilotgate.runs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["ensure_reachable", "plan_scope", "scope_options", "store_options"]

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


def scope_options(fn: F) -> F:
    """Add ``--feature`` and ``--version``: what the recorded run measures."""
    fn = click.option(
        "--version",
        "run_version",
        default=None,
        help="Feature version this run measures (default: the plan's [feature] version).",
    )(fn)
    fn = click.option(
        "--feature",
        "run_feature",
        default=None,
        help="Feature this run measures (default: the plan's [feature] name).",
    )(fn)
    return fn


def plan_scope(
    feature: str | None, version: str | None, plan: Any = None
) -> tuple[str | None, str | None]:
    """``(feature, version)`` as given, else from the plan in force (``plan`` or found)."""
    if plan is None and (feature is None or version is None):
        from pilotgate.errors import PilotgateError
        from pilotgate.plan import resolve_settings

        try:
            plan = resolve_settings().plan
        except PilotgateError:
            plan = None
    if plan is not None:
        feature = feature or plan.feature.name
        version = version or plan.feature.version
    return feature, version


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
