"""Slicing usage by a metadata key: ``usage --by metadata.category``, and gate criteria on a
slice such as ``usage.acceptance_rate[category=refund]``.

The application decides what its metadata means (``category``, ``model``, ``route``); a
figure over all interactions hides the slice where the feature fails. Keys are matched
inside the stored JSON in SQL (SQLite ``json_extract``, PostgreSQL ``->>``) and compared as
text, so ``{"tier": 2}`` matches ``tier=2``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pilotgate.errors import ConfigError

__all__ = [
    "MAX_SLICES",
    "Selector",
    "SliceReport",
    "describe_selector",
    "metadata_key",
    "parse_selector",
    "split_metric",
    "usage_slices",
]

Selector = tuple[tuple[str, str], ...]
MAX_SLICES = 20
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_METRIC = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<sel>[^\[\]]{1,300})\]$")


def metadata_key(text: str, *, where: str = "--by") -> str:
    """``metadata.category`` (or ``category``) -> ``category``, checked."""
    key = text.removeprefix("metadata.")
    if not _KEY.match(key):
        raise ConfigError(
            f"bad metadata key {text!r}",
            where=where,
            fix="name a key of the interactions' metadata, e.g. metadata.category "
            "(letters, digits, _ and -)",
        )
    return key


def parse_selector(text: str, *, where: str = "metric") -> Selector:
    """``category=refund,model=gpt-x`` -> ``(("category", "refund"), ("model", "gpt-x"))``."""
    out: list[tuple[str, str]] = []
    for part in text.split(","):
        key, eq, value = part.partition("=")
        if not eq or not value.strip():
            raise ConfigError(
                f"bad slice {text!r}", where=where, fix="write KEY=VALUE, e.g. [category=refund]"
            )
        out.append((metadata_key(key.strip(), where=where), value.strip()))
    return tuple(out)


def split_metric(name: str) -> tuple[str, Selector]:
    """``usage.acceptance_rate[category=refund]`` -> (``usage.acceptance_rate``, selector)."""
    m = _METRIC.match(name)
    if m is None:
        return name, ()
    return m.group("base"), parse_selector(m.group("sel"), where=f"metric {name!r}")


def describe_selector(selector: Selector) -> str:
    """``(("category", "refund"),)`` -> ``category=refund``: a selector as it was written."""
    return ",".join(f"{k}={v}" for k, v in selector)


@dataclass
class SliceReport:
    """One value of the key and the usage report of the interactions that carry it."""

    value: str | None
    report: Any  # UsageReport

    def to_json(self) -> dict[str, Any]:
        doc = self.report.to_json()
        return {
            "value": self.value,
            "n": self.report.overall.n,
            "overall": doc["overall"],
            "metrics": doc["metrics"],
        }


def usage_slices(
    store: Any,
    key: str,
    *,
    feature: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    steps: Sequence[str] | None = None,
    where: Selector = (),
    limit: int = MAX_SLICES,
) -> list[SliceReport]:
    """The ``limit`` most frequent values of metadata ``key``, each with its usage report
    (computed by :func:`~pilotgate.usage.usage_report`, the function the gate uses)."""
    from pilotgate.usage._queries import Filters, Queries
    from pilotgate.usage._report import usage_report

    q = Queries(store)
    f = Filters(feature, version, since, until, project=store.read_project, metadata=where)
    values = q.metadata_values(f, key, limit)
    out = []
    for value in values:
        sel = (*where, (key, value)) if value is not None else where
        rep = usage_report(
            store, feature, version, since, until, steps, metadata=sel,
            missing_key=None if value is not None else key,
        )  # fmt: skip
        out.append(SliceReport(value, rep))
    return out
