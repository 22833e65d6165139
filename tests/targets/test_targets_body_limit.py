"""Response bodies are bounded: by Content-Length before reading, or while reading chunks."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from pilotgate.targets._http_common import ResponseTooLarge, read_body

BODY = b"x" * 1000


async def _sized(_: web.Request) -> web.Response:
    return web.Response(body=BODY)


async def _chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(0, len(BODY), 100):
        await resp.write(BODY[i : i + 100])
    await resp.write_eof()
    return resp


@pytest.mark.parametrize("path", ["/sized", "/chunked"])
async def test_a_body_over_the_limit_is_refused(path: str) -> None:
    app = web.Application()
    app.router.add_get("/sized", _sized)
    app.router.add_get("/chunked", _chunked)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as resp:
                assert await read_body(resp, limit=len(BODY)) == BODY  # at the limit: read
            async with session.get(url) as resp:
                with pytest.raises(ResponseTooLarge):
                    await read_body(resp, limit=len(BODY) - 1)
    finally:
        await runner.cleanup()
