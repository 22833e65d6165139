"""``pilotgate gate --explain``: per criterion, the selection and the runs considered.

Plain text lines (the CLI escapes them for the terminal): which feature, version and eval
set the criterion may read, then every candidate run, newest first, taken or skipped and
why, so a reader can see that another feature's or version's run was not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pilotgate.gate._gate import CriterionResult, GateResult
from pilotgate.runs import describe_selection as selection_text

__all__ = ["explain_lines"]


def _candidate(c: Mapping[str, Any]) -> str:
    mark = "taken  " if c.get("taken") else "skipped"
    scope = [f"feature {c.get('feature')!r}", f"version {c.get('version')!r}"]
    if c.get("eval_set"):
        scope.append(f"eval set {c['eval_set']!r}")
    when = str(c.get("created_at") or "?")[:16].replace("T", " ")
    return f"    {mark} {c.get('run_id')} ({when}; {', '.join(scope)}): {c.get('reason')}"


def _criterion(r: CriterionResult) -> list[str]:
    ev = r.evidence or {}
    sel = ev.get("selection")
    kind = (sel or {}).get("kind") or ev.get("kind")
    head = f"{r.name} [{r.criterion.metric}] → {r.status}"
    lines = [head, f"  reads: {kind} · {selection_text(sel)} · window {ev.get('window')}"]
    if kind == "usage":
        lines.append("    live interactions, no run to choose")
    elif not r.candidates:
        lines.append(f"    no {kind} run stored")
    else:
        lines.extend(_candidate(c) for c in r.candidates)
    if r.status != "pass":
        lines.append(f"  reason: {r.reason}")
    return lines


def explain_lines(result: GateResult) -> list[str]:
    """Every criterion's selection and candidates, as lines of plain text."""
    out: list[str] = [f"which run each criterion judged (feature {result.feature!r}):"]
    for r in result.criteria:
        out.extend(_criterion(r))
    return out
