"""A calibration server: answers each request after a known, seeded delay.

It is how the load engine's accuracy is checked (tests, ``benchmarks/load_accuracy.py``)
and how a user can check a load generator on their own machine: the server records every
delay it drew and how long it really held each request, so reported percentiles can be
compared with the truth. It can also stall every response for a window (coordinated
omission) and answer with a redirect (the engine must not follow it). It runs in its own
process so that its work never shares an interpreter with the client being measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

__all__ = ["DelayServer", "DelaySpec"]

_BODY = {
    "id": "chatcmpl-calibration",
    "object": "chat.completion",
    "model": "calibration",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
}


@dataclass(frozen=True)
class DelaySpec:
    """The server's behaviour. Delays are in ms; stall times in s after the first request."""

    kind: str = "constant"  # constant | uniform | lognormal
    value_ms: float = 0.0
    low_ms: float = 0.0
    high_ms: float = 0.0
    median_ms: float = 0.0
    sigma: float = 0.0
    seed: int = 0
    stall_at_s: float | None = None
    stall_s: float = 0.0
    redirect_to: str | None = None

    def sampler(self) -> Any:
        rng = random.Random(self.seed)
        if self.kind == "constant":
            return lambda: self.value_ms
        if self.kind == "uniform":
            return lambda: rng.uniform(self.low_ms, self.high_ms)
        if self.kind == "lognormal":
            return lambda: rng.lognormvariate(0.0, self.sigma) * self.median_ms
        raise ValueError(f"unknown delay kind {self.kind!r}")


def _app(spec: DelaySpec) -> Any:
    from aiohttp import web

    draw = spec.sampler()
    delays: list[float] = []
    held: list[float] = []
    first: list[float] = []
    body = json.dumps(_BODY).encode()

    async def complete(request: web.Request) -> web.Response:
        t_in = time.perf_counter()
        await request.read()
        if spec.redirect_to:
            delays.append(0.0)
            held.append(0.0)
            return web.Response(status=307, headers={"Location": spec.redirect_to})
        if not first:
            first.append(t_in)
        d = draw()
        delays.append(d)
        if d > 0:  # against the arrival time, so reading the body does not add to it
            await asyncio.sleep(max(0.0, t_in + d / 1000.0 - time.perf_counter()))
        if spec.stall_at_s is not None:
            start = first[0] + spec.stall_at_s
            now = time.perf_counter()
            if start <= now < start + spec.stall_s:
                await asyncio.sleep(start + spec.stall_s - now)
        held.append((time.perf_counter() - t_in) * 1000.0)
        return web.Response(body=body, content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"count": len(delays), "delays_ms": delays, "held_ms": held})

    app = web.Application()
    app.router.add_post("/{tail:.*}", complete)
    app.router.add_get("/__stats", stats)
    return app


async def _serve(spec: DelaySpec, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(_app(spec), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    print(f"PORT {bound}", flush=True)
    await asyncio.Event().wait()


class DelayServer:
    """Start the calibration server in a child process on a free loopback port."""

    def __init__(self, spec: DelaySpec | None = None) -> None:
        self.spec = spec or DelaySpec()
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> DelayServer:
        code = "from pilotgate.load._delayserver import main; main()"
        cmd = [sys.executable, "-c", code, json.dumps(asdict(self.spec))]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError("the calibration server did not start")
        self.port = int(line.split()[1])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stats(self) -> dict[str, Any]:
        """Every delay drawn and every hold measured, in request arrival order."""
        url = f"http://127.0.0.1:{self.port}/__stats"
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback only
            return json.loads(resp.read())  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def main() -> None:
    spec = DelaySpec(**json.loads(sys.argv[1])) if len(sys.argv) > 1 else DelaySpec()
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    try:
        if os.environ.get("PILOTGATE_DELAYSERVER_UVLOOP") == "1":
            import uvloop

            uvloop.run(_serve(spec, port))
        else:
            asyncio.run(_serve(spec, port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
