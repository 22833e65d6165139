"""A kernel receive stamp is turned into ``perf_counter`` time by reading both clocks: a
pause between the two reads (a descheduled client on a loaded machine) may make the stamp
later than the bytes' arrival, never earlier, or measured latencies would shrink."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from pilotgate.load import _rxstamp
from pilotgate.load._rxstamp import StampedTransport, enable_stamps, stamping_supported

PAUSE_S = 0.005


class _PausingClock:
    """The real clocks, each read followed by a pause that both clocks see pass."""

    def __init__(self) -> None:
        self.paused = 0.0

    def _pause(self) -> float:
        self.paused += PAUSE_S
        return self.paused

    def time(self) -> float:
        return time.time() + self._pause()

    def perf_counter(self) -> float:
        return time.perf_counter() + self._pause()


class _Fed:
    def __init__(self) -> None:
        self.fed: list[float] = []

    def connection_made(self, transport: Any) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        pass

    def feed(self, data: bytes, now: float) -> None:
        self.fed.append(now)


@pytest.mark.skipif(not stamping_supported(), reason="SO_TIMESTAMPNS is Linux's")
def test_a_pause_between_the_clock_reads_never_moves_the_stamp_earlier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    enable_stamps(client)
    # the kernel turns receive stamping on for the whole system lazily (a deferred switch):
    # until it is on, a segment is stamped when read, not when it arrived
    server.sendall(b"w")
    client.recv(1)
    time.sleep(0.1)
    client.setblocking(False)
    loop = asyncio.new_event_loop()
    fed = _Fed()
    transport = StampedTransport(loop, client, fed)
    clock = _PausingClock()
    monkeypatch.setattr(_rxstamp, "time", clock)
    try:
        before = time.perf_counter()
        server.sendall(b"x")
        time.sleep(0.05)  # arrived: the stamp is ~50 ms old when read
        transport._read()
    finally:
        monkeypatch.undo()
        transport.abort()
        server.close()
        listener.close()
        loop.close()
    assert len(fed.fed) == 1
    # the reads' pauses may only delay the stamp: with the clocks read the other way
    # round it came out 5 ms before the bytes were even sent
    assert fed.fed[0] >= before
    # and it is the arrival (sent at once over loopback), not the read 50 ms later
    assert fed.fed[0] <= before + 2 * PAUSE_S + 0.03
