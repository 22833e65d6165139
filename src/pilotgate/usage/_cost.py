"""Tokens and cost of the stored interactions, priced per model from the plan.

Interactions carry ``tokens_in`` / ``tokens_out`` and (from the SDK's OpenAI/Anthropic
instrumentation, or the application) ``metadata.model``; ``[prices.MODEL]`` in the plan
says what 1,000 tokens of each cost (``[prices.default]`` for models not listed). Sums run
in SQL per (model, day); the money is computed here, so a price change needs no re-ingest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pilotgate.plan import ModelPrice
from pilotgate.store import Store

__all__ = ["CostReport", "usage_cost"]

DEFAULT = "default"


@dataclass
class CostReport:
    """Tokens and money, overall, by day and by model."""

    calls: int = 0
    calls_with_tokens: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    by_day: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_model: dict[str, dict[str, Any]] = field(default_factory=dict)
    unpriced_models: list[str] = field(default_factory=list)

    @property
    def per_call(self) -> float | None:
        """Mean cost of a priced call with token counts (None: nothing priced)."""
        if self.cost is None or not self.calls_with_tokens:
            return None
        return self.cost / self.calls_with_tokens

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "calls_with_tokens": self.calls_with_tokens,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": None if self.cost is None else round(self.cost, 6),
            "cost_per_call": None if self.per_call is None else round(self.per_call, 8),
            "by_day": self.by_day,
            "by_model": self.by_model,
            "unpriced_models": self.unpriced_models,
        }


def _price(prices: Mapping[str, ModelPrice], model: str | None) -> ModelPrice | None:
    if model is not None and model in prices:
        return prices[model]
    return prices.get(DEFAULT)


def usage_cost(
    store: Store,
    prices: Mapping[str, ModelPrice],
    *,
    feature: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    metadata: Sequence[tuple[str, str]] = (),
    exact: bool = False,
) -> CostReport:
    """Tokens and cost of the interactions the filters select (``cost`` None: no prices).

    Read from the hourly token rollups for the window's whole hours and the raw rows at its
    edges, or (``exact``, a metadata slice, a read key's view of a shared store) from the
    raw rows: the sums are the same either way, and so is the money (priced per model and
    day from the summed tokens, added up in one order).
    """
    from pilotgate.usage._queries import Filters, Queries
    from pilotgate.usage._rollup_rows import rollable, token_rows

    f = Filters(
        feature, version, since, until, project=store.read_project, metadata=tuple(metadata)
    )
    raw = Queries(store).tokens(f) if exact or not rollable(store, f) else token_rows(store, f)
    rep = CostReport()
    priced_any = bool(prices)
    total = 0.0
    unpriced: set[str] = set()
    for (model, day), (n, n_tok, t_in, t_out) in _summed(raw):
        name = "(unknown)" if model is None else str(model)
        price = _price(prices, None if model is None else str(model))
        cost = price.cost(t_in, t_out) if price is not None else None
        if cost is None and n_tok:
            unpriced.add(name)
        rep.calls += n
        rep.calls_with_tokens += n_tok if cost is not None else 0
        rep.tokens_in += t_in
        rep.tokens_out += t_out
        total += cost or 0.0
        for book, key in ((rep.by_day, str(day)), (rep.by_model, name)):
            row = book.setdefault(key, {"calls": 0, "tokens_in": 0, "tokens_out": 0, "cost": None})
            row["calls"] += n
            row["tokens_in"] += t_in
            row["tokens_out"] += t_out
            if cost is not None:
                row["cost"] = round((row["cost"] or 0.0) + cost, 6)
    rep.cost = total if priced_any else None
    rep.unpriced_models = sorted(unpriced)
    rep.by_day = dict(sorted(rep.by_day.items()))
    return rep


def _summed(rows: Sequence[Any]) -> list[tuple[tuple[Any, str], tuple[int, int, int, int]]]:
    """The rows' integer sums per (model, day), sorted: the money is then added up in the
    same order whichever source (rollups and edges, or raw rows) the rows came from."""
    acc: dict[tuple[Any, str], list[int]] = {}
    for model, day, n, n_tok, t_in, t_out in rows:
        cur = acc.setdefault((model, str(day)), [0, 0, 0, 0])
        for k, v in enumerate((n, n_tok, t_in, t_out)):
            cur[k] += int(v or 0)
    order = sorted(acc, key=lambda k: (k[0] is not None, str(k[0] or ""), k[1]))
    return [(k, (acc[k][0], acc[k][1], acc[k][2], acc[k][3])) for k in order]
