"""A loopback server that answers each request with exact bytes (shared by the rule tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

CLOSE = b"<close>"  # in a canned answer: the server closes the connection here
PAUSE = b"<pause>"  # in a canned answer: the bytes before it go out in their own write


@dataclass
class Canned:
    """Answers request i with ``answers[i]`` (the last one repeats)."""

    answers: list[bytes]
    port: int = 0
    connections: int = 0
    requests: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                n = next(
                    int(h.split(b":")[1])
                    for h in head.split(b"\r\n")
                    if h.lower().startswith(b"content-length")
                )
                await reader.readexactly(n)
                answer = self.answers[min(self.requests, len(self.answers) - 1)]
                self.requests += 1
                for piece in answer.replace(CLOSE, b"").split(PAUSE):
                    writer.write(piece)
                    await writer.drain()
                    if len(answer.split(PAUSE)) > 1:
                        await asyncio.sleep(0.03)
                if CLOSE in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def canned() -> AsyncIterator[Canned]:
    srv = Canned([])
    s = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    srv.port = s.sockets[0].getsockname()[1]
    async with s:
        yield srv
        s.close()
