"""The metric catalogue: every capability registers the metrics a criterion may name.

A provider is registered under a *pattern* such as ``usage.dropoff.<step>`` or
``latency.<kind:e2e|service|ttft|itl>.<q:p50|p90|p95|p99|p999|max|mean>@<k>x``; the gate
finds the one pattern that matches a criterion's metric and calls it with the pattern's
parts. Providers read the store only; they never raise for missing data, they return a
:class:`NoData` saying what is missing and which command would produce it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pilotgate._registry import Registry

if TYPE_CHECKING:
    from pilotgate.gate._context import MetricContext

__all__ = [
    "METRICS",
    "COMPILED",
    "Evidence",
    "MetricValue",
    "NoData",
    "Provider",
    "metric_provider",
]


@dataclass(frozen=True)
class Evidence:
    """Where a number came from, so an engineer can trace and reproduce it.

    Attributes:
        kind: the run kind (``load``, ``eval``…) or ``usage`` for live pilot data.
        window: the time window the number covers, in words (``latest run``, ``2026-05-01..``).
        command: a command that reproduces the number.
        run_id: the stored run the number was read from (None for live usage data).
        note: anything a reader must know (which level, which eval set, why no data).
        selection: what the criterion may read: feature, version, eval set (and the
            run kind / comparison name); the run named by ``run_id`` matches it.
    """

    kind: str
    window: str
    command: str
    run_id: str | None = None
    note: str = ""
    selection: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "window": self.window,
            "command": self.command,
            "note": self.note,
            "selection": dict(self.selection) if self.selection is not None else None,
        }


@dataclass(frozen=True)
class MetricValue:
    """A measured value with its 95 % interval (None when there is none) and sample size."""

    value: float | None
    ci95: tuple[float, float] | None
    n: int
    evidence: Evidence


@dataclass(frozen=True)
class NoData:
    """Nothing to judge: no run, no level, no interactions in the window."""

    reason: str
    evidence: Evidence


Provider = Callable[["MetricContext", Mapping[str, str]], "MetricValue | NoData"]

METRICS: Registry[Provider] = Registry("metric")

_PLACEHOLDER = re.compile(r"<([a-z_]+)(?::([^>]+))?>")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    out, pos = "", 0
    for m in _PLACEHOLDER.finditer(pattern):
        out += re.escape(pattern[pos : m.start()])
        name, alts = m.group(1), m.group(2)
        body = "|".join(re.escape(a) for a in alts.split("|")) if alts else r"[A-Za-z0-9_\-]+"
        if name == "k":
            body = r"[0-9]+(?:\.[0-9]+)?"
        out += f"(?P<{name}>{body})"
        pos = m.end()
    out += re.escape(pattern[pos:])
    return re.compile(out)


COMPILED: dict[str, re.Pattern[str]] = {}


def metric_provider(
    pattern: str,
    *,
    description: str,
    source: str,
    example: str | None = None,
    unit: str = "",
) -> Callable[[Provider], Provider]:
    """Register a metric provider for every metric name matching ``pattern``.

    Args:
        pattern: dotted name with ``<part>`` or ``<part:a|b>`` placeholders.
        description: one line for the catalogue page (docs/gate.md).
        source: the command whose stored run (or live data) the metric reads.
        example: a concrete metric name (defaults to the pattern when it has none).
        unit: the unit of the value (``ms``, ``share``…).
    """

    def deco(fn: Provider) -> Provider:
        COMPILED[pattern] = compile_pattern(pattern)
        METRICS.add(
            pattern,
            fn,
            description=description,
            source=source,
            example=example or pattern,
            unit=unit,
        )
        return fn

    return deco
