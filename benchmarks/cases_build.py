"""``cases build`` over 100k stored interactions: budget <= 30 s on 2 cores.

Generates 100k seeded synthetic support interactions (with feedback, abandonment steps,
10 % retyped copies, 5 % personal data, 1 % a rare Spanish kind), stores them in a fresh
SQLite store in batches of 10k, then builds:

1. a 200-case set with all four strategies (uniform, stratified, failures, novelty;
   novelty against a 500-case set saved first), lexical embeddings: the budgeted run;
2. the same build again with the same seed, to show the result is identical.

It also measures dedup on the planted-duplicates fixture (2,000 distinct requests,
400 retyped copies): recall (copies removed) and false merges (distinct requests
removed), next to the targets (>= 95 %, <= 1 %).

    .venv/bin/python benchmarks/cases_build.py [--n 100000] [--size 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from pilotgate.cases import BuildSpec, build_eval_set, dedup_texts
from pilotgate.cases._synthetic import planted_duplicates, synthetic_production
from pilotgate.store import Store

BUDGET_S = 30.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--budget-s", type=float, default=BUDGET_S, help="build-time budget (s)")
    args = ap.parse_args()

    t = time.perf_counter()
    syn = synthetic_production(args.n, seed=0)
    print(f"generated {args.n} interactions in {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as d, Store(f"sqlite:///{d}/bench.db") as store:
        t = time.perf_counter()
        for i in range(0, args.n, 10_000):
            store.add_interactions(syn.interactions[i : i + 10_000])
        store.add_feedback(syn.feedback)
        store.add_steps(syn.steps)
        print(
            f"stored {args.n} interactions, {len(syn.feedback)} feedback, "
            f"{len(syn.steps)} steps in {time.perf_counter() - t:.1f} s"
        )
        baseline = build_eval_set(
            store, "prod", BuildSpec(size=500, weights={"uniform": 1}, seed=1)
        )
        print(f"baseline {baseline.ref}: {len(baseline.cases)} cases (for novelty)")

        weights = {"stratified": 0.4, "failures": 0.3, "uniform": 0.2, "novelty": 0.1}
        # novelty against prod@1 explicitly: by default it would improve on the newest
        # version, which the timed build itself becomes
        spec = BuildSpec(size=args.size, weights=weights, seed=0, against="prod@1")
        t, c = time.perf_counter(), time.process_time()
        res = build_eval_set(store, "prod", spec)
        total, cpu = time.perf_counter() - t, time.process_time() - c
        verdict = "OK" if total <= args.budget_s else "OVER BUDGET"
        print(
            f"build {res.ref} from {res.pool} interactions: {total:.1f} s "
            f"(budget {args.budget_s:g} s) {verdict}; {cpu:.1f} CPU-s in this process "
            f"(load average now {os.getloadavg()[0]:.1f})"
        )
        stages = ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items() if k != "total")
        print(f"    stages (s): {stages}")
        print(
            f"    {len(res.cases)} cases by strategy {res.by_strategy}; "
            f"{res.clusters} clusters; removed {res.removed}"
        )
        rare = sum(c.id in syn.rare_ids for c in res.cases)
        print(
            f"    rare kind: {rare} of {len(res.cases)} cases "
            f"({len(syn.rare_ids) / args.n:.1%} of traffic)"
        )
        again = build_eval_set(store, "prod", spec, save=False)
        same = [c.model_dump() for c in again.cases] == [c.model_dump() for c in res.cases]
        print(f"    same seed again: {'identical' if same else 'DIFFERENT'} cases")
        met = {"build time": total <= args.budget_s, "determinism": same}

    texts, origin = planted_duplicates(2000, 400, seed=0)
    t = time.perf_counter()
    dd = dedup_texts(texts, threshold=0.92)
    kept = set(dd.kept)
    copies = [i for i, o in enumerate(origin) if o != i]
    originals = [i for i, o in enumerate(origin) if o == i]
    recall = sum(i not in kept for i in copies) / len(copies)
    false = sum(i not in kept for i in originals) / len(originals)
    print(
        f"dedup on {len(texts)} texts ({len(copies)} planted copies) in "
        f"{time.perf_counter() - t:.1f} s: recall {recall:.1%} (target >= 95 %), "
        f"false merges {false:.2%} (target <= 1 %)"
    )
    met.update({"dedup recall": recall >= 0.95, "dedup false merges": false <= 0.01})
    missed = [k for k, v in met.items() if not v]
    print("result: " + ("OK" if not missed else "OVER BUDGET: " + ", ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
