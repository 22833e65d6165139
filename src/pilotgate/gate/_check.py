"""Check a plan's metrics against the catalogue before a pilot is locked on them.

A criterion on a metric that does not exist can never be judged; found only when the
gate runs, weeks later, it costs the pilot its evidence. ``validate`` and ``pilot start``
call :func:`check_plan_metrics`, which names every unknown metric (and every robustness
criterion naming no family or perturbation) with the nearest known name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from pilotgate.errors import ConfigError
from pilotgate.gate._catalogue import METRICS
from pilotgate.gate._resolve import resolve_metric
from pilotgate.plan import Plan

__all__ = ["check_plan_metrics", "metric_problem"]

_ALTS = re.compile(r"<([a-z_]+):([^>]+)>")
_FREE = re.compile(r"<([a-z_]+)>")


def _robustness_names() -> list[str]:
    from pilotgate.perturb import FAMILIES, list_perturbations

    return sorted({*FAMILIES, *(p.name for p in list_perturbations())})


def _expand(pattern: str, example: str) -> Iterable[str]:
    """Concrete names a pattern stands for, enough to suggest the nearest one."""
    if pattern.startswith("robustness.<name>"):
        for name in _robustness_names():
            yield pattern.replace("<name>", name)
        return
    names = [pattern]
    while any(_ALTS.search(n) for n in names):
        out = []
        for n in names:
            m = _ALTS.search(n)
            if m is None:
                out.append(n)
                continue
            out += [n[: m.start()] + alt + n[m.end() :] for alt in m.group(2).split("|")]
        names = out
    for n in names:
        n = n.replace("<k>", "3")
        if _FREE.search(n):
            yield example
        else:
            yield n


def _known_names() -> list[str]:
    resolve_metric("usage.volume")  # loads the built-in providers
    names: set[str] = set()
    for entry in METRICS:
        names.update(_expand(entry.name, str(entry.meta.get("example") or entry.name)))
    return sorted(names)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def metric_problem(metric: str) -> str | None:
    """Why ``metric`` can never be judged, with the nearest known name; None when it can."""
    base = metric.split("[", 1)[0]
    try:
        resolved = resolve_metric(metric)
    except ConfigError as exc:
        if "[" in metric and base != metric:
            try:
                resolve_metric(base)
            except ConfigError:
                pass
            else:
                return exc.what
        return f"unknown metric {metric!r}{_suggest(base, _known_names())}"
    if resolved.pattern.startswith("robustness.<name>"):
        name = resolved.parts.get("name", "")
        known = _robustness_names()
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return (
                f"{metric!r} names no perturbation family or perturbation {name!r}{hint}; "
                "see `pilotgate perturb --list`"
            )
    return None


def check_plan_metrics(plan: Plan, *, where: str | None = None) -> None:
    """Raise one error naming every criterion whose metric the gate could never judge.

    Raises:
        ConfigError: at least one criterion names an unknown metric.
    """
    problems = []
    for i, crit in enumerate(plan.criteria):
        why = metric_problem(crit.metric)
        if why is not None:
            problems.append(f"criteria[{i}] {crit.name!r}: {why}")
    if problems:
        raise ConfigError(
            "; ".join(problems),
            where=where,
            fix="use metrics from the catalogue in docs/gate.md",
        )
