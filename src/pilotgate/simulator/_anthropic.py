"""Anthropic's Messages API (``POST /v1/messages``): validate, plan, render JSON and SSE.

The reply is planned by the same seeded :func:`plan_reply` as a chat completion (the
top-level ``system`` becomes a system message, so ``REPLY:`` works here too); only the
wire shapes differ: ``message`` documents, ``message_start`` → ``content_block_*`` →
``message_delta`` (usage) → ``message_stop`` events, and Anthropic's error document.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

from pilotgate.simulator._chat import BadRequest, Plan, argument_pieces

__all__ = [
    "AnthropicStreamRenderer",
    "anthropic_error",
    "as_chat_body",
    "parse_messages_body",
    "render_message",
]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
}
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def anthropic_error(status: int, message: str) -> bytes:
    """Anthropic's error document for an HTTP ``status``."""
    err = {"type": ERROR_TYPES.get(status, "api_error"), "message": message}
    return json.dumps({"type": "error", "error": err}).encode()


def parse_messages_body(raw: bytes) -> dict[str, Any]:
    """Decode and check a Messages API request (``model``, ``max_tokens``, ``messages``).

    Raises:
        BadRequest: what Anthropic's API would refuse with 400.
    """
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    if not isinstance(body.get("model"), str):
        raise BadRequest("model: Field required", "model")
    cap = body.get("max_tokens")
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        raise BadRequest("max_tokens: Field required (an integer >= 1)", "max_tokens")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: at least one message is required", "messages")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise BadRequest("messages: each role must be 'user' or 'assistant'", "messages")
    if not isinstance(body.get("stream", False), bool):
        raise BadRequest("stream: Input should be a valid boolean", "stream")
    return body


def as_chat_body(body: dict[str, Any]) -> dict[str, Any]:
    """The chat-completions view of a Messages request, for the shared reply planner."""
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if isinstance(system, str | list):
        messages.append({"role": "system", "content": system})
    messages.extend(body["messages"])
    chat: dict[str, Any] = {"messages": messages, "max_tokens": body["max_tokens"]}
    chat["model"] = body["model"]
    chat["stream"] = body.get("stream", False)
    for name in ("tools", "temperature", "stop_sequences", "metadata"):
        if name in body:
            chat[name] = body[name]
    tool = forced_tool(body)
    if tool is not None:
        chat["tool_choice"] = {"type": "function", "function": {"name": tool}}
    return chat


def forced_tool(body: dict[str, Any]) -> str | None:
    """The tool ``tool_choice`` forces (``{"type": "tool", "name": …}`` or ``any``)."""
    choice, tools = body.get("tool_choice"), body.get("tools")
    if not isinstance(choice, dict) or not isinstance(tools, list) or not tools:
        return None
    names = [t.get("name") for t in tools if isinstance(t, dict)]
    if choice.get("type") == "tool" and choice.get("name") in names:
        return str(choice["name"])
    if choice.get("type") == "any" and isinstance(names[0], str):
        return names[0]
    return None


def _message_id(plan: Plan) -> str:
    return "msg_" + plan.rid.rsplit("-", 1)[-1]


def _content(plan: Plan) -> list[dict[str, Any]]:
    if plan.tool is not None:
        name, args = plan.tool
        tool_id = "toolu_" + plan.rid.rsplit("-", 1)[-1][:20]
        return [{"type": "tool_use", "id": tool_id, "name": name, "input": json.loads(args)}]
    return [{"type": "text", "text": "".join(plan.tokens)}]


def render_message(plan: Plan) -> bytes:
    """The non-streamed ``message`` document."""
    doc = {
        "id": _message_id(plan),
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": _content(plan),
        "stop_reason": _STOP.get(plan.finish_reason, "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": plan.prompt_tokens, "output_tokens": plan.completion_tokens},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class AnthropicStreamRenderer:
    """Messages API server-sent events, with the same methods as the chat renderer.

    ``role()`` opens the message and its text block, ``token()`` is one
    ``content_block_delta``, ``finish()`` closes the block and sends the usage in
    ``message_delta``, ``done()`` is ``message_stop``.
    """

    __slots__ = ("plan", "_head", "_args")

    def __init__(self, plan: Plan, created: int, include_usage: bool) -> None:
        self.plan = plan
        self._args = argument_pieces(plan)
        self._head = (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":'
        )

    def role(self) -> bytes:
        plan = self.plan
        message: dict[str, Any] = {
            "id": _message_id(plan),
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": plan.prompt_tokens, "output_tokens": 1},
        }
        block: dict[str, Any] = {"type": "content_block_start", "index": 0}
        block["content_block"] = {"type": "text", "text": ""}
        if plan.tool is not None:
            tool_use = {**_content(plan)[0], "input": {}}
            block["content_block"] = tool_use
        return (
            _event("message_start", {"type": "message_start", "message": message})
            + _event("content_block_start", block)
            + _event("ping", {"type": "ping"})
        )

    def token(self, piece: str) -> bytes:
        if self._args:  # a tool call: the next piece of its JSON input
            delta = {"type": "input_json_delta", "partial_json": self._args.pop()}
            return _event(
                "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
            )
        return self._head + encode_basestring_ascii(piece).encode() + b"}}\n\n"

    def finish(self) -> bytes:
        plan = self.plan
        delta = {"stop_reason": _STOP.get(plan.finish_reason, "end_turn"), "stop_sequence": None}
        usage = {"output_tokens": plan.completion_tokens}
        return _event("content_block_stop", {"type": "content_block_stop", "index": 0}) + _event(
            "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
        )

    def usage(self) -> bytes:
        return b""

    @staticmethod
    def done() -> bytes:
        return _event("message_stop", {"type": "message_stop"})
