"""Options shared by the commands: ``--store``, ``--plan``, ``--feature``/``--version``,
``--json`` (and its one writer), and the redaction options of ``ingest`` and ``serve``.
Dates typed on the command line are parsed by :func:`pilotgate._dates.parse_time`.

The commands do not record runs themselves: they pass ``store=`` and ``save=`` to the
capability's entry point, which records its run through :mod:`pilotgate.runs`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "FILE",
    "json_option",
    "parse_patterns",
    "plan_option",
    "plan_path_option",
    "plan_scope",
    "progress_bar",
    "redaction_options",
    "scope_options",
    "store_env_option",
    "store_option",
    "store_options",
    "write_json",
]

F = TypeVar("F", bound=Callable[..., Any])

FILE = click.Path(dir_okay=False)
_STORE_HELP = "Store URL (default: PILOTGATE_STORE, the plan's, else .pilotgate/pilotgate.db)."
_PLAN_HELP = "Pilot plan (default ./pilotgate.toml)."

# ``--store`` is read from PILOTGATE_STORE by the settings either way; the two forms
# differ only in whether click also reads the variable (kept as each command had it).
store_option = click.option("--store", "store_url", default=None, help=_STORE_HELP)
store_env_option = click.option(
    "--store", "store_url", default=None, envvar="PILOTGATE_STORE", help=_STORE_HELP
)
# ``--plan FILE`` (a file path checked by click) and ``--plan`` (any text), as each command had it
plan_path_option = click.option("--plan", "plan_path", type=FILE, help=_PLAN_HELP)
plan_option = click.option("--plan", "plan_path", default=None, help=_PLAN_HELP)


def store_options(fn: F) -> F:
    """Add ``--store URL`` and ``--no-store`` to a command."""
    fn = click.option("--no-store", is_flag=True, help="Do not record this run in the store.")(fn)
    return store_env_option(fn)


def json_option(what: str) -> Callable[[F], F]:
    """``--json FILE`` (``json_path``): "Write the {what} document."."""
    return click.option(
        "--json", "json_path", type=click.Path(dir_okay=False), help=f"Write the {what} document."
    )


def parse_patterns(values: tuple[str, ...]) -> dict[str, str]:
    """``--redact-pattern NAME=REGEX`` options as a mapping."""
    out: dict[str, str] = {}
    for v in values:
        name, sep, regex = v.partition("=")
        if not sep or not name or not regex:
            raise click.BadParameter(f"{v!r}: use NAME=REGEX, e.g. employee_id=EMP-\\d{{5}}")
        out[name.strip()] = regex
    return out


def redaction_options(fn: F) -> F:
    """``--raw-ids``, ``--no-redact`` and ``--redact-pattern``: every receiving command's."""
    fn = click.option(
        "--redact-pattern", "redact_patterns", multiple=True, metavar="NAME=REGEX",
        help="Also redact matches of REGEX as [NAME] (repeatable).",
    )(fn)  # fmt: skip
    fn = click.option("--no-redact", is_flag=True, help="Store text as it is (no PII redaction).")(
        fn
    )
    return click.option(
        "--raw-ids", is_flag=True, help="Keep user_id and session_id as they are (with "
        "redaction on they are stored as keyed hashes by default).",
    )(fn)  # fmt: skip


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


@contextmanager
def progress_bar(label: str, *columns: Any) -> Iterator[Callable[[int, int], None]]:
    """A transient Rich progress bar (its default columns unless given); yields
    ``progress(done, total)`` for the capability to call."""
    from rich.progress import Progress

    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


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
