"""The worker pool a ``python:`` target's calls run in during a load test, and what it saw.

asyncio's default executor has ``min(32, cpus + 4)`` threads (6 on 2 cores): a sync
feature under "15 users" then never has more than 6 calls running, and the latency a
report shows is the harness's queue, not the feature's. The pool here is sized from the
requested concurrency (the level's users, or ``--max-inflight``), and it counts how many
calls were in flight (submitted, not done) against how many were actually running, so a
result can say when the harness, not the target, limited concurrency.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import math
import threading
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["PoolStats", "PythonPool", "pool_size"]

_OPEN_LOOP_DEFAULT = 256
_MAX_THREADS = 1024

_worker_fn: Callable[[Any], Any] | None = None


def _init_process(spec: str) -> None:
    """Import the target once in each worker process (the function need not pickle)."""
    global _worker_fn
    from pilotgate.targets import load_callable

    _worker_fn = load_callable(spec)


def _call_in_process(arg: Any) -> Any:
    assert _worker_fn is not None
    return _worker_fn(arg)


def pool_size(
    concurrency: int | None,
    ramp_to: float | None,
    max_inflight: int | None,
    override: int | None,
    shard_count: int = 1,
) -> int:
    """Workers for this shard: the override, else the level's users, else the in-flight cap."""
    if override is not None:
        return override
    if concurrency is not None:
        peak = max(float(concurrency), ramp_to or 0.0)
        return max(1, min(_MAX_THREADS, math.ceil(peak / shard_count)))
    if max_inflight is not None:
        return max(1, min(_MAX_THREADS, math.ceil(max_inflight / shard_count)))
    return _OPEN_LOOP_DEFAULT


class PoolStats:
    """Peak calls in flight at the harness and peak calls running in the pool."""

    def __init__(self, kind: str, workers: int, requested: int | None) -> None:
        self.kind = kind
        self.workers = workers
        self.requested = requested
        self.inflight = 0
        self.peak_inflight = 0
        self.running = 0
        self.peak_running = 0
        self._lock = threading.Lock()

    def enter_running(self) -> None:
        with self._lock:
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)

    def leave_running(self) -> None:
        with self._lock:
            self.running -= 1

    @property
    def limited(self) -> bool:
        """True when more calls were waiting than the pool could run at once."""
        return self.peak_inflight > self.workers

    def to_json(self) -> dict[str, Any]:
        running = self.peak_running if self.kind == "threads" else None
        if running is None:
            running = min(self.peak_inflight, self.workers)
        return {
            "pool": self.kind,
            "workers": self.workers,
            "requested": self.requested,
            "peak_inflight": self.peak_inflight,
            "peak_running": running,
            "limited": self.limited,
        }


class PythonPool:
    """Runs a sync function in threads (default) or processes, counting concurrency."""

    def __init__(
        self,
        fn: Callable[[Any], Any],
        spec: str,
        *,
        kind: Literal["threads", "processes"],
        workers: int,
        requested: int | None,
    ) -> None:
        self.fn = fn
        self.stats = PoolStats(kind, workers, requested)
        self._executor: cf.Executor
        if kind == "processes":
            import multiprocessing

            self._executor = cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_process,
                initargs=(spec,),
            )
        else:
            self._executor = cf.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="pilotgate-load"
            )

    def _counted(self, arg: Any) -> Any:
        st = self.stats
        st.enter_running()
        try:
            return self.fn(arg)
        finally:
            st.leave_running()

    async def call(self, arg: Any) -> Any:
        """Run the function on ``arg`` in the pool; in flight from submit to result."""
        st = self.stats
        st.inflight += 1  # event-loop thread only
        st.peak_inflight = max(st.peak_inflight, st.inflight)
        loop = asyncio.get_running_loop()
        try:
            if isinstance(self._executor, cf.ProcessPoolExecutor):
                return await loop.run_in_executor(self._executor, _call_in_process, arg)
            return await loop.run_in_executor(self._executor, self._counted, arg)
        finally:
            st.inflight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def merge_harness(parts: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """One harness block for processes or shards that ran side by side (peaks add up)."""
    blocks = [p for p in parts if p]
    if not blocks:
        return None
    reqs = [b.get("requested") for b in blocks]
    return {
        "pool": blocks[0].get("pool"),
        "workers": sum(int(b.get("workers") or 0) for b in blocks),
        "requested": None if any(r is None for r in reqs) else sum(int(r or 0) for r in reqs),
        "peak_inflight": sum(int(b.get("peak_inflight") or 0) for b in blocks),
        "peak_running": sum(int(b.get("peak_running") or 0) for b in blocks),
        "limited": any(bool(b.get("limited")) for b in blocks),
    }


def harness_warnings(harness: dict[str, Any] | None) -> list[str]:
    """What a reader must know before trusting the latency figures of a python: target."""
    if not harness or not harness.get("limited"):
        return []
    return [
        f"the harness limited concurrency: up to {harness['peak_inflight']} calls were in "
        f"flight but the {harness['pool']} pool runs at most {harness['workers']} at once, so "
        "latency includes waiting for a free worker; raise --python-workers"
    ]
