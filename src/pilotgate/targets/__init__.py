"""Targets: how pilotgate calls the feature under test.

``resolve_target("openai:http://127.0.0.1:8000/v1", model="m")`` (or ``python:…``,
``http:…``, or a plan's ``[targets.NAME]``) gives a :class:`Target` whose async
``call`` returns a :class:`TargetResult` — output, timings, usage, HTTP status and a
classified error — and never raises for a failed call. HTTP targets share one aiohttp
session per event loop; close it with ``await target.aclose()`` or
``await close_sessions()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotgate._lazy import lazy_names

if TYPE_CHECKING:  # type checkers see the real names; at run time __getattr__ loads them
    from pilotgate.targets._base import BaseTarget, Input, Target, config_fingerprint
    from pilotgate.targets._config import TargetConfig
    from pilotgate.targets._python import load_callable
    from pilotgate.targets._resolve import (
        FORMS,
        TARGETS,
        build_target,
        check_reachable,
        ensure_reachable,
        parse_target,
        resolve_target,
    )
    from pilotgate.targets._result import ERROR_CLASSES, TargetResult
    from pilotgate.targets._retry import Backoff, retry_after_s
    from pilotgate.targets._run import run_many
    from pilotgate.targets._session import close_sessions, configure_sessions

__all__ = [
    "ERROR_CLASSES",
    "FORMS",
    "TARGETS",
    "Backoff",
    "BaseTarget",
    "Input",
    "Target",
    "TargetConfig",
    "TargetResult",
    "build_target",
    "check_reachable",
    "close_sessions",
    "config_fingerprint",
    "configure_sessions",
    "ensure_reachable",
    "load_callable",
    "parse_target",
    "resolve_target",
    "retry_after_s",
    "run_many",
]

# Loaded on first use: the plan's models need only ``TargetConfig``, and every command that
# reads a plan (``usage``, ``gate``, ``report``…) would otherwise load the HTTP clients too.
_LAZY = {
    "BaseTarget": "pilotgate.targets._base",
    "Input": "pilotgate.targets._base",
    "Target": "pilotgate.targets._base",
    "config_fingerprint": "pilotgate.targets._base",
    "TargetConfig": "pilotgate.targets._config",
    "load_callable": "pilotgate.targets._python",
    "FORMS": "pilotgate.targets._resolve",
    "TARGETS": "pilotgate.targets._resolve",
    "build_target": "pilotgate.targets._resolve",
    "check_reachable": "pilotgate.targets._resolve",
    "ensure_reachable": "pilotgate.targets._resolve",
    "parse_target": "pilotgate.targets._resolve",
    "resolve_target": "pilotgate.targets._resolve",
    "ERROR_CLASSES": "pilotgate.targets._result",
    "TargetResult": "pilotgate.targets._result",
    "Backoff": "pilotgate.targets._retry",
    "retry_after_s": "pilotgate.targets._retry",
    "run_many": "pilotgate.targets._run",
    "close_sessions": "pilotgate.targets._session",
    "configure_sessions": "pilotgate.targets._session",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
