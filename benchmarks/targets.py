"""Client cost of the target adapters against the provider simulator (in another process).

Evals and robustness suites call the feature through ``pilotgate.targets``; what the
adapter costs per call is CPU the client cannot spend elsewhere. This prints requests per
client CPU-second for a bare aiohttp loop (the floor) and for the ``openai:`` adapter,
streamed and not, through ``run_many``. Anchor (FINDINGS.md): aiohttp ≈ 13–17k req per
client CPU-second on this kind of machine, httpx ≈ 0.5k.

Budget: the non-streamed adapter reaches at least half the raw aiohttp floor's requests
per client CPU-second, both measured in this run (a busy machine slows both alike); exit
status 1 when it does not.

    .venv/bin/python benchmarks/targets.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_simulator(port: int, tokens: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-c",
        "from pilotgate._cli import main; main()",
        "simulate",
        "--port",
        str(port),
        "--ttft-ms",
        "0",
        "--token-ms",
        "0",
        "--output-tokens",
        str(tokens),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the simulator did not start")


async def _measure(run: Callable[[], Awaitable[int]]) -> tuple[float, float, int]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    events = await run()
    return time.process_time() - cpu0, time.perf_counter() - wall0, events


async def _raw(url: str, n: int, concurrency: int) -> int:
    import aiohttp

    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    headers = {"Content-Type": "application/json"}
    ok = 0
    async with aiohttp.ClientSession() as session:
        counter = iter(range(n))

        async def worker() -> None:
            nonlocal ok
            for _ in counter:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    ok += resp.status == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


async def _adapter(base: str, n: int, concurrency: int, stream: bool) -> int:
    from pilotgate.targets import resolve_target, run_many

    target = resolve_target(f"openai:{base}", model="m", stream=stream)
    async with target:  # type: ignore[attr-defined]
        results = await run_many(target, ["hi"] * n, concurrency=concurrency)
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} failed calls, first: {failed[0].error} {failed[0].detail}")
    return sum(r.chunks for r in results) if stream else len(results)


FLOOR_SHARE = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    n = 1000 if args.quick else 4000
    tokens = 20
    port = _free_port()
    proc = _start_simulator(port, tokens)
    base = f"http://127.0.0.1:{port}/v1"
    rows: list[tuple[str, Any, Any, Any, str]] = []
    per_cpu: dict[str, float] = {}
    try:
        for name, run, unit in (
            (
                "raw aiohttp (floor)",
                lambda: _raw(base + "/chat/completions", n, args.concurrency),
                "req",
            ),
            ("openai: adapter", lambda: _adapter(base, n, args.concurrency, False), "req"),
            ("openai: adapter, stream", lambda: _adapter(base, n, args.concurrency, True), "token"),
        ):
            asyncio.run(_measure(run))  # warm-up: imports, connections, JIT-free caches
            cpu, wall, events = asyncio.run(_measure(run))
            rows.append((name, events, f"{events / wall:,.0f}", f"{events / cpu:,.0f}", unit))
            per_cpu[name] = events / cpu
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"{n} calls, concurrency {args.concurrency}, simulator in its own process, {tokens} tokens"
    )
    print(f"{'client':<26}{'events':>8}{'per wall-s':>12}{'per client CPU-s':>18}  unit")
    for name, events, per_wall, cpu_rate, unit in rows:  # (per_cpu is the figures by name)
        print(f"{name:<26}{events:>8}{per_wall:>12}{cpu_rate:>18}  {unit}")
    print("anchor: aiohttp ≈ 13–17k req per client CPU-second; httpx AsyncClient ≈ 0.5k")
    share = per_cpu["openai: adapter"] / per_cpu["raw aiohttp (floor)"]
    ok = share >= FLOOR_SHARE
    print(
        f"result: adapter at {share:.2f} of the floor per client CPU-second "
        f"(budget >= {FLOOR_SHARE:g}) {'OK' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
