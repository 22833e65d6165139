"""Provider simulator throughput on ONE core: non-streaming requests/s and streamed token events/s.

The simulator runs in a subprocess pinned to one CPU (``os.sched_setaffinity``); the
load comes from this process, pinned to the other CPUs, with aiohttp (+ uvloop).
Budgets (DESIGN.md / issue 2): >= 2,000 requests/s and >= 20,000 token events/s.
Exits 1 when a figure is below its budget.

    .venv/bin/python benchmarks/simulator.py [--duration 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

BUDGET_RPS = 2_000
BUDGET_EVENTS = 20_000

SERVER_CODE = r"""
import asyncio, json, os, sys
os.sched_setaffinity(0, {int(sys.argv[1])})
from pilotgate.simulator import Dist, Simulator, SimulatorProfile
from pilotgate.simulator._thread import new_event_loop
profile = SimulatorProfile.model_validate(json.loads(sys.argv[2]))
async def main():
    sim = Simulator(profile, seed=0)
    await sim.start("127.0.0.1", 0)
    print(sim.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await sim.stop()
with asyncio.Runner(loop_factory=new_event_loop) as r:
    r.run(main())
"""


@dataclass
class Result:
    name: str
    value: float
    budget: float
    unit: str
    server_cpu_s: float
    wall_s: float
    note: str

    @property
    def capacity(self) -> float:
        """What the server does per second of its one core: work done / server CPU-seconds.

        The wall-clock rate is only a lower bound: the load generator has one (shared)
        core too and usually saturates before the server does.
        """
        return self.value * self.wall_s / self.server_cpu_s if self.server_cpu_s else 0.0

    @property
    def ok(self) -> bool:
        return max(self.value, self.capacity) >= self.budget


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """The simulator in a subprocess pinned to ``cpu``."""

    def __init__(self, cpu: int, profile: Mapping[str, object]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, str(cpu), json.dumps(dict(profile))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/v1/chat/completions"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def body(i: int, stream: bool) -> bytes:
    doc = {
        "model": "bench",
        "messages": [{"role": "user", "content": f"question number {i} about my card"}],
        "stream": stream,
    }
    return json.dumps(doc).encode()


async def drive(url: str, conns: int, duration: float, stream: bool) -> tuple[int, int, int]:
    """``conns`` closed-loop workers for ``duration`` s: (ok responses, failures, token events)."""
    import aiohttp

    ok = failed = events = 0
    stop_at = time.perf_counter() + duration
    headers = {"content-type": "application/json"}
    marker = b'{"content":'

    async def worker(w: int, session: aiohttp.ClientSession) -> None:
        nonlocal ok, failed, events
        i = w
        while time.perf_counter() < stop_at:
            i += conns
            async with session.post(url, data=body(i, stream), headers=headers) as resp:
                if not stream:
                    await resp.read()
                else:
                    tail = b""
                    async for chunk in resp.content.iter_any():
                        data = tail + chunk
                        events += data.count(marker)
                        tail = data[-(len(marker) - 1) :] if len(data) >= len(marker) else data
                if resp.status == 200:
                    ok += 1
                else:
                    failed += 1

    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(w, session) for w in range(conns)))
    return ok, failed, events


def run(
    cpu: int, profile: Mapping[str, object], conns: int, duration: float, stream: bool
) -> tuple[tuple[int, int, int], float, float]:
    """Serve ``profile`` on ``cpu``, warm up, drive it: (counts, wall s, server CPU s)."""
    from pilotgate.simulator._thread import new_event_loop

    server = Server(cpu, profile)
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as r:
            r.run(drive(server.url, conns, 0.5, stream))  # warm up
            cpu0, t0 = server.cpu(), time.perf_counter()
            counts = r.run(drive(server.url, conns, duration, stream))
            wall, cpu_used = time.perf_counter() - t0, server.cpu() - cpu0
    finally:
        server.close()
    return counts, wall, cpu_used


def accuracy(cpu: int, delay_ms: float, duration: float) -> tuple[float, float, float, int]:
    """Client-observed latency of constant ``delay_ms`` replies: (p50, p99, min, n)."""
    import aiohttp

    from pilotgate.simulator._thread import new_event_loop

    server = Server(cpu, {"ttft_ms": delay_ms, "token_ms": 0, "output_tokens": 10})
    samples: list[float] = []

    async def go() -> None:
        stop_at = time.perf_counter() + duration
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as s:

            async def worker(w: int) -> None:
                i = w
                while time.perf_counter() < stop_at:
                    i += 16
                    t0 = time.perf_counter()
                    async with s.post(server.url, data=body(i, False)) as resp:
                        await resp.read()
                    samples.append((time.perf_counter() - t0) * 1000)

            await asyncio.gather(*(worker(w) for w in range(16)))

    try:
        with asyncio.Runner(loop_factory=new_event_loop) as r:
            r.run(go())
    finally:
        server.close()
    samples.sort()
    n = len(samples)
    return samples[n // 2], samples[min(n - 1, n * 99 // 100)], samples[0], n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    ap.add_argument("--quick", action="store_true", help="2 s phases")
    ap.add_argument("--connections", type=int, default=64, help="non-streaming connections")
    ap.add_argument("--streams", type=int, default=200, help="concurrent streams")
    args = ap.parse_args()
    duration = 2.0 if args.quick else args.duration

    cpus = sorted(os.sched_getaffinity(0))
    server_cpu = cpus[-1]
    if len(cpus) > 1:
        os.sched_setaffinity(0, set(cpus[:-1]))
    print(f"server pinned to CPU {server_cpu}; load generator on CPUs {cpus[:-1] or cpus}")

    results: list[Result] = []
    plain = {"ttft_ms": 0, "token_ms": 0, "output_tokens": 20}
    (ok, failed, _), wall, cpu_s = run(server_cpu, plain, args.connections, duration, False)
    results.append(
        Result(
            "non-streaming requests/s",
            ok / wall,
            BUDGET_RPS,
            "req/s",
            cpu_s,
            wall,
            f"{args.connections} connections, 20-token replies, zero delays, {failed} failed",
        )
    )
    streaming = {"ttft_ms": 0, "token_ms": 5, "output_tokens": 200}
    (ok, failed, events), wall, cpu_s = run(server_cpu, streaming, args.streams, duration, True)
    results.append(
        Result(
            "streamed token events/s",
            events / wall,
            BUDGET_EVENTS,
            "events/s",
            cpu_s,
            wall,
            f"{args.streams} streams x 200 tokens at 5 ms gaps "
            f"(offered {args.streams * 200:,}/s), {ok} streams done, {failed} failed",
        )
    )

    lat = accuracy(server_cpu, 50.0, duration)
    print(
        f"timing accuracy (informational): constant 50 ms replies observed at p50 "
        f"{lat[0]:.2f} ms, p99 {lat[1]:.2f} ms, min {lat[2]:.2f} ms over {lat[3]} requests"
    )
    print(
        f"{'figure':<26} {'budget':>8} {'one-core capacity':>18} {'wall rate':>10} "
        f"{'server busy':>11}  verdict"
    )
    for r in results:
        verdict = "ok" if r.ok else "BELOW BUDGET"
        busy = r.server_cpu_s / r.wall_s
        print(
            f"{r.name:<26} {r.budget:>8,} {r.capacity:>18,.0f} {r.value:>10,.0f} "
            f"{busy:>11.0%}  {verdict}"
        )
        print(f"  ({r.note}; server used {r.server_cpu_s:.2f} CPU-s in {r.wall_s:.2f} s)")
    print(
        "one-core capacity = work done / server CPU-seconds (the server is pinned to one core);\n"
        "the wall rate is what this client reached and is a lower bound when 'server busy' < 100%."
    )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
