"""Perturbation throughput: perturbed inputs per second across the whole catalogue.

Budget (DESIGN.md): >= 20,000 perturbed inputs/s. Two figures per family and overall:
``fn`` calls the registered functions directly with a per-sample RNG from
``derive_rng`` (what the robustness suite does per input), ``case`` goes through
``perturb_case`` (pydantic Case with id and origin, what ``pilotgate perturb`` writes).

Run: .venv/bin/python benchmarks/perturb.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from pilotgate.perturb import derive_rng, list_perturbations, perturb_case
from pilotgate.records import Case

BUDGET = 20_000

INPUTS = [
    "How do I transfer money from my savings account to my credit card?",
    "My card was stolen yesterday, please block it right now.",
    "Why was I charged a fee twice this month? I never agreed to that.",
    "Can you tell me what the interest rate on a personal loan is?",
    "I want to close my account. What happens to the money still in it?",
    "the app keeps logging me out when i try to check my balance",
    "Is it possible to increase my credit limit before my trip to Spain next week?",
    "Where can I find my IBAN and the bank's BIC code for an international payment?",
    "I moved house. How do I change my address, and will I get a new card?",
    "refund for the double payment to the electricity company please",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    reps = 20 if args.quick else 100
    catalogue = list_perturbations()
    cases = [Case(id=f"c{i}", input=t) for i, t in enumerate(INPUTS)]

    fam_n: dict[str, int] = defaultdict(int)
    fam_t: dict[str, float] = defaultdict(float)
    total_n, total_t = 0, 0.0
    cpu0 = time.process_time()
    for info in catalogue:
        assert info.fn is not None
        fn, sev = info.fn, info.default_severity
        t0 = time.perf_counter()
        for k in range(reps):
            for case in cases:
                rng = derive_rng(0, case.id, info.name, k)
                fn(case.input, severity=sev, rng=rng)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        n = reps * len(cases)
        fam_n[info.family] += n
        fam_t[info.family] += dt
        total_n += n
        total_t += dt

    total_cpu = time.process_time() - cpu0
    case_n, t0, cpu0 = 0, time.perf_counter(), time.process_time()
    for info in catalogue:
        for k in range(max(1, reps // 5)):
            for case in cases:
                perturb_case(case, info.name, seed=0, k=k)
                case_n += 1
    case_t = time.perf_counter() - t0
    case_cpu = time.process_time() - cpu0

    print(f"perturbation catalogue: {len(catalogue)} perturbations, {len(INPUTS)} inputs")
    print("wall-clock rates drop on a shared, loaded machine; per CPU-second is the steadier one")
    print(f"{'family':16} {'inputs/s':>12}")
    for fam in fam_n:
        print(f"{fam:16} {fam_n[fam] / fam_t[fam]:12,.0f}")
    overall = total_n / total_t
    print(f"{'overall (fn)':16} {overall:12,.0f}   budget >= {BUDGET:,}  {_ok(overall)}")
    print(f"{'  per CPU-s':16} {total_n / total_cpu:12,.0f}")
    per_case = case_n / case_t
    print(f"{'perturb_case':16} {per_case:12,.0f}   budget >= {BUDGET:,}  {_ok(per_case)}")
    print(f"{'  per CPU-s':16} {case_n / case_cpu:12,.0f}")


def _ok(v: float) -> str:
    return "OK" if v >= BUDGET else "BELOW BUDGET"


if __name__ == "__main__":
    main()
