"""The simulator never answers before its profile says: on uvloop (whose clock is read
once per loop turn, in whole milliseconds, and whose timers round to the millisecond) a
stream timed against the loop's clock left up to a millisecond early, and a wake-up
before the first token was due wrote an empty chunk, which ends a chunked body."""

from __future__ import annotations

import socket
import time

from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

_REQ = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\n\r\n%b"
)


def _stream_once(port: int, body: bytes) -> tuple[float, list[tuple[float, bytes]]]:
    """Send one request on a fresh socket; (send time, [(arrival, bytes)]) to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reads: list[tuple[float, bytes]] = []
        sent = time.monotonic()
        s.sendall(_REQ % (len(body), body))
        got = b""
        while not got.endswith(b"\r\n0\r\n\r\n"):
            data = s.recv(65536)
            assert data, "the server closed before the body ended"
            reads.append((time.monotonic(), data))
            got += data
        return sent, reads


def _chunks(raw: bytes) -> list[bytes]:
    body = raw.split(b"\r\n\r\n", 1)[1]
    out: list[bytes] = []
    while True:
        size_line, body = body.split(b"\r\n", 1)
        size = int(size_line, 16)
        if size == 0:
            return out
        out.append(body[:size])
        body = body[size + 2 :]


def test_streamed_tokens_never_leave_before_they_are_due() -> None:
    ttft, gap, n = 30.0, 7.0, 8
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(ttft), token_ms=Dist.constant(gap), output_tokens=Dist.constant(n)
    )
    with run_in_thread(profile, seed=3) as sim:
        for k in range(12):
            body = b'{"model":"m","stream":true,"messages":[{"role":"user","content":"q%d"}]}' % k
            sent, reads = _stream_once(sim.port, body)
            raw = b"".join(d for _, d in reads)
            chunks = _chunks(raw)
            # every chunk carries something, and all n tokens came before the terminator
            assert all(chunks)
            assert raw.count(b'"content":') == n + 1  # the role's empty content, then n
            # the k-th token (counting its bytes' arrival) never before sent + ttft + k gaps
            seen = 0
            for at, data in reads:
                for _ in range(data.count(b'"delta":{"content":')):
                    due = sent + (ttft + seen * gap) / 1000.0
                    assert at >= due, f"token {seen} came {(due - at) * 1000:.3f} ms early"
                    seen += 1
            assert seen == n
