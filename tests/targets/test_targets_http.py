"""http: adapter against a small real aiohttp.web service on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from pilotgate._response_path import lookup
from pilotgate.targets import TargetConfig, build_target, close_sessions, resolve_target
from pilotgate.targets._http import render


@pytest.fixture(autouse=True)
async def _sessions() -> AsyncIterator[None]:
    yield
    await close_sessions()


class Service:
    """A feature behind a JSON endpoint, with a few ways to misbehave."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.flaky_calls = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/answer", self.answer)
        app.router.add_post("/flaky", self.flaky)
        app.router.add_post("/html", self.html)
        app.router.add_post("/echo-auth", self.echo_auth)
        app.router.add_post("/slow", self.slow)
        return app

    async def answer(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        text = body["query"]["text"]
        return web.json_response(
            {
                "data": {"choices": [{"text": f"echo: {text}", "label": len(text)}]},
                "meta": {"usage": {"in": 11, "out": 5}},
            }
        )

    async def flaky(self, request: web.Request) -> web.Response:
        self.flaky_calls += 1
        if self.flaky_calls == 1:
            past = format_datetime(datetime.now(UTC) - timedelta(seconds=5), usegmt=True)
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": past})
        return web.json_response({"output": "fine now"})

    async def html(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>", content_type="text/html")

    async def echo_auth(self, request: web.Request) -> web.Response:
        return web.Response(text=f"bad credentials {request.headers.get('X-Api-Key')}", status=403)

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.json_response({"output": "late"})


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, Service]]:
    svc = Service()
    runner = web.AppRunner(svc.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server) and server.sockets
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", svc
    await close_sessions()
    await runner.cleanup()


TEMPLATE = {"query": {"text": "{{input}}", "prefixed": "Q: {{input}}"}, "flags": ["{{input}}", 1]}


async def test_template_rendered_json_safe_and_output_read_at_path(
    service: tuple[str, Service],
) -> None:
    url, svc = service
    t = build_target(
        TargetConfig(
            kind="http",
            url=f"{url}/answer",
            request_template=TEMPLATE,
            response_path="data.choices.0.text",
            tokens_in_path="meta.usage.in",
            tokens_out_path="meta.usage.out",
            headers={"X-Team": "support"},
        )
    )
    tricky = 'He said "hi"\nthen {left} \\ and {{input}}'
    r = await t.call(tricky)
    assert r.ok, r.detail
    assert r.status == 200
    assert r.output == f"echo: {tricky}"
    assert (r.tokens_in, r.tokens_out) == (11, 5)
    sent = svc.bodies[-1]
    assert sent["query"] == {"text": tricky, "prefixed": f"Q: {tricky}"}
    assert sent["flags"] == [tricky, 1]
    assert svc.headers[-1]["X-Team"] == "support"
    await t.aclose()


async def test_non_string_output_is_json_text_and_missing_path_is_bad_response(
    service: tuple[str, Service],
) -> None:
    url, _ = service
    base = {"kind": "http", "url": f"{url}/answer", "request_template": TEMPLATE}
    label = build_target(TargetConfig(**base, response_path="data.choices.0.label"))
    r = await label.call("four")
    assert r.ok and r.output == "4"

    for path in ("data.choices.1.text", "data.nope", "data.choices.x"):
        missing = build_target(TargetConfig(**base, response_path=path))
        r = await missing.call("four")
        assert r.error == "bad_response", path
        assert r.status == 200
        assert r.detail is not None and path in r.detail


async def test_non_json_body_is_bad_response(service: tuple[str, Service]) -> None:
    url, _ = service
    r = await resolve_target(f"http:{url}/html").call("x")
    assert r.error == "bad_response" and r.status == 200


async def test_503_with_http_date_retry_after_is_retried(service: tuple[str, Service]) -> None:
    url, svc = service
    no_retry = await resolve_target(f"http:{url}/flaky").call("x")
    assert no_retry.error == "http_5xx" and no_retry.status == 503
    assert "retry-after" in no_retry.headers

    svc.flaky_calls = 0
    r = await resolve_target(f"http:{url}/flaky", retries=1, retry_backoff_s=30).call("x")
    assert r.ok and r.output == "fine now"
    assert r.retries == 1
    assert r.retry_wait_ms == 0  # the date was in the past: retry at once, no backoff


async def test_secret_header_from_env_is_scrubbed_from_errors(
    service: tuple[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = service
    monkeypatch.setenv("PG_TEST_HDR_KEY", "hdr-secret-7777")
    cfg = TargetConfig(
        kind="http", url=f"{url}/echo-auth", headers={"X-Api-Key": "${PG_TEST_HDR_KEY}"}
    )
    t = build_target(cfg)
    r = await t.call("x")
    assert r.error == "http_4xx" and r.status == 403
    assert r.detail is not None and "bad credentials ***" in r.detail
    assert "hdr-secret-7777" not in r.detail + repr(t) + t.fingerprint


async def test_timeout_is_classified(service: tuple[str, Service]) -> None:
    url, _ = service
    r = await resolve_target(f"http:{url}/slow", timeout_s=0.2).call("x")
    assert r.error == "timeout" and r.status is None


def test_render_and_lookup_units() -> None:
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert render({"m": "{{input}}", "t": "<{{input}}>", "n": None}, msgs) == {
        "m": msgs,
        "t": "<u>",
        "n": None,
    }
    data = {"a": [{"b": "x"}, {"b": "y"}]}
    assert lookup(data, ["a", "-1", "b"]) == "y"


@given(st.text())
def test_any_input_survives_the_template_round_trip(text: str) -> None:
    import json

    body = json.loads(json.dumps(render(TEMPLATE, text)))
    assert body["query"]["text"] == text
    assert body["query"]["prefixed"] == "Q: " + text
    assert body["flags"] == [text, 1]
