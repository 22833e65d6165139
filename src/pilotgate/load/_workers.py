"""Worker processes on one machine: shards of one plan, started together, merged exactly.

Each worker boots (imports, builds its request bytes, warms its connections) and then
waits at a barrier; when every worker is ready the parent publishes one start time. A
fixed "start in N seconds" would make a slow-booting worker late for its first requests
on a busy machine, and that lateness would be reported as latency.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pilotgate.errors import PilotgateError
from pilotgate.load._config import LoadConfig, Shard
from pilotgate.load._engine import ShardRun, run_coro, run_shard
from pilotgate.load._pypool import merge_harness
from pilotgate.load._samples import Samples
from pilotgate.load._workload import Workload
from pilotgate.targets import TargetConfig

__all__ = ["run_process", "run_workers"]

_READY_TIMEOUT_S = 120.0
_START_DELAY_S = 0.05


class WorkerError(PilotgateError):
    """A load worker process failed."""


@dataclass
class _StartGate:
    """Wait until every worker (and the parent) is ready, then read the common start."""

    barrier: Any  # multiprocessing.Barrier
    start: Any  # multiprocessing.Value("d")

    def __call__(self) -> float:
        self.barrier.wait(_READY_TIMEOUT_S)
        while self.start.value == 0.0:
            time.sleep(0.001)
        return float(self.start.value)


def _worker(
    w: int, cfg: LoadConfig, target: TargetConfig, workload: Workload, shard: Shard,
    gate: _StartGate, out: Any,
) -> None:  # fmt: skip
    try:
        run = run_coro(cfg, run_shard(cfg, target, workload, shard, gate))
        out.put((w, run, None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        gate.barrier.abort()
        try:
            err: BaseException = pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            err = RuntimeError(repr(exc))
        out.put((w, None, err))


def run_workers(cfg: LoadConfig, target: TargetConfig, workload: Workload) -> ShardRun:
    """Run ``cfg.workers`` processes, each an interleaved shard of ``cfg.shard``'s plan."""
    ctx = multiprocessing.get_context("spawn")
    n = cfg.workers
    gate = _StartGate(ctx.Barrier(n + 1), ctx.Value("d", 0.0))
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(w, cfg, target, workload, cfg.shard.compose(Shard(index=w, count=n)), gate, out),
            daemon=True,
        )
        for w in range(n)
    ]
    for p in procs:
        p.start()
    try:
        try:
            gate.barrier.wait(_READY_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a worker failed (its error is in the queue)
            pass
        else:
            gate.start.value = time.perf_counter() + _START_DELAY_S
        with _children_handle_sigint():
            runs = _collect(cfg, procs, out)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join()
    return ShardRun(
        Samples.concat(r.samples for r in runs), max(r.elapsed_s for r in runs), runs[0].client,
        merge_harness([r.harness for r in runs]), any(r.interrupted for r in runs),
    )  # fmt: skip


@contextmanager
def _children_handle_sigint() -> Iterator[None]:
    """Ctrl-C reaches the workers too (one process group): each stops and reports what it
    measured, so the parent ignores the first one and keeps collecting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def once(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, once)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _collect(cfg: LoadConfig, procs: list[Any], out: Any) -> list[ShardRun]:
    drain = cfg.drain_s if cfg.drain_s is not None else (cfg.timeout_s or 600.0)
    deadline = time.monotonic() + _READY_TIMEOUT_S + cfg.duration_s + drain + 60.0
    runs: dict[int, ShardRun] = {}
    while len(runs) < len(procs):
        try:
            w, run, err = out.get(timeout=1.0)
        except queue.Empty:
            dead = [i for i, p in enumerate(procs) if i not in runs and not p.is_alive()]
            if dead or time.monotonic() > deadline:
                raise WorkerError(
                    f"load worker {dead[0] if dead else '?'} stopped without a result",
                    fix="run with --workers 1 to see its error",
                ) from None
            continue
        if err is not None:
            raise err
        runs[w] = run
    return [runs[w] for w in sorted(runs)]


def run_process(
    cfg: LoadConfig,
    target: TargetConfig,
    workload: Workload,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> ShardRun:
    """Run ``cfg.shard`` of the plan, in ``cfg.workers`` processes when asked, merged.

    ``progress`` (one process only) is called once a second with the last second's figures.
    """
    if cfg.workers <= 1:
        return run_coro(cfg, run_shard(cfg, target, workload, cfg.shard, progress=progress))
    return run_workers(cfg, target, workload)
