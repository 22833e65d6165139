"""OpenInference spans (Arize Phoenix's conventions) as interaction fields.

OpenInference names no ``gen_ai.*`` attribute: the model is ``llm.model_name``, the
messages are flattened as ``llm.input_messages.N.message.{role,content}`` (multimodal
content as ``…message.contents.M.message_content.text``), tool calls as
``…message.tool_calls.M.tool_call.function.{name,arguments}``, the raw request and
response as ``input.value`` / ``output.value`` (JSON or text), tokens as
``llm.token_count.{prompt,completion}``. Only spans whose ``openinference.span.kind`` is
``LLM`` are model calls; chains, tools, retrievers and agents around them are not.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["KIND", "is_openinference", "openinference_fields"]

KIND = "openinference.span.kind"
# llm.input_messages.0.message.content, …contents.1.message_content.text,
# …tool_calls.0.tool_call.function.name: index, then the rest of the key.
_MSG_KEY = re.compile(r"^llm\.(input|output)_messages\.(\d{1,6})\.message\.(.+)$")
_PART_KEY = re.compile(r"^contents\.(\d{1,6})\.message_content\.(text|type)$")
_CALL_KEY = re.compile(
    r"^tool_calls\.(\d{1,6})\.tool_call\.(id|function\.name|function\.arguments)$"
)


def is_openinference(attrs: dict[str, Any]) -> bool:
    return KIND in attrs


def _messages(attrs: dict[str, Any], side: str) -> list[dict[str, Any]]:
    msgs: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        m = _MSG_KEY.match(key)
        if m is None or m.group(1) != side:
            continue
        msg = msgs.setdefault(int(m.group(2)), {"parts": {}, "calls": {}})
        rest = m.group(3)
        if rest in ("role", "content", "name", "tool_call_id"):
            msg[rest] = value
            continue
        part = _PART_KEY.match(rest)
        if part is not None:
            msg["parts"].setdefault(int(part.group(1)), {})[part.group(2)] = value
            continue
        call = _CALL_KEY.match(rest)
        if call is not None:
            field = call.group(2).rsplit(".", 1)[-1]
            msg["calls"].setdefault(int(call.group(1)), {})[field] = value
    return [_message(msgs[i]) for i in sorted(msgs)]


def _message(raw: dict[str, Any]) -> dict[str, Any]:
    content = raw.get("content")
    if content is None and raw["parts"]:
        texts = [p.get("text") for _, p in sorted(raw["parts"].items())]
        content = "".join(t for t in texts if isinstance(t, str))
    out: dict[str, Any] = {"role": str(raw.get("role") or "user"), "content": content or ""}
    if raw["calls"]:
        out["tool_calls"] = [raw["calls"][i] for i in sorted(raw["calls"])]
    for name in ("name", "tool_call_id"):
        if raw.get(name) is not None:
            out[name] = raw[name]
    return out


def _loads(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _input_from_value(value: Any) -> list[dict[str, Any]] | str | None:
    doc = _loads(value)
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        return [
            {"role": str(m.get("role") or "user"), "content": m.get("content") or ""}
            for m in doc["messages"]
            if isinstance(m, dict)
        ]
    if isinstance(doc, str):
        return doc
    return None if doc is None else json.dumps(doc, ensure_ascii=False)


def _output_from_value(value: Any) -> str | None:
    doc = _loads(value)
    if isinstance(doc, dict):
        choices = doc.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message") or {}
            text = message.get("content") if isinstance(message, dict) else None
            if isinstance(text, str):
                return text
        return json.dumps(doc, ensure_ascii=False)
    return doc if isinstance(doc, str) else None


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def openinference_fields(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """Interaction fields of an OpenInference span; None when it is not an LLM span."""
    if str(attrs.get(KIND, "")).upper() != "LLM":
        return None
    inputs: list[dict[str, Any]] | str | None = _messages(attrs, "input")
    if not inputs:
        inputs = _input_from_value(attrs.get("input.value"))
    outputs = _messages(attrs, "output")
    output: str | None
    tool_calls = [c for m in outputs for c in m.get("tool_calls", ())]
    if outputs and any(m["content"] for m in outputs):
        output = "".join(_text(m["content"]) for m in outputs)
    elif tool_calls:
        output = json.dumps(tool_calls, ensure_ascii=False)
    else:
        output = _output_from_value(attrs.get("output.value"))
    meta = {
        "model": attrs.get("llm.model_name"),
        "provider": attrs.get("llm.provider") or attrs.get("llm.system"),
        "operation": "chat",
        "convention": "openinference",
        "finish_reason": attrs.get("llm.finish_reason"),
    }
    if tool_calls:
        meta["tool_calls"] = tool_calls
    return {
        "input": inputs or "",
        "output": output,
        "tokens_in": attrs.get("llm.token_count.prompt"),
        "tokens_out": attrs.get("llm.token_count.completion"),
        "session_id": attrs.get("session.id"),
        "user_id": attrs.get("user.id"),
        "metadata": {k: v for k, v in meta.items() if v is not None},
    }
