"""The OpenAI-compatible provider simulator: the fake LLM of tests, the demo and load rehearsals.

A real HTTP server on loopback that answers ``/v1/chat/completions`` (streamed and
not) with seeded text, sampled time to first token and token gaps, a capacity
queue, token-bucket rate limits with OpenAI's headers, and injectable faults.

    from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

    profile = SimulatorProfile(ttft_ms=Dist.lognormal(300, 0.4), capacity=8, rpm=600)
    with run_in_thread(profile, seed=0) as sim:
        ...  # an OpenAI client with base_url=sim.url + "/v1"
"""

from pilotgate.simulator._dist import Dist
from pilotgate.simulator._profile import SimulatorProfile, load_profile, profile_from_mapping
from pilotgate.simulator._sim import Simulator, SimulatorStats
from pilotgate.simulator._thread import run_in_thread, serve_forever

__all__ = [
    "Dist",
    "Simulator",
    "SimulatorProfile",
    "SimulatorStats",
    "load_profile",
    "profile_from_mapping",
    "run_in_thread",
    "serve_forever",
]
