"""A calibration server: answers each request after a known, seeded delay.

It is how the load engine's accuracy is checked (tests, ``benchmarks/load_accuracy.py``)
and how a user can check a load generator on their own machine: the server records, per
request, the delay it drew and how long it really held the request, so reported
percentiles can be compared with the truth. It can also stall every response for a window
(coordinated omission) and answer with a redirect (the engine must not follow it).

It runs in its own process(es), so its work never shares an interpreter with the client
being measured, and it is lean: a raw :class:`asyncio.Protocol` that answers from a timer
at the request's arrival time + its delay, with a canned response. At thousands of
requests per second a framework server would be measured instead of the client;
``workers=N`` adds processes sharing the port (``SO_REUSEPORT``) for more headroom.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

from pilotgate.load._rxstamp import StampedTransport, enable_stamps, stamping_supported

__all__ = ["DelayServer", "DelaySpec"]

_BODY = json.dumps(
    {
        "id": "chatcmpl-calibration",
        "object": "chat.completion",
        "model": "calibration",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
    }
).encode()
_OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_BODY)
) + _BODY


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

    def sampler(self, stream: int = 0) -> Any:
        """A function drawing delays (ms); ``stream`` separates server processes' draws."""
        rng = random.Random(self.seed * 1009 + stream)
        if self.kind == "constant":
            return lambda: self.value_ms
        if self.kind == "uniform":
            return lambda: rng.uniform(self.low_ms, self.high_ms)
        if self.kind == "lognormal":
            return lambda: rng.lognormvariate(0.0, self.sigma) * self.median_ms
        raise ValueError(f"unknown delay kind {self.kind!r}")


class _State:
    """One server process's records: arrival time, drawn delay, measured hold (ms)."""

    def __init__(self, spec: DelaySpec, stream: int) -> None:
        self.spec = spec
        self.draw = spec.sampler(stream)
        self.loop = asyncio.get_running_loop()
        self.arrived: list[float] = []
        self.delays: list[float] = []
        self.held: list[float] = []
        self.first: float | None = None
        self.redirect = b""
        if spec.redirect_to:
            loc = spec.redirect_to.encode("latin-1")
            self.redirect = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\n" % loc
            self.redirect += b"Content-Length: 0\r\n\r\n"

    def stats(self) -> bytes:
        body = json.dumps(
            {"arrived": self.arrived, "delays_ms": self.delays, "held_ms": self.held}
        ).encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        return head % len(body) + b"Connection: close\r\n\r\n" + body


class _Conn(asyncio.Protocol):
    def __init__(self, state: _State) -> None:
        self.state = state
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.feed(data, self.state.loop.time())

    def feed(self, data: bytes, t_in: float) -> None:
        """Request bytes that arrived at ``t_in`` (the kernel's stamp, when available)."""
        buf = self.buf
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            i = head.find(b"\r\ncontent-length:")
            n = int(head[i + 17 :].split(b"\r\n", 1)[0]) if i >= 0 else 0
            if len(buf) < end + 4 + n:
                return
            del buf[: end + 4 + n]
            self._answer(head, t_in)

    def _answer(self, head: bytes, t_in: float) -> None:
        st = self.state
        assert self.transport is not None
        if head.startswith(b"get /__stats"):
            self.transport.write(st.stats())
            self.transport.close()
            return
        idx = len(st.delays)
        if st.redirect:
            st.arrived.append(t_in)
            st.delays.append(0.0)
            st.held.append(0.0)
            self.transport.write(st.redirect)
            return
        if st.first is None:
            st.first = t_in
        d = float(st.draw())
        st.arrived.append(t_in)
        st.delays.append(d)
        st.held.append(float("nan"))
        st.loop.call_at(t_in + d / 1000.0, self._respond, idx, t_in, t_in + d / 1000.0)

    def _respond(self, idx: int, t_in: float, due: float) -> None:
        st = self.state
        spec = st.spec
        now = st.loop.time()
        if now < due:  # a loop whose timers round to milliseconds woke early: never answer early
            st.loop.call_at(due, self._respond, idx, t_in, due)
            return
        if spec.stall_at_s is not None and st.first is not None:
            start = st.first + spec.stall_at_s
            if start <= now < start + spec.stall_s:
                st.loop.call_at(start + spec.stall_s, self._respond, idx, t_in, due)
                return
        st.held[idx] = (now - t_in) * 1000.0
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_OK)


async def _serve(spec: DelaySpec, port: int, stream: int, reuse_port: bool) -> None:
    loop = asyncio.get_running_loop()
    state = _State(spec, stream)
    stats = await loop.create_server(lambda: _Conn(state), "127.0.0.1", 0)
    stats_port = stats.sockets[0].getsockname()[1]
    if stamping_supported() and abs(loop.time() - time.perf_counter()) < 0.001:
        # Requests are timed where they arrived (kernel stamps), so a server kept off the
        # CPU by a busy machine still knows how long it really held each request.
        lsock = socket.socket()
        if reuse_port:
            lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        lsock.bind(("127.0.0.1", port))
        lsock.listen(4096)
        lsock.setblocking(False)
        print(f"PORT {lsock.getsockname()[1]} {stats_port}", flush=True)
        while True:
            sock, _ = await loop.sock_accept(lsock)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            enable_stamps(sock)
            StampedTransport(loop, sock, _Conn(state))
    server = await loop.create_server(
        lambda: _Conn(state), "127.0.0.1", port, backlog=4096, reuse_port=reuse_port or None
    )
    print(f"PORT {server.sockets[0].getsockname()[1]} {stats_port}", flush=True)
    await asyncio.Event().wait()


def _free_reusable_port() -> tuple[socket.socket, int]:
    """Reserve a port that several processes can then bind with SO_REUSEPORT."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, int(sock.getsockname()[1])


class DelayServer:
    """Start the calibration server in child process(es) on a free loopback port.

    Args:
        spec: what to answer and after how long.
        workers: server processes sharing the port (the kernel spreads connections).
    """

    def __init__(self, spec: DelaySpec | None = None, *, workers: int = 1) -> None:
        self.spec = spec or DelaySpec()
        self.workers = max(1, workers)
        self.procs: list[subprocess.Popen[str]] = []
        self.stats_ports: list[int] = []
        self.port = 0

    def __enter__(self) -> DelayServer:
        reserve = None
        port = 0
        if self.workers > 1:
            reserve, port = _free_reusable_port()
        try:
            for w in range(self.workers):
                code = "from pilotgate.load._delayserver import main; main()"
                args = [json.dumps(asdict(self.spec)), str(port), str(w), str(self.workers > 1)]
                proc = subprocess.Popen(
                    [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True
                )
                self.procs.append(proc)
                assert proc.stdout is not None
                line = proc.stdout.readline()
                if not line.startswith("PORT "):
                    self.close()
                    raise RuntimeError("the calibration server did not start")
                _, bound, stats_port = line.split()
                self.port = int(bound)
                self.stats_ports.append(int(stats_port))
        finally:
            if reserve is not None:
                reserve.close()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        return self.procs[0].pid

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stats(self) -> dict[str, Any]:
        """Per request, in arrival order: the delay drawn and the hold measured (ms)."""
        rows: list[tuple[float, float, float]] = []
        for port in self.stats_ports:
            url = f"http://127.0.0.1:{port}/__stats"
            req = urllib.request.Request(url, method="GET")
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
                doc = json.loads(resp.read())
            rows += zip(doc["arrived"], doc["delays_ms"], doc["held_ms"], strict=True)
        rows.sort(key=lambda r: r[0])
        return {
            "count": len(rows),
            "delays_ms": [r[1] for r in rows],
            "held_ms": [r[2] for r in rows],
        }

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs = []

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
    stream = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    reuse = len(sys.argv) > 4 and sys.argv[4] == "True"
    try:
        # asyncio's own loop by default: its timers never fire early (uvloop's are in ms).
        if os.environ.get("PILOTGATE_DELAYSERVER_UVLOOP") == "1":
            try:
                import uvloop
            except ImportError:
                pass
            else:
                uvloop.run(_serve(spec, port, stream, reuse))
                return
        asyncio.run(_serve(spec, port, stream, reuse))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
