"""``instrument_openai``: record every chat completion made with the official ``openai`` SDK.

Patches ``Completions.create`` / ``AsyncCompletions.create`` (of one client, or of the
SDK's classes so every client is covered) and the client's retry sleep. The parser
below runs on the exporter's thread and reads the SDK's objects: the reply text, tool
calls, usage (a stream has it only in its final chunk, when the request asked for it
with ``stream_options={"include_usage": True}``), the model and the finish reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pilotgate.instrument._sdk import Instrumentation, SdkCall, patch
from pilotgate.instrument._state import Meta

__all__ = ["instrument_openai", "parse_openai", "plain"]


def plain(value: Any) -> Any:
    """A JSON-ready copy of an SDK object, TypedDict or list of them."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(exclude_none=True, mode="json")
        except Exception:
            return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tool_calls_out(calls: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for c in calls:
        fn = _get(c, "function")
        out.append(
            {"id": _get(c, "id"), "name": _get(fn, "name"), "arguments": _get(fn, "arguments")}
        )
    return out


def _input(kwargs: dict[str, Any]) -> Any:
    messages = kwargs.get("messages")
    if messages is None:
        return plain(kwargs.get("prompt") or kwargs.get("input") or "")
    return plain(list(messages))


def _base(call: SdkCall) -> dict[str, Any]:
    kwargs = call.kwargs
    md: dict[str, Any] = {"provider": "openai", "model": kwargs.get("model")}
    tools = kwargs.get("tools")
    if tools:
        md["tools"] = [_get(_get(t, "function"), "name") for t in tools]
    return {"input": _input(kwargs), "metadata": md}


def _whole(result: Any, rec: dict[str, Any]) -> None:
    md = rec["metadata"]
    md["model"] = _get(result, "model") or md["model"]
    choices = _get(result, "choices") or []
    message = _get(choices[0], "message") if choices else None
    text = _get(message, "content") if message is not None else None
    calls = _get(message, "tool_calls") if message is not None else None
    if choices:
        md["finish_reason"] = _get(choices[0], "finish_reason")
    if calls:
        md["tool_calls"] = _tool_calls_out(calls)
    rec["output"] = text if isinstance(text, str) else _calls_text(md.get("tool_calls"))
    usage = _get(result, "usage")
    if usage is not None:
        rec["tokens_in"] = _int(_get(usage, "prompt_tokens"))
        rec["tokens_out"] = _int(_get(usage, "completion_tokens"))


def _calls_text(calls: Any) -> str | None:
    return json.dumps(calls, ensure_ascii=False) if calls else None


def _streamed(call: SdkCall, rec: dict[str, Any]) -> None:
    md = rec["metadata"]
    parts: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    first: int | None = None
    for i, chunk in enumerate(call.chunks):
        md["model"] = _get(chunk, "model") or md["model"]
        usage = _get(chunk, "usage")
        if usage is not None:
            rec["tokens_in"] = _int(_get(usage, "prompt_tokens"))
            rec["tokens_out"] = _int(_get(usage, "completion_tokens"))
        for choice in _get(chunk, "choices") or ():
            if (_get(choice, "index") or 0) != 0:
                continue
            delta = _get(choice, "delta")
            text = _get(delta, "content")
            if isinstance(text, str) and text:
                parts.append(text)
                first = i if first is None else first
            for tc in _get(delta, "tool_calls") or ():
                first = i if first is None else first
                _merge_call(calls, tc)
            if _get(choice, "finish_reason"):
                md["finish_reason"] = _get(choice, "finish_reason")
    if calls:
        md["tool_calls"] = [calls[k] for k in sorted(calls)]
    rec["output"] = "".join(parts) if parts or not calls else _calls_text(md["tool_calls"])
    if first is not None:
        rec["ttft_s"] = call.first_time(first)


def _merge_call(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    index = _get(delta, "index") or 0
    slot = calls.setdefault(index, {"id": None, "name": None, "arguments": ""})
    slot["id"] = _get(delta, "id") or slot["id"]
    fn = _get(delta, "function")
    slot["name"] = _get(fn, "name") or slot["name"]
    args = _get(fn, "arguments")
    if isinstance(args, str):
        slot["arguments"] += args


def parse_openai(call: SdkCall) -> dict[str, Any]:
    """Record fields of one chat completion call (the exporter's thread only)."""
    rec = _base(call)
    if call.stream:
        _streamed(call, rec)
    elif call.result is not None:
        _whole(call.result, rec)
    return rec


def instrument_openai(
    client: Any = None, *, feature: str | None = None, version: str | None = None
) -> Instrumentation:
    """Record every ``chat.completions.create`` call of the official ``openai`` SDK.

    Args:
        client: an ``OpenAI`` / ``AsyncOpenAI`` client to instrument alone; ``None``
            patches the SDK's classes, so every client (existing or future) is recorded.
        feature, version: stored with every record (defaults: ``configure()``'s).

    Returns:
        A handle whose ``undo()`` restores the SDK. Never raises: without the SDK, or
        when it cannot be patched, the handle patches nothing and the reason is logged.
    """
    inst = Instrumentation("openai")
    meta = Meta(feature=feature, version=version, name="openai.chat.completions.create")
    try:
        import openai
        from openai.resources.chat.completions import AsyncCompletions, Completions
    except Exception as exc:
        import logging

        logging.getLogger("pilotgate.instrument").warning(
            "pilotgate.instrument_openai: the openai SDK is not importable (%s): "
            "pip install openai",
            exc,
        )
        return inst
    streams = (openai.Stream, openai.AsyncStream)
    if client is None:
        owners: list[tuple[Any, bool]] = [(Completions, False), (AsyncCompletions, True)]
        from openai._base_client import AsyncAPIClient, SyncAPIClient

        retry: list[Any] = [SyncAPIClient, AsyncAPIClient]
    else:
        resource = client.chat.completions
        owners = [(resource, isinstance(resource, AsyncCompletions))]
        retry = [client]
    patch(inst, owners, meta, parse_openai, streams, retry)
    return inst
