"""The collector's settings (a pydantic model: every field documented)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pilotgate.redact import BUILTIN_KINDS

__all__ = ["CollectorSettings"]


class CollectorSettings(BaseModel):
    """How the collector authenticates, limits and redacts what it receives."""

    model_config = ConfigDict(frozen=True)

    require_key: bool = Field(
        default=True, description="Ask every write for 'Authorization: Bearer <API key>'."
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted, after decompression (413 beyond).",
    )
    redact: bool = Field(default=True, description="Redact PII before anything is stored.")
    redact_kinds: tuple[str, ...] = Field(
        default=BUILTIN_KINDS, description="Built-in PII kinds to redact."
    )
    pseudonymise_ids: bool = Field(
        default=True,
        description="With redaction on, store user_id and session_id as keyed hashes "
        "(HMAC with a secret kept in the store), never the raw ids.",
    )
    redact_patterns: dict[str, str] = Field(
        default_factory=dict, description="Extra NAME -> regex pairs to redact as [NAME]."
    )
    browser_rate_per_s: float = Field(
        default=5.0,
        gt=0,
        description="Requests a second one browser client (key and address) may send "
        "with a browser key; 429 with Retry-After beyond.",
    )
    browser_burst: int = Field(
        default=30, ge=1, description="Requests a browser client may send in a burst."
    )
