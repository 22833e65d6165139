"""What the load sends: inputs with production's prompt- and output-length mix, as bytes.

Request bodies are encoded once per distinct input before the run starts, so the hot path
does no JSON encoding; the body shapes follow :class:`~pilotgate.targets.TargetConfig`
(OpenAI chat completions, or an HTTP JSON template with ``{{input}}``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotgate.errors import ConfigError, InputError
from pilotgate.targets import TargetConfig

__all__ = ["Workload", "build_bodies", "endpoint_url", "request_headers"]

Message = dict[str, Any]
_DEFAULT_PROMPT = "Summarise the benefits of load testing an AI feature before its pilot."


@dataclass(frozen=True)
class Workload:
    """The inputs to draw from, with an optional per-input output length (``max_tokens``).

    Requests pick inputs uniformly at random (seeded), so the prompt-length mix and, when
    ``max_tokens`` is known per input, the output-length mix follow the source file.
    """

    inputs: list[str | list[Message]] = field(default_factory=lambda: [_DEFAULT_PROMPT])
    max_tokens: list[int | None] = field(default_factory=lambda: [None])

    def __post_init__(self) -> None:
        if not self.inputs:
            raise InputError("the workload has no inputs", fix="give at least one case")
        if len(self.max_tokens) != len(self.inputs):
            raise ValueError("max_tokens must have one entry per input")

    @classmethod
    def from_texts(cls, texts: Sequence[str | list[Message]]) -> Workload:
        return cls(list(texts), [None] * len(texts))

    @classmethod
    def from_file(cls, path: str | Path) -> Workload:
        """Read a cases or ingest JSONL file; output lengths come from ``tokens_out``.

        ``tokens_out`` (ingest interactions) or ``max_tokens`` (a case's extra field) give a
        request's output length; when neither is present the target's own setting applies.
        """
        from pilotgate.records import iter_jsonl, read_cases

        cases, _ = read_cases(path)
        lengths: dict[str, int] = {}
        for _, obj in iter_jsonl(path):
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                n = obj.get("tokens_out", obj.get("max_tokens"))
                if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                    lengths[obj["id"]] = n
        return cls([c.input for c in cases], [lengths.get(c.id) for c in cases])

    @property
    def mean_input_chars(self) -> float:
        total = 0
        for item in self.inputs:
            total += len(item) if isinstance(item, str) else len(json.dumps(item))
        return total / len(self.inputs)


def _adapter(target: TargetConfig) -> Any:
    from pilotgate.targets import build_target

    return build_target(target)


def endpoint_url(target: TargetConfig) -> str:
    """The one URL a run sends to (the engine never sends anywhere else)."""
    if not target.url:
        raise ConfigError(f"a {target.kind} target needs a url", where="target.url")
    return str(_adapter(target).endpoint)


def request_headers(target: TargetConfig) -> dict[str, str]:
    """The adapter's headers (API key from its environment variable, ``${ENV}`` values)."""
    return dict(_adapter(target).request_headers())


def build_bodies(target: TargetConfig, workload: Workload) -> list[bytes]:
    """One encoded request body per workload input, built as the target adapter builds it.

    A per-input output length (``max_tokens``) from the workload overrides the target's.
    """
    adapter = _adapter(target)
    bodies = []
    for item, max_tokens in zip(workload.inputs, workload.max_tokens, strict=True):
        body: Any = adapter.body(item)
        if target.kind in ("openai", "anthropic") and max_tokens is not None:
            body["max_tokens"] = max_tokens
        bodies.append(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return bodies
