"""Finding a metric's provider: the catalogue with the built-in providers loaded.

Kept apart from the registry (``_catalogue.py``) so that the providers, which register
there, never import the module that loads them: the imports run one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pilotgate.errors import ConfigError
from pilotgate.gate._catalogue import COMPILED, METRICS, Provider, compile_pattern

__all__ = ["ResolvedMetric", "catalogue", "resolve_metric"]


@dataclass(frozen=True)
class ResolvedMetric:
    """A metric name bound to its provider and the parts its pattern captured."""

    name: str
    pattern: str
    provider: Provider
    parts: dict[str, str] = field(default_factory=dict)


def _ensure_builtins() -> None:
    import pilotgate.gate._providers  # registers the built-in providers
    import pilotgate.gate._signal_providers  # noqa: F401  (silent-user metrics)


def catalogue() -> list[dict[str, str]]:
    """Every registered metric pattern with its description, source, unit and example."""
    _ensure_builtins()
    return [{"pattern": e.name, **{k: str(v) for k, v in e.meta.items()}} for e in METRICS]


def resolve_metric(name: str, *, where: str | None = None) -> ResolvedMetric:
    """The provider for metric ``name``.

    Raises:
        ConfigError: no pattern matches (the message lists the catalogue).
    """
    _ensure_builtins()
    from pilotgate.usage import describe_selector, split_metric

    base, selector = split_metric(name)
    for entry in METRICS:
        rx = COMPILED.get(entry.name) or compile_pattern(entry.name)
        m = rx.fullmatch(base)
        if m is not None:
            parts = m.groupdict()
            if selector:
                if not entry.name.startswith("usage."):
                    raise ConfigError(
                        f"{name!r}: only usage metrics take a metadata slice",
                        where=where,
                        fix="drop the [KEY=VALUE] part",
                    )
                parts["slice"] = describe_selector(selector)
            return ResolvedMetric(name, entry.name, entry.obj, parts)
    known = ", ".join(e.name for e in METRICS)
    raise ConfigError(
        f"unknown metric {name!r}",
        where=where,
        fix=f"use one from the catalogue (docs/gate.md): {known}",
    )
