"""Named, registered factories: perturbations, scorers, metrics, targets.

Built-ins register through the same mechanism as plug-ins; plug-ins load lazily
from the ``pilotgate.<kind>`` entry-point group the first time a registry is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pilotgate.errors import ConfigError

__all__ = ["Entry", "Registry"]

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered component: its name, the object, and descriptive metadata."""

    name: str
    obj: T
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """A name -> component map with a decorator to fill it.

    Args:
        kind: what the registry holds ("perturbation", "scorer"…); also names the
            entry-point group ``pilotgate.<kind>s`` plug-ins are loaded from.
        group: another entry-point group name (``pilotgate.case_strategies``).
    """

    def __init__(self, kind: str, *, group: str | None = None) -> None:
        self.kind = kind
        self.group = group or f"pilotgate.{kind}s"
        """The entry-point group plug-ins are loaded from (default ``pilotgate.<kind>s``)."""
        self._entries: dict[str, Entry[T]] = {}
        self._plugins_loaded = False

    def register(self, name: str, **meta: Any) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name`` with ``meta``."""

        def deco(obj: T) -> T:
            self.add(name, obj, **meta)
            return obj

        return deco

    def add(self, name: str, obj: T, *, replace: bool = False, **meta: Any) -> None:
        """Register ``obj``; a different one under a taken name raises unless ``replace``."""
        if not replace and name in self._entries and self._entries[name].obj is not obj:
            raise ConfigError(
                f"a {self.kind} named {name!r} is already registered",
                fix="pick another name for the new one",
            )
        self._entries[name] = Entry(name, obj, dict(meta))

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            ep.load()

    def get(self, name: str) -> Entry[T]:
        self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise ConfigError(
                f"unknown {self.kind} {name!r}",
                fix=f"use one of: {known}",
            ) from None

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        self._load_plugins()
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        return [e.name for e in self]
