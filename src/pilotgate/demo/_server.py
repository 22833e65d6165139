"""The assistant over HTTP, so the ``http:`` and ``openai:`` targets can call it.

``POST /answer {"input": "..."}`` answers ``{"output", "intent", "confidence", "version"}``;
``POST /v1/chat/completions`` wraps it OpenAI-style (last user message in, the output
text out, streamed as SSE when asked). An LLM failure becomes 502, or the LLM's own
429/503 with its ``Retry-After``, so load tests see the provider's back-pressure.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pilotgate._thread import serve_in_thread
from pilotgate.demo.feature import LLMError, SupportAssistant
from pilotgate.embeddings import Embedder
from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["FeatureServer", "run_feature_in_thread", "serve_feature", "start_feature_server"]


@dataclass
class FeatureServer:
    """A running assistant server: where it listens and how to stop it."""

    url: str
    host: str
    port: int
    version: str
    assistant: SupportAssistant
    runner: Any = field(repr=False)

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.assistant.aclose()


def _error(
    status: int, message: str, kind: str, headers: dict[str, str] | None = None
) -> web.Response:
    from aiohttp import web

    body = {"error": {"message": message, "type": kind}}
    return web.json_response(body, status=status, headers=headers)


def _llm_failure(exc: LLMError) -> web.Response:
    if exc.status in (429, 503):
        headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
        return _error(exc.status, exc.what, "upstream_rate_limited", headers)
    return _error(502, exc.what, "upstream_error")


async def _read_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        return None


def make_app(assistant: SupportAssistant) -> web.Application:
    """The aiohttp application serving ``assistant``."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.StreamResponse:
        data = await _read_json(request)
        if not isinstance(data, dict) or not isinstance(data.get("input"), str):
            return _error(400, 'send {"input": "<text>"}', "invalid_request_error")
        try:
            reply = await assistant.answer(data["input"])
        except LLMError as exc:
            return _llm_failure(exc)
        return web.json_response(
            {
                "output": reply.output,
                "intent": reply.intent,
                "confidence": reply.confidence,
                "version": reply.version,
            }
        )

    async def chat(request: web.Request) -> web.StreamResponse:
        data = await _read_json(request)
        messages = data.get("messages") if isinstance(data, dict) else None
        text = _last_user_text(messages)
        if text is None:
            return _error(400, "messages needs a user message", "invalid_request_error")
        assert isinstance(data, dict)
        try:
            reply = await assistant.answer(text)
        except LLMError as exc:
            return _llm_failure(exc)
        usage = {
            "prompt_tokens": reply.tokens_in or 0,
            "completion_tokens": reply.tokens_out or 0,
            "total_tokens": (reply.tokens_in or 0) + (reply.tokens_out or 0),
        }
        model = str(data.get("model") or f"northwind-assistant-{assistant.version}")
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not data.get("stream"):
            return web.json_response(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.output},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
        return await _stream(request, cid, created, model, reply.output, usage, include_usage)

    async def models(request: web.Request) -> web.StreamResponse:
        name = f"northwind-assistant-{assistant.version}"
        return web.json_response(
            {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "pilotgate"}]}
        )

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True, "version": assistant.version})

    app = web.Application()
    app.router.add_post("/answer", answer)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/healthz", health)
    return app


def _last_user_text(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts
                return " ".join(
                    str(p.get("text", "")) for p in content if isinstance(p, dict)
                ).strip()
    return None


async def _stream(
    request: web.Request,
    cid: str,
    created: int,
    model: str,
    text: str,
    usage: dict[str, int],
    include_usage: bool,
) -> web.StreamResponse:
    from aiohttp import web

    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    await resp.write(chunk({"role": "assistant", "content": ""}))
    words = text.split(" ")
    for i, word in enumerate(words):
        await resp.write(chunk({"content": word if i == 0 else " " + word}))
    await resp.write(chunk({}, "stop"))
    if include_usage:
        tail = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
        await resp.write(f"data: {json.dumps(tail | {'choices': [], 'usage': usage})}\n\n".encode())
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


async def start_feature_server(
    llm_base_url: str,
    version: str = "v1",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    embedder: Embedder | None = None,
    **assistant_kwargs: Any,
) -> FeatureServer:
    """Start the server on the running loop (exemplars embedded before it listens)."""
    from aiohttp import web

    assistant = SupportAssistant(llm_base_url, version, embedder, **assistant_kwargs)
    await asyncio.to_thread(assistant.router.warm)
    runner = web.AppRunner(make_app(assistant), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror})",
            fix="choose another --port, or 0 for a free one",
        ) from None
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return FeatureServer(f"http://{host}:{bound}", host, bound, version, assistant, runner)


def serve_feature(
    llm_base_url: str, version: str = "v1", *, host: str = "127.0.0.1", port: int = 8766
) -> None:
    """Serve the assistant until interrupted (Ctrl-C)."""

    async def main() -> None:
        srv = await start_feature_server(llm_base_url, version, host=host, port=port)
        try:
            await asyncio.Event().wait()
        finally:
            await srv.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


@contextmanager
def run_feature_in_thread(
    llm_base_url: str,
    version: str = "v1",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    embedder: Embedder | None = None,
    timeout_s: float = 60.0,
    **assistant_kwargs: Any,
) -> Iterator[FeatureServer]:
    """Run the assistant server on its own loop in a daemon thread for the ``with`` block.

    The thread is :func:`pilotgate._thread.serve_in_thread`, shared with the simulator.
    """

    async def start() -> FeatureServer:
        return await start_feature_server(
            llm_base_url, version, host=host, port=port, embedder=embedder, **assistant_kwargs
        )

    with serve_in_thread(
        start, name=f"pilotgate-demo-{version}", what="the demo feature", timeout_s=timeout_s
    ) as srv:
        yield srv
