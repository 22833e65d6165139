"""Options shared by result-producing commands: ``--store``, ``--feature``/``--version``,
``--json`` (and its one writer), and dates given on the command line.

The commands do not record runs themselves: they pass ``store=`` and ``save=`` to the
capability's entry point, which records its run through :mod:`pilotgate.runs`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "ensure_reachable",
    "json_option",
    "parse_date",
    "plan_scope",
    "scope_options",
    "store_options",
    "write_json",
]

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


def json_option(what: str) -> Callable[[F], F]:
    """``--json FILE`` (``json_path``): "Write the {what} document."."""
    return click.option(
        "--json", "json_path", type=click.Path(dir_okay=False), help=f"Write the {what} document."
    )


def parse_date(value: str | None, option: str) -> datetime | None:
    """A date or date-time given as ``option`` (UTC when it names no zone; ``Z`` allowed)."""
    from pilotgate.errors import ConfigError

    if not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"bad date {value!r}", where=option, fix="use 2026-05-01 or 2026-05-01T12:00:00Z"
        ) from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


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
    """Fail fast with one line (exit 2): :func:`pilotgate.targets.ensure_reachable`."""
    from pilotgate.targets import ensure_reachable as check

    check(config)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path: str | Path, doc: Any) -> None:
    """The one writer of every ``--json FILE`` document: strict JSON, UTF-8, indent 2.

    Non-finite floats become ``null`` (never the ``NaN`` token, which JSON parsers refuse);
    values JSON does not know (dates, paths) are written as strings.
    """
    text = json.dumps(_finite(doc), indent=2, ensure_ascii=False, allow_nan=False, default=str)
    Path(path).write_text(text + "\n", encoding="utf-8")
