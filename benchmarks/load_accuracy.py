"""Load engine accuracy: reported percentiles and send rate against known, seeded delays.

The calibration server (``pilotgate.load.DelayServer``, its own process(es): a raw asyncio
protocol answering from a timer) holds each request for a delay drawn from a seeded
log-normal distribution (median 200 ms, sigma 0.5: an LLM-like long tail) and records,
per request, the delay it drew and how long it really held the request. The engine runs
open loop, constant arrivals, at 50, 500 and 2,000 req/s. A second section streams from
the provider simulator (its own process) and compares TTFT and inter-token latency with
the simulator's configured values.

Budget (DESIGN.md / issue 8): reported p50 and p99 within 2 % of the true ones; achieved
rate within 1 % of the target; streamed TTFT and ITL within 5 %. Anchor (FINDINGS.md):
GuideLLM read ≈ 2 ms high at p50 on a ~31 ms server (≈ 7 %) and hid a 2 s stall.

"true" is the drawn delays; "held" is what the server measured itself (on a busy machine
the server is late too, and that lateness is real latency the client should see). CPU
seconds of the client and of the server are printed per level, with the load average:
on an oversubscribed machine every process waits for a core, and that wait (visible as
``scheduler lag``) lands in every latency measured, by any client.

    .venv/bin/python benchmarks/load_accuracy.py [--quick] [--server-workers 1] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from pilotgate.load import DelayServer, DelaySpec, LoadConfig, RetryPolicy, run_load, to_target

LEVELS = ((50, 10.0), (500, 6.0), (2000, 4.0))  # (req/s, seconds)

SIMULATOR = r"""
import asyncio, json, sys
from pilotgate.simulator import Simulator, SimulatorProfile
profile = SimulatorProfile.model_validate(json.loads(sys.argv[1]))
async def main():
    sim = Simulator(profile, seed=0)
    await sim.start("127.0.0.1", 0)
    print(sim.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await sim.stop()
asyncio.run(main())
"""


def _err(got: float, want: float) -> str:
    return f"{100 * (got / want - 1):+6.2f} %"


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def open_loop(args: argparse.Namespace) -> tuple[float, float, float]:
    worst_p = worst_rate = worst_held = 0.0
    for rate, secs in LEVELS:
        if args.rates and rate not in args.rates:
            continue
        if args.quick:
            secs /= 2
        spec = DelaySpec(kind="lognormal", median_ms=200, sigma=0.5, seed=rate)
        with DelayServer(spec, workers=args.server_workers) as srv:
            cfg = LoadConfig(
                rate=rate, duration_s=secs, timeout_s=30, retry=RetryPolicy(max_retries=0),
                max_requests=1_000_000, workers=args.workers,
            )  # fmt: skip
            target = to_target(f"openai:{srv.url}", model="calibration")
            load0, srv0, own0, wall0 = os.getloadavg()[0], sum(map(_proc_cpu, srv.pids)), 0.0, 0.0
            own0, wall0 = _own_cpu(), time.perf_counter()
            res = run_load(cfg, target)
            own, wall = _own_cpu() - own0, time.perf_counter() - wall0
            server_cpu = sum(map(_proc_cpu, srv.pids)) - srv0
            stats = srv.stats()
        doc = res.to_json()
        truth = np.percentile(stats["delays_ms"], [50, 99])
        held = np.nanpercentile(stats["held_ms"], [50, 99])
        sched = doc["schedule"]
        print(
            f"\n{rate:>5} req/s × {secs:g} s: sent {doc['requests']['sent']:,}, "
            f"ok {doc['requests']['ok']:,}; true p50/p99 {truth[0]:.2f}/{truth[1]:.2f} ms, "
            f"server held {held[0]:.2f}/{held[1]:.2f} ms"
        )
        for kind in ("e2e", "service"):
            lat = doc["latency_ms"][kind]
            print(
                f"   {kind:>7}: p50 {lat['p50']:8.2f} ms ({_err(lat['p50'], truth[0])} vs true, "
                f"{_err(lat['p50'], held[0])} vs held)   p99 {lat['p99']:8.2f} ms "
                f"({_err(lat['p99'], truth[1])} vs true, {_err(lat['p99'], held[1])} vs held)"
            )
            for i, key in enumerate(("p50", "p99")):
                worst_p = max(worst_p, abs(lat[key] / truth[i] - 1))
                worst_held = max(worst_held, abs(lat[key] / held[i] - 1))
        ach = sched["achieved_rate"]
        worst_rate = max(worst_rate, abs(ach / rate - 1))
        print(
            f"   schedule: target {rate}, achieved {ach:.2f} ({_err(ach, rate)}), "
            f"scheduler lag p99 {sched['p99_lag_ms']:.2f} ms, max {sched['max_lag_ms']:.2f} ms"
        )
        print(
            f"   CPU over {wall:.1f} s: client {own:.2f} s ({1e6 * own / len(res.samples):.0f} µs "
            f"per request), server {server_cpu:.2f} s ({args.server_workers} process(es)); "
            f"load average {load0:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    return worst_p, worst_rate, worst_held


def streaming(args: argparse.Namespace) -> float:
    """TTFT and ITL against the simulator's configured (constant) values."""
    ttft_ms, token_ms, n_tokens = 200.0, 20.0, 30
    profile = {
        "ttft_ms": {"kind": "constant", "value": ttft_ms},
        "token_ms": {"kind": "constant", "value": token_ms},
        "output_tokens": {"kind": "constant", "value": n_tokens},
    }
    from pilotgate.simulator import SimulatorProfile

    payload = SimulatorProfile.model_validate(profile).model_dump_json()
    proc = subprocess.Popen(
        [sys.executable, "-c", SIMULATOR, payload],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        target = to_target(f"openai:http://127.0.0.1:{port}/v1", model="sim", stream=True)
        cfg = LoadConfig(concurrency=32, duration_s=3.0 if args.quick else 6.0, timeout_s=30)
        doc = run_load(cfg, target).to_json()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=10)
    lat = doc["latency_ms"]
    print(
        f"\nstreaming, 32 users: {doc['requests']['ok']:,} answers, {lat['itl']['n']:,} gaps; "
        f"configured TTFT {ttft_ms:g} ms, token gap {token_ms:g} ms, {n_tokens} tokens"
    )
    worst = 0.0
    for kind, want in (("ttft", ttft_ms), ("itl", token_ms)):
        b = lat[kind]
        print(
            f"   {kind:>5}: p50 {b['p50']:7.2f} ms ({_err(b['p50'], want)}), mean "
            f"{b['mean']:7.2f} ms ({_err(b['mean'], want)}), p99 {b['p99']:7.2f} ms"
        )
        worst = max(worst, abs(b["p50"] / want - 1), abs(b["mean"] / want - 1))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="half the durations")
    ap.add_argument("--server-workers", type=int, default=1, help="calibration server processes")
    ap.add_argument("--workers", type=int, default=1, help="load engine worker processes")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--rates", type=int, nargs="*", help="only these levels (50, 500, 2000)")
    ap.add_argument("--no-stream", action="store_true", help="skip the streaming section")
    args = ap.parse_args()
    worst_p, worst_rate, worst_held = open_loop(args)
    worst_stream = 0.0 if args.no_stream else streaming(args)
    ok = {True: "OK", False: "OVER BUDGET"}
    print(
        f"\nworst percentile error vs true delays: {100 * worst_p:.2f} % (budget 2 %) "
        f"{ok[worst_p <= 0.02]}"
    )
    print(
        f"worst percentile error vs what the server held (the client's own share): "
        f"{100 * worst_held:.2f} %"
    )
    print(
        f"worst achieved-rate error: {100 * worst_rate:.2f} % (budget 1 %) {ok[worst_rate <= 0.01]}"
    )
    if not args.no_stream:
        print(
            f"worst streamed TTFT/ITL error: {100 * worst_stream:.2f} % (budget 5 %) "
            f"{ok[worst_stream <= 0.05]}"
        )
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json:
        figures = {
            "percentile_error": worst_p,
            "percentile_error_vs_held": worst_held,
            "rate_error": worst_rate,
            "stream": worst_stream,
        }
        with open(args.json, "w") as fh:
            json.dump(figures, fh)


if __name__ == "__main__":
    main()
