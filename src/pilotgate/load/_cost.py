"""What a load level cost, priced from the plan (``[prices.MODEL]``) or the target's prices.

Output tokens are counted per request (the usage a streamed or plain answer reports);
input tokens are estimated from the inputs' length (4 characters a token), as the
pre-run estimate does, and the document says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pilotgate.load._safety import _CHARS_PER_TOKEN
from pilotgate.load._workload import Workload
from pilotgate.plan import ModelPrice
from pilotgate.targets import TargetConfig

__all__ = ["add_cost", "target_price"]


def target_price(target: TargetConfig, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The target's own prices, else the plan's for its model, else ``[prices.default]``."""
    if target.price_input_per_1k is not None or target.price_output_per_1k is not None:
        return ModelPrice(
            input_per_1k=target.price_input_per_1k or 0.0,
            output_per_1k=target.price_output_per_1k or 0.0,
        )
    if target.model and target.model in prices:
        return prices[target.model]
    return prices.get("default")


def _level_cost(level: dict[str, Any], price: ModelPrice, in_per_call: float) -> dict[str, Any]:
    req = level.get("requests") or {}
    ok = int(req.get("ok") or 0)
    sent = int(req.get("sent") or 0)
    tokens_out = int(req.get("output_tokens") or 0)
    tokens_in = round(in_per_call * sent)
    total = price.cost(tokens_in, tokens_out)
    return {
        "total": round(total, 6),
        "per_call": round(total / ok, 8) if ok else None,
        "tokens_in_estimated": tokens_in,
        "tokens_out": tokens_out,
        "input_per_1k": price.input_per_1k,
        "output_per_1k": price.output_per_1k,
    }


def add_cost(doc: dict[str, Any], price: ModelPrice | None, workload: Workload) -> None:
    """Add ``cost`` to the document and each of its levels (nothing without a price)."""
    if price is None:
        return
    in_per_call = workload.mean_input_chars / _CHARS_PER_TOKEN
    for level in doc.get("levels") or []:
        level["cost"] = _level_cost(level, price, in_per_call)
    doc["cost"] = _level_cost(doc, price, in_per_call)
