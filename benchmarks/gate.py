"""How long `evaluate_gate` takes over a store with many interactions.

The gate's usage criteria aggregate the pilot's interactions and feedback in SQL (one
usage report per window, shared by every criterion on that window); run criteria read one
stored summary each. No budget in DESIGN.md: this prints the figure next to the
dashboard's (overview over 1M interactions <= 1 s) for scale.

    .venv/bin/python benchmarks/gate.py [--n 300000] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pilotgate.gate import evaluate_gate
from pilotgate.plan import Plan
from pilotgate.store import Store


def _fill(store: Store, n: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    batch_i: list[dict[str, object]] = []
    batch_f: list[dict[str, object]] = []
    for i in range(n):
        ts = start + timedelta(seconds=i * 2)
        batch_i.append({"id": f"i{i}", "ts": ts, "feature": "bench", "version": "v1",
                        "session_id": f"s{i // 4}", "input": "q", "output": "a",
                        "latency_ms": rng.lognormvariate(7, 0.5),
                        "error": "timeout" if rng.random() < 0.01 else None})  # fmt: skip
        if rng.random() < 0.5:
            batch_f.append({"interaction_id": f"i{i}", "ts": ts + timedelta(seconds=9),
                            "accepted": rng.random() < 0.8, "dwell_ms": 4000.0})  # fmt: skip
        if len(batch_i) >= 50_000:
            store.add_interactions(batch_i)
            store.add_feedback(batch_f)
            batch_i, batch_f = [], []
    store.add_interactions(batch_i)
    store.add_feedback(batch_f)
    # a run of the plan's feature and version: the gate judges no other
    store.save_run("load", {"levels": [{"label": "3x", "latency_ms": {"e2e": {"p99": 3000,
                   "n": 900}}}]}, feature="bench", version="v1")  # fmt: skip


BUDGET_S_PER_100K = 1.0  # evaluate_gate, median; 3 s over the default 300k interactions


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--budget-s", type=float, help="median evaluate_gate budget (s)")
    ap.add_argument("--quick", action="store_true", help="50k interactions")
    args = ap.parse_args()
    n = 50_000 if args.quick else args.n
    plan = Plan.model_validate({
        "feature": {"name": "bench"},
        "pilot": {"start": "2026-06-01", "end": "2026-08-30"},
        "criteria": [
            {"name": "accept", "metric": "usage.acceptance_rate", "op": ">=", "threshold": 0.7,
             "window": "pilot", "judge_on": "bound"},
            {"name": "errors", "metric": "usage.error_rate", "op": "<=", "threshold": 0.02,
             "window": "pilot"},
            {"name": "p99", "metric": "usage.latency.p99", "op": "<=", "threshold": 5000,
             "window": "pilot"},
            {"name": "p99 at 3x", "metric": "latency.e2e.p99@3x", "op": "<=", "threshold": 4000},
        ],
    })  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{Path(tmp)}/b.db") as store:
        t0 = time.perf_counter()
        _fill(store, n, seed=0)
        fill_s = time.perf_counter() - t0
        now = datetime.now(UTC)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            res = evaluate_gate(plan, store, now=now, save=False)
            times.append(time.perf_counter() - t0)
    print(f"interactions: {n:,} (+ ~{n // 2:,} feedback), filled in {fill_s:.1f} s")
    print(f"verdict: {res.verdict}; counts {res.counts()}")
    print(f"evaluate_gate, 4 criteria (3 usage on one window + 1 load run): "
          f"median {sorted(times)[1]:.2f} s, min {min(times):.2f} s over 3 runs")  # fmt: skip
    print("for scale: dashboard budget, overview over 1M interactions <= 1 s")
    median = sorted(times)[1]
    budget = args.budget_s if args.budget_s is not None else BUDGET_S_PER_100K * n / 100_000
    ok = median <= budget
    print(f"result: {'OK' if ok else 'OVER BUDGET'} (median {median:.2f} s, budget {budget:g} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
