"""Kernel receive timestamps: when a response's bytes reached this machine.

On a crowded machine the operating system can keep the load generator off the CPU for
tens of milliseconds; the bytes of a response wait in the socket meanwhile, and a client
that stamps them when it gets round to reading them adds its own scheduling delay to the
target's latency. Linux stamps every received segment (``SO_TIMESTAMPNS``), and
``recvmsg`` hands that stamp over with the data; this module is the small socket
transport that reads that way, so the lean client's end, TTFT and inter-token times are
arrival times. Elsewhere (or if the option is refused) the asyncio transport is used and
times are taken on reading.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
from typing import Any, Protocol

__all__ = ["StampedTransport", "stamping_supported"]

_SO_TIMESTAMPNS = 35  # Linux (asm-generic, x86, arm); not exported by the socket module
_CMSG_SPACE = socket.CMSG_SPACE(16) if hasattr(socket, "CMSG_SPACE") else 0
_MAX_READ = 262_144
_MAX_AGE_S = 30.0  # a stamp older than this is not believed (a clock step): read time wins


class Fed(Protocol):
    """What the transport drives: the lean client's connection."""

    def connection_made(self, transport: Any) -> None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...
    def feed(self, data: bytes, now: float) -> None: ...


_SUPPORTED: bool | None = None


def stamping_supported() -> bool:
    """True on Linux when a TCP socket accepts ``SO_TIMESTAMPNS`` (checked once)."""
    global _SUPPORTED
    if _SUPPORTED is None:
        ok = sys.platform.startswith("linux") and _CMSG_SPACE > 0
        if ok:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            except OSError:
                ok = False
        _SUPPORTED = ok
    return _SUPPORTED


def enable_stamps(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)


class StampedTransport:
    """The part of :class:`asyncio.Transport` the lean client uses, reading with ``recvmsg``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, proto: Fed) -> None:
        self.loop = loop
        self.sock = sock
        self.proto = proto
        self.fd = sock.fileno()
        self.closing = False
        self.wbuf = bytearray()
        loop.add_reader(self.fd, self._read)
        proto.connection_made(self)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.sock if name == "socket" else default

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes) -> None:
        if self.closing:
            return
        if self.wbuf:
            self.wbuf += data
            return
        try:
            n = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as exc:
            self._lost(exc)
            return
        if n < len(data):
            self.wbuf += data[n:]
            self.loop.add_writer(self.fd, self._write)

    def _write(self) -> None:
        try:
            n = self.sock.send(self.wbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        del self.wbuf[:n]
        if not self.wbuf:
            self.loop.remove_writer(self.fd)

    def _read(self) -> None:
        try:
            data, anc, _, _ = self.sock.recvmsg(_MAX_READ, _CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        if not data:
            self._lost(None)
            return
        # the wall clock first: a pause between the two reads then makes the stamp later
        # (never earlier) than the arrival. Read the other way round, a pause under load
        # moved it earlier than the bytes came, and shortened the latencies measured
        wall = time.time()
        now = time.perf_counter()
        if anc:
            sec, nsec = struct.unpack_from("qq", anc[0][2])
            age = wall - (sec + nsec * 1e-9)
            if 0.0 <= age < _MAX_AGE_S:
                now -= age
        self.proto.feed(data, now)

    def _shut(self) -> None:
        self.closing = True
        self.loop.remove_reader(self.fd)
        if self.wbuf:
            self.loop.remove_writer(self.fd)
            self.wbuf.clear()
        self.sock.close()

    def _lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self._shut()
            self.proto.connection_lost(exc)

    def abort(self) -> None:
        if not self.closing:
            self._shut()
            self.loop.call_soon(self.proto.connection_lost, None)

    close = abort
