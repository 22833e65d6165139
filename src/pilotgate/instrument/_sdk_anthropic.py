"""``instrument_anthropic``: record every ``messages.create`` of the official ``anthropic`` SDK.

Patches ``Messages.create`` / ``AsyncMessages.create`` and the ``messages.stream()``
helper (of one client, or of the SDK's classes) and the client's retry sleep. The
parser runs on the exporter's thread: the input is the ``system`` prompt (as a system
message) followed by the messages; the output joins the text blocks (or the text
deltas of a stream, the first of which is the time to first token); ``tool_use``
blocks are kept as ``tool_calls`` in the metadata; usage comes from the message, or
from the ``message_start`` and ``message_delta`` events.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from pilotgate.instrument._sdk import Instrumentation, SdkCall, patch, wrap_stream_helper
from pilotgate.instrument._sdk_openai import plain
from pilotgate.instrument._state import Meta

__all__ = ["instrument_anthropic", "parse_anthropic"]


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _base(call: SdkCall) -> dict[str, Any]:
    kwargs = call.kwargs
    messages = plain(list(kwargs.get("messages") or ()))
    system = kwargs.get("system")
    if system:
        messages.insert(0, {"role": "system", "content": plain(system)})
    md: dict[str, Any] = {"provider": "anthropic", "model": kwargs.get("model")}
    tools = kwargs.get("tools")
    if tools:
        md["tools"] = [_get(t, "name") for t in tools]
    return {"input": messages, "metadata": md}


def _usage(usage: Any, rec: dict[str, Any]) -> None:
    if usage is None:
        return
    n_in, n_out = _int(_get(usage, "input_tokens")), _int(_get(usage, "output_tokens"))
    if n_in is not None:
        rec["tokens_in"] = n_in
    if n_out is not None:
        rec["tokens_out"] = n_out


def _tool_use(block: Any, arguments: str | None = None) -> dict[str, Any]:
    if arguments is None:
        arguments = json.dumps(plain(_get(block, "input")), ensure_ascii=False)
    return {"id": _get(block, "id"), "name": _get(block, "name"), "arguments": arguments}


def _finish(parts: list[str], calls: list[dict[str, Any]], rec: dict[str, Any]) -> None:
    if calls:
        rec["metadata"]["tool_calls"] = calls
    if parts or not calls:
        rec["output"] = "".join(parts)
    else:
        rec["output"] = json.dumps(calls, ensure_ascii=False)


def _whole(result: Any, rec: dict[str, Any]) -> None:
    md = rec["metadata"]
    md["model"] = _get(result, "model") or md["model"]
    md["stop_reason"] = _get(result, "stop_reason")
    parts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in _get(result, "content") or ():
        kind = _get(block, "type")
        if kind == "text":
            parts.append(str(_get(block, "text") or ""))
        elif kind == "tool_use":
            calls.append(_tool_use(block))
    _finish(parts, calls, rec)
    _usage(_get(result, "usage"), rec)


def _streamed(call: SdkCall, rec: dict[str, Any]) -> None:
    md = rec["metadata"]
    parts: list[str] = []
    blocks: dict[int, dict[str, Any]] = {}
    first: int | None = None
    for i, event in enumerate(call.chunks):
        kind = _get(event, "type")
        if kind == "content_block_delta":
            delta = _get(event, "delta")
            text = _get(delta, "text")
            partial = _get(delta, "partial_json")
            if isinstance(text, str) and text:
                parts.append(text)
                first = i if first is None else first
            elif isinstance(partial, str):
                slot = blocks.get(_get(event, "index") or 0)
                if slot is not None:
                    slot["arguments"] += partial
        elif kind == "content_block_start":
            block = _get(event, "content_block")
            if _get(block, "type") == "tool_use":
                first = i if first is None else first
                blocks[_get(event, "index") or 0] = _tool_use(block, "")
        elif kind == "message_start":
            message = _get(event, "message")
            md["model"] = _get(message, "model") or md["model"]
            _usage(_get(message, "usage"), rec)
        elif kind == "message_delta":
            md["stop_reason"] = _get(_get(event, "delta"), "stop_reason")
            _usage(_get(event, "usage"), rec)
    _finish(parts, [blocks[k] for k in sorted(blocks)], rec)
    if first is not None:
        rec["ttft_s"] = call.first_time(first)


def parse_anthropic(call: SdkCall) -> dict[str, Any]:
    """Record fields of one Messages API call (the exporter's thread only)."""
    rec = _base(call)
    if call.stream:
        _streamed(call, rec)
    elif call.result is not None:
        _whole(call.result, rec)
    return rec


def instrument_anthropic(
    client: Any = None, *, feature: str | None = None, version: str | None = None
) -> Instrumentation:
    """Record every ``messages.create`` call of the official ``anthropic`` SDK.

    Args:
        client: an ``Anthropic`` / ``AsyncAnthropic`` client to instrument alone;
            ``None`` patches the SDK's classes, so every client is recorded.
        feature, version: stored with every record (defaults: ``configure()``'s).

    Returns:
        A handle whose ``undo()`` restores the SDK. Never raises: without the SDK, or
        when it cannot be patched, the handle patches nothing and the reason is logged.
    """
    inst = Instrumentation("anthropic")
    meta = Meta(feature=feature, version=version, name="anthropic.messages.create")
    try:
        import anthropic
        from anthropic.resources.messages import AsyncMessages, Messages
    except Exception as exc:
        logging.getLogger("pilotgate.instrument").warning(
            "pilotgate.instrument_anthropic: the anthropic SDK is not importable (%s): "
            "pip install anthropic",
            exc,
        )
        return inst
    streams = (anthropic.Stream, anthropic.AsyncStream)
    if client is None:
        owners: list[tuple[Any, bool]] = [(Messages, False), (AsyncMessages, True)]
        from anthropic._base_client import AsyncAPIClient, SyncAPIClient

        retry: list[Any] = [SyncAPIClient, AsyncAPIClient]
    else:
        resource = client.messages
        owners = [(resource, isinstance(resource, AsyncMessages))]
        retry = [client]
    patch(inst, owners, meta, parse_anthropic, streams, retry)
    for owner, is_async in owners:  # the messages.stream() helper opens its own request
        attr = f"_{'Async' if is_async else ''}MessageStreamManager__api_request"
        make = functools.partial(
            wrap_stream_helper, meta=meta, parser=parse_anthropic, attr=attr, is_async=is_async
        )
        inst.patch(owner, "stream", make)
    return inst
