"""Chat completions: validate a request, plan its reply from a seeded RNG, render OpenAI's JSON.

Everything random about a reply (error roll, length, delays, words, id) is drawn
here, in a fixed order, from one RNG derived from the request itself, so the same
request gets the same reply whatever else is in flight.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any

from pilotgate.simulator._profile import SimulatorProfile
from pilotgate.simulator._text import make_tokens, prompt_tokens, reply_prefix

__all__ = ["BadRequest", "Plan", "StreamRenderer", "error_body", "parse_body", "plan_reply"]

FINGERPRINT = "fp_pilotgate"


class BadRequest(Exception):
    """The request body is not a valid chat completion request; ``param`` names the field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> bytes:
    """OpenAI's error document."""
    err = {"message": message, "type": type_, "param": param, "code": code}
    return json.dumps({"error": err}).encode()


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode and check the fields the simulator relies on.

    Raises:
        BadRequest: not JSON, no ``messages`` list, or a bad ``max_tokens`` / ``stream``.
    """
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"We could not parse the JSON body of your request: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty array.", "messages")
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise BadRequest("Each message must be an object with a 'role'.", "messages")
    for name in ("max_tokens", "max_completion_tokens"):
        cap = body.get(name)
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
            raise BadRequest(f"'{name}' must be an integer >= 1.", name)
    if not isinstance(body.get("stream", False), bool):
        raise BadRequest("'stream' must be a boolean.", "stream")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("'model' must be a string.", "model")
    return body


def body_digest(body: dict[str, Any]) -> bytes:
    """A digest of what determines the reply: the body without its transport options
    (``stream``, ``stream_options``), so streamed and whole replies to a request agree."""
    key = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    canon = json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.blake2b(canon.encode(), digest_size=16).digest()


def request_rng(seed: int, digest: bytes, occurrence: int) -> random.Random:
    """The RNG of the ``occurrence``-th request (0-based) with body ``digest`` under ``seed``."""
    key = b"%d:%d:" % (seed, occurrence) + digest
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


@dataclass(slots=True)
class Plan:
    """Everything about one reply, decided before any of it is sent."""

    rid: str
    model: str
    prompt_tokens: int
    tokens: list[str]
    finish_reason: str
    ttft_s: float
    gaps_s: list[float]
    """Delays before tokens 2..n (len(tokens) - 1 values)."""
    error: bool
    tool: tuple[str, str] | None = None
    """A forced tool call: its name and JSON arguments (streamed: in one piece per token)."""

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens)

    @property
    def duration_s(self) -> float:
        """Time from getting a slot to the last token."""
        return self.ttft_s + sum(self.gaps_s)


def plan_reply(body: dict[str, Any], profile: SimulatorProfile, rng: random.Random) -> Plan:
    """Draw the reply for ``body`` (fixed draw order: error, length, ttft, gaps, id, words)."""
    error = profile.error_rate > 0 and rng.random() < profile.error_rate
    n = max(1, round(profile.output_tokens.sample(rng)))
    finish = "stop"
    cap = body.get("max_completion_tokens") or body.get("max_tokens")
    if cap is not None and n > cap:
        n, finish = cap, "length"
    ttft = profile.ttft_ms.sample(rng) / 1000.0
    tok = profile.token_ms
    if tok.kind == "constant":
        gaps = [tok.sample(rng) / 1000.0] * (n - 1)
    else:
        gaps = [tok.sample(rng) / 1000.0 for _ in range(n - 1)]
    rid = f"chatcmpl-{rng.getrandbits(96):024x}"
    messages = body["messages"]
    tokens = make_tokens(rng, n, reply_prefix(messages))
    model = body.get("model") or profile.models[0]
    plan = Plan(rid, model, prompt_tokens(messages), tokens, finish, ttft, gaps, error)
    name = forced_function(body)
    if name is not None:
        plan.tool = (name, tool_arguments(body, name, "".join(tokens).strip()))
        plan.finish_reason = "tool_calls"
    return plan


def forced_function(body: dict[str, Any]) -> str | None:
    """The function ``tool_choice`` forces: a named function, or the first with "required"."""
    choice, tools = body.get("tool_choice"), body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    names = [_tool_name(t) for t in tools]
    if choice == "required":
        return names[0]
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        return name if isinstance(name, str) and name in names else None
    return None


def _tool_name(tool: Any) -> str | None:
    """An OpenAI tool's ``function.name`` (or an Anthropic tool's top-level ``name``)."""
    if not isinstance(tool, dict):
        return None
    fn = tool.get("function")
    name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
    return name if isinstance(name, str) else None


def tool_arguments(body: dict[str, Any], name: str, text: str) -> str:
    """JSON arguments for a forced call: every required parameter gets the reply text."""
    required: list[Any] = []
    for tool in body.get("tools") or ():
        if not isinstance(tool, dict):
            continue
        inner = tool.get("function")
        fn: dict[str, Any] = inner if isinstance(inner, dict) else tool
        if fn.get("name") != name:
            continue
        params = fn.get("parameters") or fn.get("input_schema") or {}
        required = (params.get("required") or []) if isinstance(params, dict) else []
        break
    args = {str(k): text for k in required if isinstance(k, str)} or {"input": text}
    return json.dumps(args, ensure_ascii=False)


def usage(plan: Plan) -> dict[str, int]:
    p, c = plan.prompt_tokens, plan.completion_tokens
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def call_id(plan: Plan) -> str:
    """The id of a plan's tool call."""
    return "call_" + plan.rid[-24:]


def argument_pieces(plan: Plan) -> list[str]:
    """A forced call's JSON arguments cut into one piece per token, last piece first
    (so a renderer pops them in order); empty when the plan has no tool call."""
    if plan.tool is None:
        return []
    args, n = plan.tool[1], len(plan.tokens)
    step = -(-len(args) // n)
    return [args[i * step : (i + 1) * step] for i in range(n)][::-1]


def _message(plan: Plan) -> dict[str, Any]:
    if plan.tool is None:
        return {"role": "assistant", "content": "".join(plan.tokens), "refusal": None}
    name, args = plan.tool
    fn = {"name": name, "arguments": args}
    call: dict[str, Any] = {"id": call_id(plan), "type": "function", "function": fn}
    return {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}


def render_completion(plan: Plan, created: int) -> bytes:
    """The non-streaming ``chat.completion`` document."""
    doc = {
        "id": plan.rid,
        "object": "chat.completion",
        "created": created,
        "model": plan.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": _message(plan),
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
        ],
        "usage": usage(plan),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


class StreamRenderer:
    """Server-sent events of one streamed reply, as ``chat.completion.chunk`` documents.

    Token events are built from a pre-rendered prefix and suffix so that each costs
    one string escape and two concatenations, not a ``json.dumps`` of a whole dict.
    """

    __slots__ = ("_head", "_tail", "_usage_null", "_args", "plan")

    def __init__(self, plan: Plan, created: int, include_usage: bool) -> None:
        self.plan = plan
        self._args = argument_pieces(plan)
        model = encode_basestring_ascii(plan.model)
        self._head = (
            f'data: {{"id":"{plan.rid}","object":"chat.completion.chunk","created":{created},'
            f'"model":{model},"system_fingerprint":"{FINGERPRINT}","choices":[{{"index":0,"delta":'
        ).encode()
        self._usage_null = ',"usage":null' if include_usage else ""
        self._tail = f',"logprobs":null,"finish_reason":null}}]{self._usage_null}}}\n\n'.encode()

    def role(self) -> bytes:
        """The first event: the assistant role with empty content (or the tool call's head)."""
        if self.plan.tool is not None:
            call = {"index": 0, "id": call_id(self.plan), "type": "function"}
            call["function"] = {"name": self.plan.tool[0], "arguments": ""}
            delta = {"role": "assistant", "content": None, "tool_calls": [call]}
            return self._head + json.dumps(delta, separators=(",", ":")).encode() + self._tail
        return self._head + b'{"role":"assistant","content":""}' + self._tail

    def token(self, piece: str) -> bytes:
        """One content event (for a tool call: the next piece of its arguments)."""
        if self._args:
            args = encode_basestring_ascii(self._args.pop()).encode()
            delta = b'{"tool_calls":[{"index":0,"function":{"arguments":' + args + b"}}]}"
            return self._head + delta + self._tail
        return (
            self._head
            + b'{"content":'
            + encode_basestring_ascii(piece).encode()
            + b"}"
            + self._tail
        )

    def finish(self) -> bytes:
        """The event carrying ``finish_reason``, with an empty delta."""
        tail = f',"logprobs":null,"finish_reason":"{self.plan.finish_reason}"}}]'
        return self._head + b"{}" + f"{tail}{self._usage_null}}}\n\n".encode()

    def usage(self) -> bytes:
        """The ``stream_options.include_usage`` event: no choices, the usage totals
        (nothing when the request did not ask for it)."""
        if not self._usage_null:
            return b""
        head = self._head.split(b'"choices":')[0]
        return head + b'"choices":[],"usage":' + json.dumps(usage(self.plan)).encode() + b"}\n\n"

    @staticmethod
    def done() -> bytes:
        return b"data: [DONE]\n\n"
