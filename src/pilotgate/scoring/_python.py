"""``--scorer python:scorers.py:fn`` (or ``python:pkg.module:fn``): a scorer of your own.

A team's own check (a regex on an order number, a call into their classifier) should not
need a plug-in package. The function takes the output, the reference and, if it accepts
it, ``input=``; it returns a :class:`~pilotgate.scoring.Score`, a bool, or a float in
``[0, 1]`` (passes at 0.5), as the built-in scorers do. Options after a comma
(``python:scorers.py:fn,threshold=0.8``) are passed as keyword arguments.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pilotgate.errors import ConfigError

__all__ = ["PYTHON_PREFIX", "load_python_scorer", "python_scorer_key"]

PYTHON_PREFIX = "python:"
_KEY = re.compile(r"[^A-Za-z0-9_\-]+")


def python_scorer_key(name: str) -> str:
    """The result key of a python scorer: its function name (a gate metric can name it)."""
    return _KEY.sub("_", name.rsplit(":", 1)[-1]) or "python"


def _from_file(path: Path, attr: str, ref: str) -> Any:
    mod_name = f"pilotgate_user_scorers_{abs(hash(str(path.resolve()))):x}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path}", where=f"--scorer {ref}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(
            f"importing {path} failed: {type(exc).__name__}: {exc}",
            where=f"--scorer {ref}",
            fix="fix the error raised at import time",
        ) from None
    return getattr(module, attr, None)


def load_python_scorer(ref: str) -> Callable[..., Any]:
    """The scoring function ``ref`` (``python:FILE.py:fn`` or ``python:pkg.module:fn``) names,
    wrapped so it is called as ``fn(output, reference, input=…, **options)``.

    Raises:
        ConfigError: the file, module or function cannot be found.
    """
    body = ref[len(PYTHON_PREFIX) :]
    where, sep, attr = body.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise ConfigError(
            f"bad python scorer {ref!r}", fix="write python:scorers.py:fn or python:pkg.mod:fn"
        )
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ConfigError(f"no file {where}", where=f"--scorer {ref}", fix="check the path")
        fn = _from_file(path, attr, ref)
    else:
        from pilotgate.targets import load_callable

        try:
            fn = load_callable(f"{where}:{attr}")
        except Exception as exc:
            raise ConfigError(str(exc), where=f"--scorer {ref}") from None
    if not callable(fn):
        raise ConfigError(
            f"{where} has no function {attr!r}", where=f"--scorer {ref}", fix="check the name"
        )
    return _adapt(fn)


def _adapt(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Call ``fn`` with ``input=`` only when it accepts it (most checks do not need it)."""
    params = inspect.signature(fn).parameters
    takes_input = "input" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())

    def call(output: str, reference: Any = None, *, input: Any = None, **opts: Any) -> Any:
        if takes_input:
            return fn(output, reference, input=input, **opts)
        return fn(output, reference, **opts)

    call.__doc__ = fn.__doc__
    return call
