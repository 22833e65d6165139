"""``python:pkg.module:function`` — call the feature in process.

The quickest way to put a pilot under test is to call the function the app already
calls. Async functions are awaited on the running loop; sync ones run in a worker
thread (``asyncio.to_thread``) so a slow feature cannot stall concurrent calls. The
function receives the case input as is (text, or chat messages) and returns text, or
a dict ``{"output": str, "tokens_in": int?, "tokens_out": int?}`` to report usage.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from pilotgate.errors import TargetError
from pilotgate.targets._base import BaseTarget, Input
from pilotgate.targets._config import TargetConfig
from pilotgate.targets._result import TargetResult

__all__ = ["PythonTarget", "load_callable"]

_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _import(module_name: str) -> Any:
    """Import ``module_name``; when it is not found, look in the current directory too.

    ``python -m`` and ``python script.py`` put the current directory on ``sys.path``; the
    ``pilotgate`` console script does not, so a feature module next to the user's shell
    would otherwise need ``PYTHONPATH=.``. The current directory is only consulted for a
    module that is not found anywhere else, so it never shadows an installed package.
    """
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        cwd = os.getcwd()
        if exc.name != top or cwd in sys.path:
            raise
        sys.path.append(cwd)
        importlib.invalidate_caches()
        return importlib.import_module(module_name)


def load_callable(spec: str) -> Callable[..., Any]:
    """Import ``pkg.module:function`` (the attribute may be dotted, e.g. ``Class.method``)."""
    if not _SPEC.match(spec):
        raise TargetError(
            f"bad python target {spec!r}",
            fix="write python:pkg.module:function",
        )
    module_name, attr = spec.split(":")
    try:
        obj: Any = _import(module_name)
    except ImportError as exc:
        raise TargetError(
            f"cannot import {module_name!r} ({type(exc).__name__}: {exc})",
            where=f"target python:{spec}",
            fix="run from the directory that holds the module (or its package), "
            "or pip install -e the package that defines it",
        ) from None
    except Exception as exc:
        raise TargetError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}",
            where=f"target python:{spec}",
            fix="fix the error raised at import time",
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TargetError(
                f"{module_name!r} has no attribute {attr!r}",
                where=f"target python:{spec}",
                fix="check the function name after the colon",
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise TargetError(
            f"{spec!r} is a {type(obj).__name__}, not a function",
            where=f"target python:{spec}",
            fix="point at a function that takes the input and returns text",
        )
    fn: Callable[..., Any] = obj
    return fn


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class PythonTarget(BaseTarget):
    """Calls a Python function in process, sync or async."""

    kind = "python"

    def __init__(self, config: TargetConfig) -> None:
        super().__init__(config)
        if not config.function:
            raise TargetError(
                "python target needs a function",
                fix="write python:pkg.module:function, or set function in [targets.NAME]",
            )
        self._fn = load_callable(config.function)
        self._async = _is_async(self._fn)

    def describe(self) -> str:
        return f"python:{self._config.function}"

    async def _attempt(self, input: Input, result: TargetResult) -> None:
        timeout = self._config.timeout_s
        if self._async:
            value = await asyncio.wait_for(self._fn(input), timeout)
        else:
            value = await asyncio.wait_for(asyncio.to_thread(self._fn, input), timeout)
            if inspect.isawaitable(value):
                value = await asyncio.wait_for(value, timeout)
        result.end = time.perf_counter()
        self._fill(value, result)

    def _fill(self, value: Any, result: TargetResult) -> None:
        if isinstance(value, dict) and isinstance(value.get("output"), str):
            result.output = value["output"]
            for key in ("tokens_in", "tokens_out"):
                count = value.get(key)
                if isinstance(count, int) and not isinstance(count, bool):
                    setattr(result, key, count)
        elif isinstance(value, str):
            result.output = value
        else:
            result.error = "bad_response"
            result.detail = f"{self.describe()} returned {type(value).__name__}, expected str"
