"""Typed definition of a target: how pilotgate calls the feature under test."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TargetConfig"]


class TargetConfig(BaseModel):
    """One ``[targets.NAME]`` table of the pilot plan, or a parsed ``--target`` string."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["python", "openai", "anthropic", "http"] = Field(
        description="Adapter: a Python callable, an OpenAI-compatible chat endpoint, "
        "Anthropic's Messages API, or HTTP JSON."
    )
    function: str | None = Field(
        default=None,
        description="python: 'pkg.module:function' (sync or async, text in, text out).",
    )
    url: str | None = Field(
        default=None,
        description="openai: base URL ending in /v1; anthropic: the API's base URL "
        "(/v1/messages is added); http: the full URL to POST to.",
    )
    model: str | None = Field(
        default=None, description="openai, anthropic: the model name to request."
    )
    api_key_env: str | None = Field(
        default=None,
        description="Environment variable holding the API key (the key itself is never stored).",
    )
    stream: bool = Field(
        default=False, description="openai, anthropic: request a streamed (SSE) response."
    )
    system_prompt: str | None = Field(
        default=None, description="openai: a system message to prepend."
    )
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="openai, anthropic: max_tokens to request (anthropic's default: 1024).",
    )
    temperature: float | None = Field(
        default=None, ge=0, description="openai, anthropic: sampling temperature."
    )
    request_template: dict[str, Any] | None = Field(
        default=None,
        description='http: JSON body; the string "{{input}}" in it is replaced by the input.',
    )
    response_path: str | None = Field(
        default=None,
        description="http: dotted path to the output, e.g. 'choices.0.message.content'.",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers to send.")
    timeout_s: float = Field(default=60.0, gt=0, description="Per-attempt timeout, seconds.")
    retries: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Retries on 429/503/connection errors (honour Retry-After).",
    )
    retry_backoff_s: float = Field(
        default=0.5,
        gt=0,
        description="Base of the jittered exponential backoff when no Retry-After is given.",
    )
    retry_backoff_max_s: float = Field(
        default=20.0, gt=0, description="Cap of one backoff wait, seconds."
    )
    retry_max_wait_s: float = Field(
        default=60.0,
        ge=0,
        description="Longest Retry-After honoured; a server asking for more is not retried.",
    )
    retry_seed: int = Field(default=0, description="Seed of the backoff jitter (reproducible).")
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="openai: extra request fields (seed, top_p, stop…) merged into the body.",
    )
    stream_usage: bool = Field(
        default=True,
        description="openai, streamed: ask for usage in the final chunk (stream_options).",
    )
    tokens_in_path: str | None = Field(
        default=None, description="http: dotted path to the prompt token count, if any."
    )
    tokens_out_path: str | None = Field(
        default=None, description="http: dotted path to the output token count, if any."
    )
    price_input_per_1k: float | None = Field(
        default=None, ge=0, description="Cost per 1,000 input tokens, for load-test cost estimates."
    )
    price_output_per_1k: float | None = Field(
        default=None,
        ge=0,
        description="Cost per 1,000 output tokens, for load-test cost estimates.",
    )
