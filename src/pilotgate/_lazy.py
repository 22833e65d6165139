"""Names a package loads on first use (PEP 562), so that importing the package stays cheap.

A package lists its public names with the module each comes from, imports them under
``TYPE_CHECKING`` (users' type checkers see the real types) and ends with
``__getattr__, __dir__ = lazy_names(__name__, _LAZY)``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's ``__getattr__`` and ``__dir__``: each name loads its module on first use.

    A loaded name is kept in the package's namespace, so the next use is a plain lookup.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(sys.modules[package].__all__)

    return __getattr__, __dir__
