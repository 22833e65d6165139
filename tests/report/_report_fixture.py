"""A small store that looks like a pilot's: demo-data usage plus one run of every kind.

Usage comes from ``pilotgate.demo.data`` (seeded production stream and simulated users);
the capability runs are synthetic documents in each command's ``--json`` shape. A planted
e-mail address and a planted API key appear in inputs, outputs and run parameters, so
tests can assert that no page shows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pilotgate.plan import Criterion, FeatureSection, LoadSection, PilotSection, Plan
from pilotgate.store import Store

FEATURE = "northwind-support"
PLANTED_EMAIL = "planted.person@example.com"
STEPS = ["opened_assistant", "asked", "answered", "copied_answer"]
HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@dataclass
class Filled:
    store: Store
    plan: Plan
    api_key: str
    planted: list[str]


def make_plan() -> Plan:
    return Plan(
        feature=FeatureSection(name=FEATURE, version="v2"),
        pilot=PilotSection(steps=STEPS),
        load=LoadSection(expected_concurrency=4, multiplier=3.0, slo_p99_ms=2500),
        criteria=[
            Criterion(name="acceptance", metric="usage.acceptance_rate", op=">=", threshold=0.7),
            Criterion(name="p99 at 3x", metric="latency.e2e.p99@3x", op="<=", threshold=2500),
        ],
    )


def fill(store: Store, *, n: int = 400, seed: int = 0) -> Filled:
    """Fill ``store`` with usage, runs and an eval set to review; returns what was planted."""
    from pilotgate.collector import create_key

    # everything belongs to project "pilot", whose key may read and review it
    api_key, _ = create_key(store, "pilot", name="reviewer-ann", scopes=("read", "admin"))
    pilot = store.scoped("pilot")
    _usage(pilot, n=n, seed=seed)
    _runs(pilot, api_key, seed=seed)
    pilot.save_eval_set(
        "production-derived",
        [
            {"id": f"case-{i}", "input": text, "expected": None, "tags": ["production"],
             "source": "production", "origin": {"output": f"[intent=balance] answer {i}"}}
            for i, text in enumerate(
                ["what is my balance", "lost my card!!", f"mail me at {PLANTED_EMAIL}",
                 HOSTILE, "close my account please"]
            )
        ],
    )  # fmt: skip
    return Filled(store, make_plan(), api_key, [PLANTED_EMAIL, api_key])


def _usage(store: Store, *, n: int, seed: int) -> None:
    from pilotgate.demo.data import production_stream, react, to_ingest_records

    rng = random.Random(seed)
    intents = ["card_lost", "balance", "transfer", "fees", "loan_rate"]
    inter: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    reqs = production_stream(seed=seed, n=n, days=6)
    half = reqs[len(reqs) // 2].ts
    for k, req in enumerate(reqs):
        version = "v1" if req.ts < half else "v2"
        right = rng.random() < (0.72 if version == "v1" else 0.8)
        intent = req.true_intent if right else rng.choice(intents)
        reply = f"[intent={intent}] Here is how to handle {intent.replace('_', ' ')}."
        latency = rng.lognormvariate(6.3, 0.4)
        error = "timeout" if rng.random() < 0.02 else None
        recs = to_ingest_records(
            req, None, None if error else react(req, reply, rng), latency_ms=latency,
            error=error, version=version, feature=FEATURE,
        )  # fmt: skip
        for r in recs:
            kind = r.pop("kind")
            if kind == "interaction":
                r["output"] = None if error else reply
                if k == 3:
                    r["input"] = f"please email {PLANTED_EMAIL} {HOSTILE}"
                inter.append(r)
            elif kind == "feedback":
                fb.append(r)
            else:
                steps.append(r)
    store.add_interactions(inter)
    store.add_feedback(fb)
    store.add_steps(steps)


def _runs(store: Store, api_key: str, *, seed: int) -> None:
    rng = random.Random(seed + 1)
    store.save_run(
        "eval",
        {"n_cases": 50, "scorers": {"label": {"n": 50, "mean": 0.94, "ci95": [0.84, 0.98],
                                               "pass_rate": 0.94}},
         "latency_ms": {"p50": 410.0, "p95": 690.0, "max": 900.0},
         "cases": {"kind": "eval_set", "ref": "demo@1"}},
        name="demo", params={"command": f"pilotgate eval run --target demo --api-key {api_key}"},
    )  # fmt: skip
    store.save_run(
        "eval",
        {"n_cases": 300, "scorers": {"label": {"n": 300, "mean": 0.71, "ci95": [0.66, 0.76],
                                                "pass_rate": 0.71}},
         "latency_ms": {"p50": 450.0, "p95": 800.0, "max": 1500.0},
         "cases": {"kind": "eval_set", "ref": "production@2"}},
        name="production",
    )  # fmt: skip
    gaps = [
        {"id": "g1", "size": 120, "share": 0.12, "label": "mixed language / hola / cuenta",
         "keywords": ["hola", "cuenta", "tarjeta"],
         "examples": [{"id": "p1", "text": "hola necesito bloquear my card"},
                      {"id": "p2", "text": f"write to {PLANTED_EMAIL} {HOSTILE}"}],
         "nearest_eval": [{"id": "e1", "text": "I lost my card", "distance": 0.4}]},
        {"id": "g2", "size": 60, "share": 0.06, "label": "out of scope / stock / advice",
         "keywords": ["stock", "advice"], "examples": [{"id": "p3", "text": "which stock to buy"}],
         "nearest_eval": []},
    ]  # fmt: skip
    points = []
    for i in range(240):
        kind = "eval" if i < 40 else "production"
        gap = None if kind == "eval" or i % 5 else ("g1" if i % 2 else "g2")
        cx = {"g1": 3.0, "g2": -3.0}.get(gap or "", 0.0)
        points.append({"x": round(rng.gauss(cx, 1.0), 3), "y": round(rng.gauss(0, 1.0), 3),
                       "set": kind, "id": f"{kind}-{i}", "gap": gap})  # fmt: skip
    start = datetime(2025, 3, 3, tzinfo=UTC)
    store.save_run(
        "shift",
        {"schema": "pilotgate.shift/1", "n_eval": 50, "n_production": 1000,
         "coverage": {"value": 0.62, "ci95": [0.59, 0.65], "covered": 620, "n": 1000},
         "gaps": gaps, "drift": {"flagged": ["language", "length"]},
         "coverage_by_day": [{"day": (start + timedelta(days=d)).date().isoformat(),
                              "n": 140, "coverage": 0.7 - 0.02 * d,
                              "ci95": [0.62 - 0.02 * d, 0.77 - 0.02 * d]} for d in range(6)],
         "map": {"method": "pca", "points": points}},
    )  # fmt: skip
    fams = {"character": (180, 200), "casing": (95, 100), "mixed_language": (55, 100),
            "out_of_scope": (40, 80)}  # fmt: skip
    store.save_run(
        "robustness",
        {"schema": "pilotgate.robustness/1", "mode": "consistency", "n_cases": 50,
         "clean": {"n": 50, "passed": 47, "pass_rate": 0.94, "ci95": [0.84, 0.98]},
         "families": {f: {"n": n, "passed": k, "pass_rate": k / n,
                          "ci95": [k / n - 0.07, min(1.0, k / n + 0.06)]}
                      for f, (k, n) in fams.items()},
         "perturbations": {"typo": {"family": "character", "n": 100, "passed": 88,
                                    "pass_rate": 0.88, "ci95": [0.8, 0.93], "failures": []},
                           "code_switch": {"family": "mixed_language", "n": 100, "passed": 55,
                                           "pass_rate": 0.55, "ci95": [0.45, 0.64],
                                           "failures": []}},
         "worst": [{"perturbation": "code_switch", "case_id": "demo-7",
                    "original": "I lost my card", "perturbed": "perdí my card " + HOSTILE,
                    "output_original": "[intent=card_lost] Block it in the app.",
                    "output_perturbed": f"[intent=fees] contact {PLANTED_EMAIL}"}]},
    )  # fmt: skip
    levels: list[dict[str, Any]] = []
    for k, (p50, p99) in enumerate([(420, 900), (610, 1700), (1300, 4200)], start=1):
        levels.append({"label": f"{k}x", "latency_ms": {"e2e": {"p50": p50, "p99": p99}},
                       "throughput": {"requests_per_s": 4.0 * k * (1 - 0.1 * k)},
                       "slo": {"attainment": 1.0 - 0.05 * k * k}})  # fmt: skip
    store.save_run(
        "load",
        {"schema": "pilotgate.load/1", "label": "3x", "target": "openai:http://127.0.0.1:9/v1",
         "slo": {"e2e_ms": 2500.0}, "levels": levels,
         "curve": [{"label": lv["label"], "load": 4 * (i + 1),
                    "e2e_p50_ms": lv["latency_ms"]["e2e"]["p50"],
                    "e2e_p99_ms": lv["latency_ms"]["e2e"]["p99"],
                    "requests_per_s": lv["throughput"]["requests_per_s"],
                    "attainment": lv["slo"]["attainment"]} for i, lv in enumerate(levels)],
         "knee": {"label": "2x", "load": 8, "unit": "concurrency", "goodput_per_s": 6.1},
         "requests": {"sent": 900, "ok": 880, "failed": 20}},
        params={"command": "pilotgate load --target demo --header "
                f"'Authorization: Bearer {api_key}'"},
    )  # fmt: skip
    store.save_run(
        "compare",
        {"schema": "pilotgate.compare/1", "primary": "label", "outcome": "better",
         "verdict": "v2 is better on 31 cases and worse on 9; +7.3 points, 95 % CI [+3.1, +11.2]",
         "labels": {"a": "v1", "b": "v2"}, "n_shared": 300,
         "scorers": {"label": {"mean_a": 0.71, "mean_b": 0.783, "diff": 0.073,
                               "ci95": [0.031, 0.112], "p_value": 0.001, "improved": 31,
                               "regressed": 9, "outcome": "better", "verdict": "v2 better",
                               "flipped": {"improved": [{"case_id": "c1", "input": "hola card",
                                                         "output_a": "[intent=fees]",
                                                         "output_b": "[intent=card_lost]"}],
                                           "regressed": [{"case_id": "c2",
                                                          "input": f"fees? {PLANTED_EMAIL}",
                                                          "output_a": "[intent=fees]",
                                                          "output_b": "[intent=balance]"}]}}}},
        params={"run_a": "eval-a", "run_b": "eval-b"},
    )  # fmt: skip
    store.save_run(
        "gate",
        {"schema": "pilotgate.gate/1", "verdict": "fail", "plan_hash": "abc123def4567890",
         "criteria": [
             {"name": "acceptance", "metric": "usage.acceptance_rate", "op": ">=",
              "threshold": 0.7, "value": 0.74, "ci95": [0.70, 0.78], "n": 350,
              "status": "pass", "evidence": {"window": "pilot", "run": None}},
             {"name": "p99 at 3x", "metric": "latency.e2e.p99@3x", "op": "<=",
              "threshold": 2500, "value": 4200, "ci95": None, "n": 900, "status": "fail",
              "evidence": {"run": "load-1", "window": "latest"}},
             {"name": "robust " + HOSTILE, "metric": "robustness.mixed_language.pass_rate",
              "op": ">=", "threshold": 0.9, "value": None, "ci95": None, "n": 10,
              "status": "insufficient_data", "evidence": "min_samples 30"}]},
        feature=FEATURE, version="v2",  # the plan's own gate run: the report reads only it
    )  # fmt: skip
