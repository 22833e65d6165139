"""``openai:URL`` — an OpenAI-compatible chat-completions endpoint, streamed or not.

Streaming is how users feel latency (time to first token), so a streamed call records
when the first content delta arrived, joins the deltas, and asks the server to report
usage in its final chunk. A server that ignores ``stream: true`` and answers with
plain JSON is read as a plain answer rather than failed (load tools that insist on
SSE report 100 % errors against such servers and still exit 0).
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from pilotgate._sse import SseParser
from pilotgate.errors import TargetError
from pilotgate.targets._base import Input
from pilotgate.targets._config import TargetConfig
from pilotgate.targets._http_common import (
    MAX_BODY,
    HttpTargetBase,
    ResponseTooLarge,
    json_loads,
    read_body,
)
from pilotgate.targets._result import TargetResult

__all__ = ["OpenAITarget"]


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_usage(usage: Any, result: TargetResult) -> None:
    if isinstance(usage, dict):
        result.tokens_in = _int_or_none(usage.get("prompt_tokens"))
        result.tokens_out = _int_or_none(usage.get("completion_tokens"))


class OpenAITarget(HttpTargetBase):
    """Calls ``POST {url}/chat/completions`` with the configured model."""

    kind = "openai"

    def __init__(self, config: TargetConfig) -> None:
        super().__init__(config)
        if not config.model:
            raise TargetError(
                "openai target needs a model",
                where=f"target {self.describe()}",
                fix="pass --model NAME, or set model = '…' in [targets.NAME]",
            )
        base = (config.url or "").rstrip("/")
        if base.endswith("/chat/completions"):
            self._endpoint = base
            self._base = base[: -len("/chat/completions")]
        else:
            self._endpoint = base + "/chat/completions"
            self._base = base

    def describe(self) -> str:
        return f"{super().describe()} model={self._config.model}"

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        if self._config.stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def body(self, input: Input) -> dict[str, Any]:
        """The request body for ``input`` (public so callers can inspect or log it)."""
        cfg = self._config
        if isinstance(input, str):
            messages: list[dict[str, Any]] = [{"role": "user", "content": input}]
        else:
            messages = list(input)
        if cfg.system_prompt and not any(m.get("role") == "system" for m in messages):
            messages.insert(0, {"role": "system", "content": cfg.system_prompt})
        body: dict[str, Any] = {"model": cfg.model, "messages": messages, "stream": cfg.stream}
        if cfg.stream and cfg.stream_usage:
            body["stream_options"] = {"include_usage": True}
        if cfg.max_tokens is not None:
            body["max_tokens"] = cfg.max_tokens
        if cfg.temperature is not None:
            body["temperature"] = cfg.temperature
        body.update(cfg.extra_body)
        return body

    async def _attempt(self, input: Input, result: TargetResult) -> None:
        async with await self._post(
            self._endpoint, result, json=self.body(input), headers=self._headers()
        ) as resp:
            if await self._check_error_status(resp, result):
                return
            if resp.content_type == "text/event-stream":
                await self._read_stream(resp, result)
            else:
                self._read_json(json_loads(await read_body(resp)), result)
            result.end = time.perf_counter()

    def _read_json(self, data: Any, result: TargetResult) -> None:
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            result.error = "bad_response"
            result.detail = self.scrub(f"no choices[0].message.content in: {str(data)[:200]}")
            return
        result.output = content
        if isinstance(data, dict):
            _read_usage(data.get("usage"), result)

    async def _read_stream(self, resp: aiohttp.ClientResponse, result: TargetResult) -> None:
        """Read events by the WHATWG rules as they arrive; stop at ``[DONE]`` or an error."""
        parts: list[str] = []
        parser = SseParser()
        got = 0
        async for raw in resp.content.iter_any():
            got += len(raw)
            if got > MAX_BODY:
                raise ResponseTooLarge(f"stream over {MAX_BODY} bytes")
            parser.feed(raw, time.perf_counter())
            events = parser.events
            done = any(self._on_event(now, data, parts, result) for now, data in events)
            events.clear()
            if done:
                break
        result.output = "".join(parts)

    def _on_event(self, now: float, data: bytes, parts: list[str], result: TargetResult) -> bool:
        """Take one event's data; True when the stream is over (``[DONE]`` or an error)."""
        if data.strip() == b"[DONE]":
            return True
        chunk = json_loads(data)
        if not isinstance(chunk, dict):
            return False
        if "error" in chunk:
            result.error = "bad_response"
            result.detail = self.scrub(f"error event in stream: {chunk['error']}")
            return True
        if chunk.get("usage"):
            _read_usage(chunk["usage"], result)
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if content:
                if result.first_token is None:
                    result.first_token = now
                parts.append(content)
                result.chunks += 1
        return False

    async def check(self) -> None:
        """TCP reachability, then ``GET /models`` to catch a wrong base URL or a bad key."""
        await super().check()
        try:
            async with self._session().get(
                self._base + "/models",
                headers=super()._headers(),
                timeout=aiohttp.ClientTimeout(total=min(10.0, self._config.timeout_s)),
            ) as resp:
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            _, detail = self._classify(exc)
            raise TargetError(
                detail, where=f"target {self.describe()}", fix="check the URL"
            ) from None
        if status == 404:
            raise TargetError(
                "no OpenAI-compatible API here (GET /models answered 404)",
                where=f"target {self.describe()}",
                fix="give the API base URL, usually ending in /v1",
            )
        if status in (401, 403):
            env = self._config.api_key_env
            raise TargetError(
                f"the server rejected the credentials (HTTP {status})",
                where=f"target {self.describe()}",
                fix=f"check the key in ${env}" if env else "set api_key_env to the key's variable",
            )
