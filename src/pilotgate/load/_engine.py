"""The load engine: one asyncio loop per process sending a shard of the plan.

Open loop fires each request at its intended time (catching up in a burst when the loop
wakes late) and records how late it was; closed loop runs simulated users. Sending stops
at the duration or the request cap, in-flight requests get a bounded drain, and whatever
is still running after it is cancelled and counted. ``workers > 1`` runs shards of the
same plan in separate processes against a common start time and merges their samples.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import math
import random
import signal
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pilotgate.load._client import PythonSender, Sender
from pilotgate.load._config import LoadConfig, Shard
from pilotgate.load._httpsend import AiohttpSender, RawHttpSender
from pilotgate.load._progress import start_progress as _start_progress
from pilotgate.load._pypool import PythonPool, pool_size
from pilotgate.load._rawhttp import raw_supported
from pilotgate.load._samples import ERROR_CLASSES, Recorder, Samples
from pilotgate.load._schedule import open_plan, user_plans
from pilotgate.load._workload import Workload, build_bodies, endpoint_url, request_headers
from pilotgate.targets import TargetConfig, load_callable

__all__ = ["ShardRun", "run_coro", "run_shard"]

_CANCELLED = ERROR_CLASSES.index("cancelled")
_MIN_SLEEP_S = 0.001
_WARM_WINDOW_S = 0.25
_WARM_MAX = 1024
_INTERRUPT_DRAIN_S = 2.0


@dataclass
class ShardRun:
    """What one process measured."""

    samples: Samples
    elapsed_s: float
    client: str = ""  # "raw" (the lean client), "aiohttp" or "python"
    harness: dict[str, Any] | None = None  # python targets: the worker pool and its peaks
    interrupted: bool = False  # stopped early by SIGINT (Ctrl-C): a partial level


def _share(total: int, shard: Shard) -> int:
    """This shard's part of ``total`` when item i goes to shard i mod count."""
    return max(0, math.ceil((total - shard.index) / shard.count))


def _timeout(cfg: LoadConfig, target: TargetConfig) -> float:
    return cfg.timeout_s if cfg.timeout_s is not None else target.timeout_s


def _warm_size(cfg: LoadConfig, shard: Shard) -> int:
    """Connections to open before the start: the shard's users, or its expected in-flight
    requests (``--max-inflight``, else a quarter-second of arrivals at the peak rate)."""
    if cfg.concurrency is not None:
        peak = max(float(cfg.concurrency), cfg.ramp_to or 0.0)
        return min(_WARM_MAX, _share(math.ceil(peak), shard))
    peak_rate = max(cfg.rate or 0.0, cfg.ramp_to or 0.0)
    n = math.ceil(peak_rate * _WARM_WINDOW_S)
    if cfg.max_inflight is not None:
        n = min(n, cfg.max_inflight)
    return min(_WARM_MAX, _share(n, shard), _share(cfg.max_requests, shard))


async def _sleep_until(t0: float, t: float) -> None:
    delay = t - (time.perf_counter() - t0)
    if delay > 0:
        await asyncio.sleep(delay)


async def _open_loop(
    cfg: LoadConfig,
    sender: Sender,
    n_inputs: int,
    shard: Shard,
    t0: float,
    tasks: set[asyncio.Task[None]],
) -> None:
    plan = open_plan(cfg, n_inputs, shard)
    inflight = None
    if cfg.max_inflight is not None:
        inflight = asyncio.Semaphore(max(1, _share(cfg.max_inflight, shard)))
    rec = sender.rec

    async def one(g: int, inp: int, intended: float, dispatched: float) -> None:
        assert inflight is not None
        try:
            await inflight.acquire()
        except asyncio.CancelledError:  # never got a slot before the drain ended
            end = time.perf_counter() - t0
            nan = math.nan
            rec.add(g, intended, dispatched, nan, nan, nan, end, 0.0, 0, 0, 0, _CANCELLED, None)
            raise
        try:
            await sender.run(g, inp, intended, dispatched)
        finally:
            inflight.release()

    intended = plan.intended.tolist()
    inputs = plan.inputs.tolist()
    gidx = plan.global_index.tolist()
    n = len(intended)
    pc = time.perf_counter
    create = asyncio.get_running_loop().create_task
    i = 0
    # Without a cap, each request's task runs the sender directly (one coroutine less).
    start = sender.run if inflight is None else one
    while i < n:
        now = pc() - t0
        if intended[i] > now:
            # Never less than a millisecond: uvloop's timers count whole milliseconds, so a
            # shorter sleep returns at once and the scheduler would spin, burning the CPU
            # the requests need. Requests due meanwhile go out together (lag is measured).
            await asyncio.sleep(max(intended[i] - now, _MIN_SLEEP_S))
            now = pc() - t0
        while i < n and intended[i] <= now:
            task = create(start(gidx[i], inputs[i], intended[i], now))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1


async def _closed_loop(
    cfg: LoadConfig,
    sender: Sender,
    n_inputs: int,
    shard: Shard,
    t0: float,
    tasks: set[asyncio.Task[None]],
    interrupted: asyncio.Event,
) -> None:
    cap = _share(cfg.max_requests, shard)
    counter = [0]
    pc = time.perf_counter

    async def user(u: int, start: float, stop: float) -> None:
        rng = random.Random(cfg.seed * 1_000_003 + u)
        await _sleep_until(t0, start)
        while counter[0] < cap and not interrupted.is_set():
            now = pc() - t0
            if now >= stop:
                break
            counter[0] += 1
            await sender.run(u, rng.randrange(n_inputs), now, now)
            if cfg.think_time_s > 0:
                think = cfg.think_time_s
                if cfg.think == "exponential":
                    think = rng.expovariate(1.0 / think)
                # a user still thinking when the run ends sends nothing more: stop waiting then
                await asyncio.sleep(max(0.0, min(think, stop - (pc() - t0))))

    loop = asyncio.get_running_loop()
    for p in user_plans(cfg, shard):
        tasks.add(loop.create_task(user(p.user, p.start_s, p.stop_s)))


async def run_shard(
    cfg: LoadConfig,
    target: TargetConfig,
    workload: Workload,
    shard: Shard,
    start_gate: Callable[[], float] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> ShardRun:
    """Run this process's shard of the plan.

    ``start_gate`` is called once everything is built (bodies encoded, connections warm)
    and returns the common start (a ``time.perf_counter`` value: the same clock in every
    process on Linux), so worker processes start together however long each took to boot.
    """
    rec = Recorder()
    timeout_s = _timeout(cfg, target)
    session: Any = None
    seed = cfg.seed * 7919 + shard.index
    pc = time.perf_counter
    t0 = 0.0  # set once everything is built, so setup never makes the first request late
    sender: Sender
    pool: PythonPool | None = None
    if target.kind == "python":
        fn = load_callable(target.function or "")
        if not inspect.iscoroutinefunction(fn):
            pool = _python_pool(cfg, fn, target.function or "", shard)
        sender = PythonSender(
            fn, list(workload.inputs), timeout_s=timeout_s, policy=cfg.retry, rec=rec, t0=t0,
            seed=seed, pool=pool,
        )  # fmt: skip
    else:
        url = endpoint_url(target)
        headers = request_headers(target)
        common: dict[str, Any] = {
            "kind": target.kind,
            "stream": target.stream and target.kind in ("openai", "anthropic"),
            "timeout_s": timeout_s,
            "policy": cfg.retry,
            "rec": rec,
            "t0": t0,
            "seed": seed,
            "response_path": target.response_path,
            "tokens_out_path": target.tokens_out_path,
        }
        bodies = build_bodies(target, workload)
        if cfg.client == "auto" and raw_supported(url, headers):
            raw = RawHttpSender(url, headers, bodies, **common)
            raw.start()
            assert raw.pool is not None
            await raw.pool.warm(_warm_size(cfg, shard))
            sender = raw
        else:
            import aiohttp

            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=None),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": "pilotgate-load"},
                trace_configs=[AiohttpSender.trace_config(rec)],
            )
            sender = AiohttpSender(session, url, headers, bodies, **common)
    # A full collection in the middle of the schedule is a pause of milliseconds; freeze
    # what exists and collect less often while the run lasts. Done before the start time
    # is taken: in a big process the collection itself can take longer than a short run.
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    t0 = pc() + 0.02 if start_gate is None else start_gate()
    sender.t0 = t0
    stop = asyncio.Event()
    unhook = _on_sigint(stop)
    ticker = _start_progress(progress, rec, sender, t0, stop) if progress is not None else None
    try:
        await _sleep_until(t0, 0.0)
        n_inputs = len(workload.inputs)
        tasks: set[asyncio.Task[None]] = set()
        if cfg.open_loop:
            schedule = _open_loop(cfg, sender, n_inputs, shard, t0, tasks)
        else:
            schedule = _closed_loop(cfg, sender, n_inputs, shard, t0, tasks, stop)
        await _until_stopped(schedule, stop)
        # Sending is over; in-flight requests get the drain, then are cancelled. After
        # Ctrl-C the drain is short: the person wants their terminal back.
        limit = cfg.duration_s + (cfg.drain_s if cfg.drain_s is not None else timeout_s)
        await _drain(tasks, stop, max(0.0, limit - (pc() - t0)))
        elapsed = pc() - t0
    finally:
        unhook()
        if ticker is not None:
            ticker.cancel()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        if session is not None:
            await session.close()
        if isinstance(sender, RawHttpSender):
            sender.close()
        if pool is not None:
            pool.close()
    client = {RawHttpSender: "raw", AiohttpSender: "aiohttp"}.get(type(sender), "python")
    harness = pool.stats.to_json() if pool is not None else None
    return ShardRun(rec.samples(), elapsed, client, harness, stop.is_set())


async def _until_stopped(schedule: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Run the sending schedule until it ends or Ctrl-C sets ``stop``."""
    loop = asyncio.get_running_loop()
    sending = loop.create_task(schedule)
    waiter = loop.create_task(stop.wait())
    await asyncio.wait({sending, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for t in (sending, waiter):
        if not t.done():
            t.cancel()
    await asyncio.gather(sending, waiter, return_exceptions=True)


async def _drain(tasks: set[asyncio.Task[None]], stop: asyncio.Event, timeout: float) -> None:
    """Wait for in-flight requests up to ``timeout`` (at most 2 s after Ctrl-C), then cancel."""
    pc = time.perf_counter
    end = pc() + timeout
    pending = set(tasks)
    cut = False
    while pending:
        if stop.is_set() and not cut:
            end, cut = min(end, pc() + _INTERRUPT_DRAIN_S), True
        left = end - pc()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(left, 0.1))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _on_sigint(stop: asyncio.Event) -> Callable[[], None]:
    """Ctrl-C stops sending (the level is kept, marked partial); a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)  # the next Ctrl-C raises as usual

    try:
        loop.add_signal_handler(signal.SIGINT, first)
    except (NotImplementedError, RuntimeError, ValueError):
        return lambda: None

    def unhook() -> None:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (RuntimeError, ValueError):
            pass

    return unhook


def _python_pool(cfg: LoadConfig, fn: Callable[[Any], Any], spec: str, shard: Shard) -> PythonPool:
    """The pool a sync ``python:`` target runs in, sized from this shard's requested load."""
    requested: int | None = None
    if cfg.concurrency is not None:
        requested = _share(math.ceil(max(float(cfg.concurrency), cfg.ramp_to or 0.0)), shard)
    elif cfg.max_inflight is not None:
        requested = _share(cfg.max_inflight, shard)
    workers = pool_size(
        cfg.concurrency, cfg.ramp_to, cfg.max_inflight, cfg.python_workers, shard.count
    )
    return PythonPool(fn, spec, kind=cfg.python_pool, workers=workers, requested=requested)


def run_coro(cfg: LoadConfig, coro: Coroutine[Any, Any, ShardRun]) -> ShardRun:
    """Run a shard on uvloop when it is installed and wanted, else on asyncio's loop."""
    if cfg.use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)
