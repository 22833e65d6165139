"""Reading runs back: what a run measured, and which run a reader may judge.

Old runs (before the store recorded eval sets, or recorded by callers that named no
feature) stay readable: a field the run does not carry is *unknown*, and an unknown
feature, version or eval set never matches a selection that asks for one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = [
    "pick_run",
    "Candidate",
    "Picked",
    "describe_selection",
    "RunScope",
    "Selection",
    "run_scope",
    "select_run",
    "skip_reason",
]


@dataclass(frozen=True)
class RunScope:
    """What a stored run measured (None = not recorded, i.e. unknown)."""

    feature: str | None = None
    version: str | None = None
    eval_set: str | None = None
    inputs: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "version": self.version,
            "eval_set": self.eval_set,
            "inputs": dict(self.inputs) if self.inputs else None,
        }


def _text(x: Any) -> str | None:
    return str(x) if isinstance(x, str | int) and str(x) else None


def _eval_set_of(run: Mapping[str, Any]) -> str | None:
    if run.get("eval_set"):
        return str(run["eval_set"])
    # runs stored before the eval_set column: an eval run's summary says which cases
    for block in ((run.get("summary") or {}).get("cases"), (run.get("params") or {}).get("cases")):
        if isinstance(block, Mapping) and block.get("kind") == "eval_set" and block.get("ref"):
            return str(block["ref"])
    return None


def run_scope(run: Mapping[str, Any]) -> RunScope:
    """The scope of a stored run (a row of ``Store.list_runs`` / ``get_run``)."""
    summary = run.get("summary") if isinstance(run.get("summary"), Mapping) else {}
    assert isinstance(summary, Mapping)
    inputs = run.get("inputs") or summary.get("inputs")
    return RunScope(
        feature=_text(run.get("feature")) or _text(summary.get("feature")),
        version=_text(run.get("version")) or _text(summary.get("version")),
        eval_set=_eval_set_of(run),
        inputs=inputs if isinstance(inputs, Mapping) else None,
    )


@dataclass(frozen=True)
class Selection:
    """Which runs a reader may judge: a kind, a feature, a version, maybe an eval set."""

    kind: str
    feature: str
    version: str
    eval_set: str | None = None
    name: str | None = None

    def describe(self) -> str:
        out = f"{self.kind} run of feature {self.feature!r} version {self.version!r}"
        if self.eval_set:
            out += f" on eval set {self.eval_set!r}"
        if self.name:
            out += f" named {self.name!r}"
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "feature": self.feature,
            "version": self.version,
            "eval_set": self.eval_set,
            "name": self.name,
        }


def describe_selection(selection: Mapping[str, Any] | None) -> str:
    """A stored selection in words: ``feature 'router' · version 'v2' · eval set 'prod'``."""
    if not selection:
        return "—"
    parts = [f"feature {selection.get('feature')!r}"]
    v = selection.get("version")
    parts.append(f"version {v!r}" if v else "all versions")
    if selection.get("eval_set"):
        parts.append(f"eval set {selection['eval_set']!r}")
    if selection.get("name"):
        parts.append(f"named {selection['name']!r}")
    return " · ".join(parts)


def _eval_set_matches(got: str, want: str) -> bool:
    """``name@3`` asks for that version; ``name`` for any version of the set."""
    return got == want if "@" in want else got.partition("@")[0] == want


def skip_reason(run: Mapping[str, Any], sel: Selection) -> str | None:
    """Why ``run`` is not one ``sel`` may judge (None: it is)."""
    s = run_scope(run)
    if sel.name is not None and run.get("name") != sel.name:
        return f"named {run.get('name')!r}, not {sel.name!r}"
    if s.feature != sel.feature:
        return f"for feature {s.feature!r}" if s.feature else "feature unknown (not recorded)"
    if s.version != sel.version:
        return f"for version {s.version!r}" if s.version else "version unknown (not recorded)"
    if sel.eval_set:
        if s.eval_set is None:
            return "eval set unknown (not recorded)"
        if not _eval_set_matches(s.eval_set, sel.eval_set):
            return f"on eval set {s.eval_set!r}"
    return None


@dataclass(frozen=True)
class Candidate:
    """One run a reader considered, and whether it was taken."""

    run_id: str
    created_at: datetime | None
    scope: RunScope
    taken: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        ts = self.created_at
        return {
            "run_id": self.run_id,
            "created_at": ts.isoformat() if isinstance(ts, datetime) else None,
            **self.scope.to_json(),
            "taken": self.taken,
            "reason": self.reason,
        }


@dataclass
class Picked:
    """The run taken (None: no run matches) and every candidate with its reason."""

    run: dict[str, Any] | None
    candidates: list[Candidate] = field(default_factory=list)

    def why_none(self, sel: Selection) -> str:
        """The reason a criterion gives when nothing matched, naming what was found."""
        base = f"no {sel.describe()}"
        if not self.candidates:
            return f"{base} (no {sel.kind} run stored in the window)"
        first = self.candidates[0]
        return f"{base}; newest {sel.kind} run {first.run_id} is {first.reason}"


def select_run(
    runs: Sequence[dict[str, Any]],
    sel: Selection,
    *,
    outside: Callable[[dict[str, Any]], str | None] | None = None,
    limit: int = 25,
) -> Picked:
    """The newest run of ``runs`` (newest first) that ``sel`` may judge.

    Args:
        runs: finished runs of ``sel.kind``, newest first.
        sel: what the reader asks for.
        outside: another reason to skip a run (e.g. "outside the window"), or None.
        limit: candidates kept for the explanation (the rest are only counted).
    """
    picked = Picked(None)
    for run in runs:
        reason = (outside(run) if outside is not None else None) or skip_reason(run, sel)
        if reason is None and picked.run is None:
            picked.run = run
            reason = ""
        elif reason is None:
            reason = f"older than the taken run {picked.run['id'] if picked.run else ''}"
        if len(picked.candidates) < limit:
            picked.candidates.append(
                Candidate(
                    run_id=str(run.get("id")),
                    created_at=run.get("created_at"),
                    scope=run_scope(run),
                    taken=picked.run is run,
                    reason=reason or "newest matching run",
                )
            )
    return picked


def pick_run(store: Store, sel: Selection, *, scan: int = 500) -> Picked:
    """The newest finished run of ``store`` that ``sel`` may judge (no time window).

    For readers outside the gate (the report's sections, scripts): the same rule the gate
    applies, over the ``scan`` newest runs of ``sel.kind``.
    """
    rows = [r for r in store.list_runs(sel.kind, limit=scan) if r.get("status") == "ok"]
    return select_run(rows, sel)
