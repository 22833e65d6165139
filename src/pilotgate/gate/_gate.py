"""``evaluate_gate``: every criterion of the plan judged from the latest stored results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pilotgate.gate._catalogue import MetricValue, NoData
from pilotgate.gate._context import MetricContext
from pilotgate.gate._lock import CriterionChange, Pilot, criteria_changes, current_pilot
from pilotgate.gate._resolve import resolve_metric
from pilotgate.gate._verdict import FAIL, INSUFFICIENT, PASS, judge, overall_verdict
from pilotgate.plan import Criterion, Plan, plan_hash
from pilotgate.store import Store

__all__ = ["SCHEMA", "CriterionResult", "GateResult", "evaluate_gate"]

SCHEMA = "pilotgate.gate/1"
EXIT_CODES = {PASS: 0, FAIL: 1, INSUFFICIENT: 3}
_PLAN_SECTIONS = ("feature", "pilot", "load")  # targets and store do not change a verdict


@dataclass
class CriterionResult:
    """One criterion's line in the verdict, with everything needed to trace it."""

    criterion: Criterion
    status: str
    reason: str
    value: float | None = None
    ci95: tuple[float, float] | None = None
    n: int | None = None
    judged_value: float | None = None
    evidence: dict[str, Any] | None = None
    counted: bool = True
    change: CriterionChange | None = None
    judged_definition: str = "current"
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.criterion.name

    def to_json(self) -> dict[str, Any]:
        c = self.criterion
        ch = self.change
        return {
            "name": c.name,
            "metric": c.metric,
            "op": c.op,
            "threshold": c.threshold,
            "value": self.value,
            "ci95": list(self.ci95) if self.ci95 else None,
            "n": self.n,
            "status": self.status,
            "evidence": self.evidence,
            "reason": self.reason,
            "judged_value": self.judged_value,
            "min_samples": c.min_samples,
            "window": c.window,
            "judge_on": c.judge_on,
            "eval_set": c.eval_set,
            "counted": self.counted,
            "changed_after_start": ch is not None,
            "change": None if ch is None else ch.kind,
            "judged_definition": self.judged_definition,
            "original": None if ch is None else ch.original,
            "current": None if ch is None else ch.current,
            "signoff": None
            if ch is None or not ch.signed_off or ch.signoff is None
            else ch.signoff.to_json(),
            "version": c.version,
            "candidates": self.candidates,
        }

    @property
    def run_id(self) -> str | None:
        """The stored run the value was read from (None: live usage, or no run matched)."""
        return (self.evidence or {}).get("run_id")

    @property
    def judged_version(self) -> str | None:
        """The feature version the criterion's selection asked for."""
        return ((self.evidence or {}).get("selection") or {}).get("version")


@dataclass
class GateResult:
    """The verdict, each criterion's result, and the lock state it was judged under."""

    SCHEMA: ClassVar[str] = SCHEMA

    verdict: str
    plan_hash: str
    feature: str
    evaluated_at: datetime
    criteria: list[CriterionResult]
    pilot: Pilot | None = None
    plan_changed_sections: list[str] = field(default_factory=list)
    removed_signed_off: list[CriterionChange] = field(default_factory=list)
    run_id: str | None = None

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 3 insufficient data."""
        return EXIT_CODES[self.verdict]

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, INSUFFICIENT: 0}
        for r in self.criteria:
            if r.counted:
                out[r.status] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        p = self.pilot
        return {
            "schema": self.SCHEMA,
            "verdict": self.verdict,
            "plan_hash": self.plan_hash,
            "feature": self.feature,
            "evaluated_at": self.evaluated_at.isoformat(),
            "run_id": self.run_id,
            "counts": self.counts(),
            "locked": None
            if p is None
            else {
                "pilot_id": p.id,
                "started_at": p.started_at.isoformat(),
                "plan_hash": p.plan_hash,
                "plan_changed": p.plan_hash != self.plan_hash,
                "changed_sections": self.plan_changed_sections,
                "changed_criteria": [r.name for r in self.criteria if r.change is not None]
                + [c.name for c in self.removed_signed_off],
            },
            "criteria": [r.to_json() for r in self.criteria],
            "removed": [
                {
                    "name": c.name,
                    "original": c.original,
                    "signoff": None if c.signoff is None else c.signoff.to_json(),
                }
                for c in self.removed_signed_off
            ],
        }


@dataclass(frozen=True)
class _Item:
    criterion: Criterion
    counted: bool
    change: CriterionChange | None
    judged_definition: str


def _items(plan: Plan, pilot: Pilot | None) -> tuple[list[_Item], list[CriterionChange]]:
    """Which definition of each criterion is judged, and whether it counts."""
    if pilot is None:
        return [_Item(c, True, None, "current") for c in plan.criteria], []
    changes = criteria_changes(pilot, plan)
    items: list[_Item] = []
    removed: list[CriterionChange] = []
    for c in plan.criteria:
        ch = changes.get(c.name)
        if ch is None:
            items.append(_Item(c, True, None, "current"))
        elif ch.kind == "added":
            # not in the locked plan: shown, counted only once signed off
            items.append(_Item(c, ch.signed_off, ch, "current"))
        elif ch.signed_off:
            items.append(_Item(c, True, ch, "current"))
        else:
            assert ch.original is not None
            items.append(_Item(Criterion.model_validate(ch.original), True, ch, "original"))
    for ch in changes.values():
        if ch.kind != "removed":
            continue
        if ch.signed_off:
            removed.append(ch)
        else:
            assert ch.original is not None
            items.append(_Item(Criterion.model_validate(ch.original), True, ch, "original"))
    return items, removed


def _judging_plan(plan: Plan, pilot: Pilot | None) -> tuple[Plan, list[str]]:
    """The plan windows and load levels are read from: the locked one's pilot and load."""
    if pilot is None:
        return plan, []
    locked = pilot.locked_plan()
    changed = [
        s for s in _PLAN_SECTIONS
        if getattr(locked, s) != getattr(plan, s)
    ]  # fmt: skip
    return plan.model_copy(update={"pilot": locked.pilot, "load": locked.load}), changed


def evaluate_gate(
    plan: Plan, store: Store | str, *, now: datetime | None = None, save: bool = True
) -> GateResult:
    """Judge every criterion of ``plan`` from the results in ``store``.

    Args:
        plan: the pilot plan (criteria, dates, expected load).
        store: a :class:`Store` or its URL.
        now: the evaluation time (default: now, UTC); results after it are ignored,
            so a past verdict can be replayed.
        save: record the evaluation as a run of kind ``gate``.

    Raises:
        ConfigError: a criterion names a metric outside the catalogue, or uses the
            ``pilot`` window without a pilot start.
    """
    if isinstance(store, str):
        with Store(store) as st:
            return evaluate_gate(plan, st, now=now, save=save)
    when = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    pilot = current_pilot(store, plan.feature.name)
    items, removed = _items(plan, pilot)
    resolved = [
        resolve_metric(it.criterion.metric, where=f"criterion {it.criterion.name!r}")
        for it in items
    ]
    judging, changed_sections = _judging_plan(plan, pilot)
    cache: dict[Any, Any] = {}
    results: list[CriterionResult] = []
    for it, rm in zip(items, resolved, strict=True):
        c = it.criterion
        ctx = MetricContext(
            store, judging, c, when, pilot.started_at if pilot else None, cache=cache
        )
        measured: MetricValue | NoData = rm.provider(ctx, rm.parts)
        candidates = [cand.to_json() for _, picked in ctx.picks for cand in picked.candidates]
        j = judge(
            c.op, c.threshold, measured=measured, min_samples=c.min_samples, judge_on=c.judge_on
        )
        mv = measured if isinstance(measured, MetricValue) else None
        reason = j.reason
        if not it.counted:
            reason = f"added after the pilot started, not signed off: not counted ({reason})"
        results.append(
            CriterionResult(
                criterion=c,
                status=j.status,
                reason=reason,
                value=mv.value if mv else None,
                ci95=mv.ci95 if mv else None,
                n=mv.n if mv else None,
                judged_value=j.judged_value,
                evidence=measured.evidence.to_json(),
                counted=it.counted,
                change=it.change,
                judged_definition=it.judged_definition,
                candidates=candidates,
            )
        )
    verdict = overall_verdict(r.status for r in results if r.counted)
    result = GateResult(
        verdict=verdict,
        plan_hash=plan_hash(plan),
        feature=plan.feature.name,
        evaluated_at=when,
        criteria=results,
        pilot=pilot,
        plan_changed_sections=changed_sections,
        removed_signed_off=removed,
    )
    if save:
        from pilotgate.runs import record_run

        doc = result.to_json()
        result.run_id = record_run(
            store,
            "gate",
            doc,
            [(r.name, r.to_json()) for r in results],
            name=plan.feature.name,
            feature=plan.feature.name,
            version=plan.feature.version,
            plan_hash=result.plan_hash,
            params={"now": when.isoformat(), "locked": pilot is not None},
        )
    return result
