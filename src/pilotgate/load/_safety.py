"""Guard rails: only loopback targets without consent, and an estimate before any send.

A load test aimed at the wrong URL is a denial-of-service attack and a bill; so a target
that is not on this machine needs explicit consent, and the CLI prints how many requests,
tokens and (given prices) how much money the run may cost before it starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from pilotgate._net import is_loopback_host, safe_url
from pilotgate.errors import ConfigError
from pilotgate.load._config import LoadConfig, Shard
from pilotgate.load._workload import Workload, endpoint_url
from pilotgate.targets import TargetConfig

__all__ = ["Estimate", "check_target", "estimate", "is_loopback", "require_consent"]

_CHARS_PER_TOKEN = 4.0
_DEFAULT_OUTPUT_TOKENS = 256


def is_loopback(url: str) -> bool:
    """True when ``url``'s host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(".localhost") or is_loopback_host(host)


def check_target(target: TargetConfig, cfg: LoadConfig) -> str:
    """The URL (or function) a run will call, fit to print or store (no user:password);
    refuses a remote one without consent."""
    if target.kind == "python":
        return f"python:{target.function}"
    url = safe_url(endpoint_url(target))
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ConfigError(f"unsupported URL scheme {scheme!r}", where=url, fix="use http(s)://")
    require_consent(target, cfg)
    return url


def require_consent(
    target: TargetConfig,
    cfg: LoadConfig,
    *,
    fix: str = "check the estimate and pass --yes (or set load.allow_remote in the plan)",
) -> None:
    """Refuse a target off this machine unless ``cfg.allow_remote`` (consent) is set."""
    if target.kind == "python":
        return
    url = safe_url(endpoint_url(target))
    if not cfg.allow_remote and not is_loopback(url):
        raise ConfigError(
            "the target is not on loopback; a load test sends real traffic (and cost) there",
            where=url,
            fix=fix,
        )


@dataclass(frozen=True)
class Estimate:
    """The most a run can send: requests (before retries), tokens and cost."""

    requests: int
    max_requests_with_retries: int
    input_tokens: int
    output_tokens: int
    cost: float | None

    def describe(self) -> str:
        parts = [
            f"≈ {self.requests:,} requests (≤ {self.max_requests_with_retries:,} attempts "
            "with retries)",
            f"≈ {self.input_tokens:,} input tokens",
            f"≤ {self.output_tokens:,} output tokens",
        ]
        if self.cost is not None:
            parts.append(f"≈ {self.cost:,.2f} in cost")
        return ", ".join(parts)


def estimate(
    cfg: LoadConfig,
    target: TargetConfig,
    workload: Workload,
    *,
    mean_latency_s: float = 1.0,
    shard: Shard | None = None,
) -> Estimate:
    """Estimate a run's volume (open loop: an upper bound; closed loop: assumes
    ``mean_latency_s`` per request). With ``shard``, this shard's part of it."""
    if cfg.rate is not None:
        r1 = cfg.ramp_to if cfg.ramp_to is not None else cfg.rate
        n = math.ceil(0.5 * (cfg.rate + r1) * cfg.duration_s)
    else:
        users = max(cfg.concurrency or 1, round(cfg.ramp_to or 0))
        per_user = cfg.duration_s / max(mean_latency_s + cfg.think_time_s, 1e-3)
        n = math.ceil(users * per_user)
    n = min(n, cfg.max_requests)
    if shard is not None and shard.count > 1:
        n = math.ceil(n / shard.count)
    n_in = math.ceil(n * workload.mean_input_chars / _CHARS_PER_TOKEN)
    lengths = [m or target.max_tokens or _DEFAULT_OUTPUT_TOKENS for m in workload.max_tokens]
    n_out = math.ceil(n * sum(lengths) / len(lengths))
    cost = None
    if target.price_input_per_1k is not None or target.price_output_per_1k is not None:
        cost = (n_in / 1000.0) * (target.price_input_per_1k or 0.0) + (n_out / 1000.0) * (
            target.price_output_per_1k or 0.0
        )
    return Estimate(n, n * (1 + cfg.retry.max_retries), n_in, n_out, cost)
