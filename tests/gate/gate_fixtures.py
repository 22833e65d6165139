"""Fixture data for the gate: runs stored with the documented --json shapes, usage records.

The gate's tests do not wait for other capabilities: they store runs whose summaries have
the shapes DESIGN.md documents (load, eval, robustness, shift, compare) and live usage
records through the store's own ingest path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from pilotgate.plan import Plan
from pilotgate.store import Store, tables

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
FEATURE = "support-router"


def make_plan(criteria: list[dict[str, Any]], **sections: Any) -> Plan:
    doc: dict[str, Any] = {
        "feature": {"name": FEATURE, "version": "v2"},
        "pilot": {
            "start": "2026-06-01",
            "end": "2026-06-30",
            "steps": ["opened", "asked", "copied"],
        },
        "load": {"expected_concurrency": 10, "multiplier": 3},
        "criteria": criteria,
    }
    doc.update(sections)
    return Plan.model_validate(doc)


def crit(name: str, metric: str, op: str, threshold: float, **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "metric": metric,
        "op": op,
        "threshold": threshold,
        "min_samples": 30,
        **kw,
    }


def save_run_at(
    store: Store, kind: str, summary: Mapping[str, Any], at: datetime, **meta: Any
) -> str:
    """Store a finished run and set its creation time (the store stamps 'now').

    Runs are for the plan's feature and version unless ``meta`` says otherwise.
    """
    meta.setdefault("feature", FEATURE)
    meta.setdefault("version", "v2")
    rid = store.save_run(kind, summary, **meta)
    with store.engine.begin() as conn:
        conn.execute(update(tables.runs).where(tables.runs.c.id == rid).values(created_at=at))
    return rid


def latency_block(p99: float, n: int) -> dict[str, Any]:
    return {
        "p50": p99 / 3,
        "p90": p99 / 1.5,
        "p95": p99 / 1.2,
        "p99": p99,
        "p999": p99 * 1.1,
        "max": p99 * 1.2,
        "mean": p99 / 2.5,
        "n": n,
    }


def load_doc(p99_by_level: Mapping[str, float], n: int = 500) -> dict[str, Any]:
    """A pilotgate.load/1 document of an --expected run (levels 1x/2x/3x)."""
    levels = []
    for i, (label, p99) in enumerate(p99_by_level.items(), start=1):
        levels.append(
            {
                "label": label,
                "load": {"concurrency": 10 * i, "rate": None},
                "requests": {"sent": n, "ok": n, "failed": 0},
                "latency_ms": {
                    "e2e": latency_block(p99, n),
                    "service": latency_block(p99 * 0.9, n),
                },
            }
        )
    top = levels[-1]
    return {"schema": "pilotgate.load/1", "profile": "closed", **top, "levels": levels}


def eval_doc(scorer: str, mean: float, ci: tuple[float, float], n: int, ref: str) -> dict[str, Any]:
    return {
        "schema": "pilotgate.eval/1",
        "cases": {"kind": "eval_set", "ref": ref},
        "n_cases": n,
        "scorers": {
            scorer: {
                "n": n,
                "mean": mean,
                "ci95": list(ci),
                "method": "wilson",
                "pass_rate": mean,
                "pass_ci95": list(ci),
            }
        },
    }


def robustness_doc(family: str, passed: int, n: int, ci: tuple[float, float]) -> dict[str, Any]:
    block = {"n": n, "passed": passed, "pass_rate": passed / n, "ci95": list(ci)}
    return {
        "schema": "pilotgate.robustness/1",
        "mode": "consistency",
        "n_cases": n,
        "perturbations": {"typo": dict(block, family=family)},
        "families": {family: dict(block, family=family)},
    }


def shift_doc(value: float, ci: tuple[float, float], n: int) -> dict[str, Any]:
    return {
        "schema": "pilotgate.shift/1",
        "n_eval": 50,
        "n_production": n,
        "coverage": {"value": value, "ci95": list(ci), "covered": round(value * n), "n": n},
    }


def compare_doc(diff: float, ci: tuple[float, float], n: int) -> dict[str, Any]:
    return {
        "schema": "pilotgate.compare/1",
        "primary": "exact",
        "scorers": {"exact": {"n": n, "diff": diff, "ci95": list(ci), "p_value": 0.01}},
    }


def add_usage(
    store: Store,
    *,
    n: int,
    accepted: int,
    errors: int = 0,
    start: datetime = NOW - timedelta(days=3),
    prefix: str = "i",
) -> None:
    """n interactions (one per session) with feedback: ``accepted`` accepted, rest rejected."""
    inter, fb = [], []
    for i in range(n):
        ts = start + timedelta(minutes=i)
        iid = f"{prefix}{i}"
        inter.append(
            {
                "id": iid,
                "ts": ts,
                "feature": FEATURE,
                "version": "v2",
                "session_id": f"s-{iid}",
                "input": "q",
                "output": "a",
                "latency_ms": 100.0 + i,
                "error": "timeout" if i < errors else None,
            }
        )
        fb.append(
            {"interaction_id": iid, "ts": ts + timedelta(seconds=5), "accepted": i < accepted}
        )
    store.add_interactions(inter)
    store.add_feedback(fb)
