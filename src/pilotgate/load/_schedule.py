"""When each request is meant to start: open-loop arrival plans and closed-loop user plans.

Open loop: the whole plan (every intended send time, and which input each request uses) is
drawn up front from the seed, against absolute times. Pacing by ``sleep(1/rate)`` drifts
(asyncio timers round to about a millisecond), whereas a fixed plan lets the scheduler fall
behind, catch up, and *measure* how late it was. Sharding takes every N-th request of the
same plan, so the union of the shards is exactly the unsharded plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pilotgate.load._config import LoadConfig, Shard

__all__ = ["OpenPlan", "UserPlan", "open_plan", "user_plans"]


@dataclass(frozen=True)
class OpenPlan:
    """This shard's requests: intended send times (s from start) and input indexes."""

    intended: np.ndarray  # float64 seconds, ascending
    inputs: np.ndarray  # int64 index into the workload
    global_index: np.ndarray  # int64 position in the unsharded plan


def _cumulative_rate_inverse(lam: np.ndarray, r0: float, r1: float, dur: float) -> np.ndarray:
    """Times t where the expected arrival count of a linear ramp reaches ``lam``."""
    a = (r1 - r0) / (2.0 * dur)
    if abs(a) < 1e-12:
        return lam / r0
    # a t^2 + r0 t - lam = 0, the numerically stable root.
    return 2.0 * lam / (r0 + np.sqrt(np.maximum(r0 * r0 + 4.0 * a * lam, 0.0)))


def open_plan(cfg: LoadConfig, n_inputs: int, shard: Shard | None = None) -> OpenPlan:
    """The intended send times of an open-loop run, cut to the duration and request cap."""
    assert cfg.rate is not None
    shard = shard or cfg.shard
    r0 = cfg.rate
    r1 = cfg.ramp_to if cfg.ramp_to is not None else r0
    dur = cfg.duration_s
    expected = 0.5 * (r0 + r1) * dur
    rng = np.random.default_rng([cfg.seed, 1])
    if cfg.arrival == "constant":
        n = min(cfg.max_requests, max(1, math.ceil(expected)))
        lam = np.arange(n, dtype=np.float64)
    else:
        n = min(cfg.max_requests, math.ceil(expected + 8.0 * math.sqrt(expected) + 16))
        gaps = rng.exponential(1.0, size=n)
        lam = np.cumsum(gaps) - gaps[0]  # the first request goes at t = 0
    times = _cumulative_rate_inverse(lam, r0, r1, dur)
    times = times[times < dur][: cfg.max_requests]
    inputs = np.random.default_rng([cfg.seed, 2]).integers(0, max(1, n_inputs), size=len(times))
    idx = np.arange(len(times), dtype=np.int64)
    keep = idx % shard.count == shard.index
    return OpenPlan(intended=times[keep], inputs=inputs[keep], global_index=idx[keep])


@dataclass(frozen=True)
class UserPlan:
    """One closed-loop user: when it is active and how many requests it may start."""

    user: int
    start_s: float
    stop_s: float
    seed: tuple[int, int]


def user_plans(cfg: LoadConfig, shard: Shard | None = None) -> list[UserPlan]:
    """This shard's users (every N-th user of the whole population), with ramp windows."""
    assert cfg.concurrency is not None
    shard = shard or cfg.shard
    c0 = float(cfg.concurrency)
    c1 = float(cfg.ramp_to) if cfg.ramp_to is not None else c0
    dur = cfg.duration_s
    plans = []
    for u in range(math.ceil(max(c0, c1))):
        start, stop = 0.0, dur
        # User u is active while the ramp's user count c(t) exceeds u (ceil semantics).
        if c1 > c0 and u >= c0:
            start = (u - c0) * dur / (c1 - c0)
        elif c1 < c0 and u >= c1:
            stop = (c0 - u) * dur / (c0 - c1)
        if u % shard.count == shard.index and start < stop:
            plans.append(UserPlan(u, start, min(stop, dur), (cfg.seed, u)))
    return plans
