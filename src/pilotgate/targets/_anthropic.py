"""``anthropic:URL`` — Anthropic's Messages API (``POST {url}/v1/messages``), streamed or not.

A streamed call records the time of the first ``text_delta`` (TTFT), joins the deltas,
and reads the output token count from ``message_delta``'s usage (the input count from
``message_start``). The key goes in ``x-api-key``, with the ``anthropic-version`` header
the API requires; the system prompt is the top-level ``system`` field, not a message.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from pilotgate.errors import TargetError
from pilotgate.targets._base import Input
from pilotgate.targets._config import TargetConfig
from pilotgate.targets._http_common import HttpTargetBase, json_loads
from pilotgate.targets._result import TargetResult

__all__ = ["ANTHROPIC_VERSION", "AnthropicTarget", "read_anthropic_usage"]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_anthropic_usage(usage: Any, result: TargetResult) -> None:
    """Fill token counts from a Messages ``usage`` object (either count may be absent)."""
    if not isinstance(usage, dict):
        return
    n_in, n_out = _int_or_none(usage.get("input_tokens")), _int_or_none(usage.get("output_tokens"))
    if n_in is not None:
        result.tokens_in = n_in
    if n_out is not None:
        result.tokens_out = n_out


class AnthropicTarget(HttpTargetBase):
    """Calls ``POST {url}/v1/messages`` with the configured model and ``max_tokens``."""

    kind = "anthropic"

    def __init__(self, config: TargetConfig) -> None:
        super().__init__(config)
        if not config.model:
            raise TargetError(
                "anthropic target needs a model",
                where=f"target {self.describe()}",
                fix="pass --model NAME, or set model = '…' in [targets.NAME]",
            )
        base = (config.url or "").rstrip("/")
        if base.endswith("/messages"):
            self._endpoint = base
        elif base.endswith("/v1"):
            self._endpoint = base + "/messages"
        else:
            self._endpoint = base + "/v1/messages"

    def describe(self) -> str:
        return f"{super().describe()} model={self._config.model}"

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        key = headers.pop("Authorization", None)
        if key is not None:
            headers["x-api-key"] = key[len("Bearer ") :]
        headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
        if self._config.stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def body(self, input: Input) -> dict[str, Any]:
        """The request body for ``input``; system messages move to the ``system`` field."""
        cfg = self._config
        if isinstance(input, str):
            raw: list[dict[str, Any]] = [{"role": "user", "content": input}]
        else:
            raw = list(input)
        system = [str(m.get("content") or "") for m in raw if m.get("role") == "system"]
        messages = [m for m in raw if m.get("role") != "system"]
        if not system and cfg.system_prompt:
            system = [cfg.system_prompt]
        body: dict[str, Any] = {
            "model": cfg.model,
            "max_tokens": cfg.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": messages,
        }
        if system:
            body["system"] = "\n\n".join(system)
        if cfg.stream:
            body["stream"] = True
        if cfg.temperature is not None:
            body["temperature"] = cfg.temperature
        body.update(cfg.extra_body)
        return body

    async def _attempt(self, input: Input, result: TargetResult) -> None:
        session = self._session()
        async with session.post(
            self._endpoint, json=self.body(input), headers=self._headers(), timeout=self._timeout
        ) as resp:
            if await self._check_error_status(resp, result):
                return
            if resp.content_type == "text/event-stream":
                await self._read_stream(resp, result)
            else:
                self._read_json(json_loads(await resp.read()), result)
            result.end = time.perf_counter()

    def _read_json(self, data: Any, result: TargetResult) -> None:
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, list):
            result.error = "bad_response"
            result.detail = self.scrub(f"no content blocks in: {str(data)[:200]}")
            return
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        result.output = "".join(t for t in texts if isinstance(t, str))
        read_anthropic_usage(data.get("usage"), result)

    async def _read_stream(self, resp: aiohttp.ClientResponse, result: TargetResult) -> None:
        parts: list[str] = []
        async for raw in resp.content:
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue  # event: names, blank separators, comments
            event = json_loads(line[5:].strip())
            if not isinstance(event, dict):
                continue
            kind = event.get("type")
            if kind == "content_block_delta":
                delta = event.get("delta") or {}
                text = delta.get("text") if isinstance(delta, dict) else None
                if isinstance(text, str) and text:
                    if result.first_token is None:
                        result.first_token = time.perf_counter()
                    parts.append(text)
                    result.chunks += 1
            elif kind == "message_start":
                message = event.get("message") or {}
                if isinstance(message, dict):
                    read_anthropic_usage({"input_tokens": _in(message)}, result)
            elif kind == "message_delta":
                read_anthropic_usage(event.get("usage"), result)
            elif kind == "error":
                result.error = "bad_response"
                result.detail = self.scrub(f"error event in stream: {event.get('error')}")
                break
            elif kind == "message_stop":
                break
        result.output = "".join(parts)


def _in(message: dict[str, Any]) -> Any:
    usage = message.get("usage")
    return usage.get("input_tokens") if isinstance(usage, dict) else None
