"""The suite over real HTTP: an openai: target against the provider simulator on loopback."""

from __future__ import annotations

from pilotgate.perturb import perturb_cases, run_robustness
from pilotgate.records import Case
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.targets import resolve_target

NAMES = ["all_caps", "typo", "injection_suffix", "out_of_scope_task"]
CASES = [
    Case(id="a", input="How do I block my stolen card?"),
    Case(id="b", input="What is my balance today?"),
    Case(id="c", input="Why was I charged a fee twice?"),
]


def test_calls_are_deduplicated_and_bounded_over_http() -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(5), token_ms=Dist.constant(0), output_tokens=Dist.constant(8)
    )
    with run_in_thread(profile, seed=3) as sim:
        target = resolve_target(f"openai:{sim.url}/v1", model="pilotgate-sim")
        result = run_robustness(
            target,
            CASES,
            perturbations=NAMES,
            samples=2,
            concurrency=3,
        )
        stats = sim.stats
    # one call per distinct input (all_caps gives the same text for both samples, and
    # out-of-scope templates can coincide across cases)
    distinct = {c.input for c in CASES} | {p.input for p in perturb_cases(CASES, NAMES, samples=2)}
    assert result.calls == stats.completions == len(distinct) < 3 + 4 * 6
    assert stats.in_flight_max <= 3
    assert all(p.error is None for p in result.pairs)
    # free text, no labels: judged by meaning (semantic similarity), not whole-reply equality
    assert result.scorers["consistency"]["name"] == "embedding"
    # the simulator's seeded text is unrelated from one input to the next: consistency fails
    assert (result.perturbations["typo"].rate.pass_rate or 0.0) <= 0.5
    assert result.perturbations["injection_suffix"].rate.n == 6
