"""Perturbation throughput: perturbed inputs per second across the whole catalogue.

Budget (DESIGN.md): >= 20,000 perturbed inputs/s, judged on the public path.

Three paths, each over every perturbation of the catalogue at its default severity:

- ``fn``: the registered function called with a per-sample RNG from ``derive_rng`` (the
  perturbation work alone, plus the seeding every sample needs);
- ``perturb_case``: the public call, one at a time: catalogue lookup, RNG derivation, the
  perturbation, and a validated ``Case`` with its id and origin; this is what the budget
  is judged on;
- ``pilotgate perturb``: what the command does in-process: read a cases JSONL, perturb every
  case with every perturbation (``perturb_cases``), write the perturbed JSONL.

Each is reported per family and overall, per wall-clock second and per CPU-second of this
process. On a shared machine the wall figure falls with the load (printed alongside);
the per-CPU-second figure is the steady one and the verdict uses it, with the wall
verdict printed next to it.

Run: .venv/bin/python benchmarks/perturb.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pilotgate.perturb import list_perturbations, perturb_case, perturb_cases
from pilotgate.perturb._base import derive_rng
from pilotgate.records import Case, read_cases, write_cases

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


class Tally:
    """Inputs, wall seconds and CPU seconds, per family and overall."""

    def __init__(self) -> None:
        self.n: dict[str, int] = defaultdict(int)
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def add(self, family: str, n: int, wall: float, cpu: float) -> None:
        for key in (family, "overall"):
            self.n[key] += n
            self.wall[key] += wall
            self.cpu[key] += cpu

    def rates(self, key: str) -> tuple[float, float]:
        return self.n[key] / self.wall[key], self.n[key] / max(self.cpu[key], 1e-9)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def bench_fn(cases: list[Case], reps: int) -> Tally:
    tally = Tally()
    for info in list_perturbations():
        fn, sev, name = info.fn, info.default_severity, info.name
        assert fn is not None
        w0, c0 = _clock()
        for k in range(reps):
            for case in cases:
                assert isinstance(case.input, str)
                fn(case.input, severity=sev, rng=derive_rng(0, case.id, name, k))
        w1, c1 = _clock()
        tally.add(info.family, reps * len(cases), w1 - w0, c1 - c0)
    return tally


def bench_case(cases: list[Case], reps: int) -> Tally:
    tally = Tally()
    for info in list_perturbations():
        name = info.name
        w0, c0 = _clock()
        for k in range(reps):
            for case in cases:
                perturb_case(case, name, seed=0, k=k)
        w1, c1 = _clock()
        tally.add(info.family, reps * len(cases), w1 - w0, c1 - c0)
    return tally


def bench_command(cases: list[Case], samples: int) -> tuple[int, float, float]:
    """read_cases -> perturb_cases(all, samples) -> write_cases, as `pilotgate perturb`."""
    names = [p.name for p in list_perturbations()]
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cases.jsonl", Path(tmp) / "perturbed.jsonl"
        write_cases(src, cases)
        w0, c0 = _clock()
        originals, _ = read_cases(src)
        n = write_cases(out, perturb_cases(originals, names, samples=samples, seed=0))
        w1, c1 = _clock()
    return n, w1 - w0, c1 - c0


def _ok(v: float) -> str:
    return "OK" if v >= BUDGET else "BELOW"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    reps = 20 if args.quick else 100
    cases = [Case(id=f"c{i}", input=t) for i, t in enumerate(INPUTS)]
    catalogue = list_perturbations()
    load0 = os.getloadavg()[0]
    for info in catalogue:  # warm up: import paths, compiled patterns, caches
        perturb_case(cases[0], info.name)

    fn, case = bench_fn(cases, reps), bench_case(cases, reps)
    cmd_n, cmd_wall, cmd_cpu = bench_command(cases * 5, samples=max(1, reps // 10))
    load1 = os.getloadavg()[0]

    print(
        f"perturbation catalogue: {len(catalogue)} perturbations x {len(INPUTS)} inputs x {reps}"
        f" samples, default severities; {os.cpu_count()} cores, load average"
        f" {load0:.1f} -> {load1:.1f}"
    )
    print(f"{'inputs/s':22} {'fn wall':>10} {'fn CPU-s':>10} {'case wall':>10} {'case CPU-s':>10}")
    for fam in [*dict.fromkeys(p.family for p in catalogue), "overall"]:
        fw, fc = fn.rates(fam)
        cw, cc = case.rates(fam)
        print(f"{fam:22} {fw:10,.0f} {fc:10,.0f} {cw:10,.0f} {cc:10,.0f}")
    cw, cc = case.rates("overall")
    mw, mc = cmd_n / cmd_wall, cmd_n / max(cmd_cpu, 1e-9)
    print()
    print(f"budget >= {BUDGET:,} perturbed inputs/s on the public path:")
    print(f"  perturb_case        {cc:9,.0f} per CPU-s {_ok(cc):5}   {cw:9,.0f} wall {_ok(cw)}")
    print(
        f"  pilotgate perturb   {mc:9,.0f} per CPU-s {_ok(mc):5}   {mw:9,.0f} wall {_ok(mw)}"
        f"   ({cmd_n:,} cases read, perturbed and written as JSONL)"
    )
    if min(cw, mw) < BUDGET <= min(cc, mc):
        print(f"  wall below budget with load average {load1:.1f} on {os.cpu_count()} cores:")
        print("  this process got only part of a core; per CPU-s is what the code costs")
    return 0 if min(cc, mc) >= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
