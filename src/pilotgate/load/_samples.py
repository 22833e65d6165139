"""Raw per-request samples: recorded into flat lists, kept as numpy columns, merged exactly.

Percentiles are computed from every raw sample, never from buckets, so merging the
samples of shards and computing percentiles gives exactly what one run over the union
would report. Times are seconds from the run's common start (``t0``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["COUNTERS", "ERROR_CLASSES", "Recorder", "Samples"]

# Index = the error code stored per request; "" means success.
ERROR_CLASSES: tuple[str, ...] = (
    "",
    "http",
    "timeout",
    "connection",
    "cancelled",
    "exception",
    "parse",
)
_NAN = math.nan

# Connection-level counts a sender keeps (summed when shards merge).
COUNTERS: tuple[str, ...] = ("connections_used", "resent_after_reset")
_FLOAT_COLS = ("intended", "dispatched", "sent", "last_sent", "first_token", "end", "wait")
_INT_COLS = ("tokens", "status", "retries", "error", "n_itl", "index")


class Recorder:
    """Append-only columns filled on the hot path (plain lists: cheapest per append)."""

    def __init__(self) -> None:
        self.index: list[int] = []
        self.intended: list[float] = []
        self.dispatched: list[float] = []
        self.sent: list[float] = []
        self.last_sent: list[float] = []
        self.first_token: list[float] = []
        self.end: list[float] = []
        self.wait: list[float] = []
        self.tokens: list[int] = []
        self.status: list[int] = []
        self.retries: list[int] = []
        self.error: list[int] = []
        self.n_itl: list[int] = []
        self.itl: list[float] = []
        self.by_status: dict[str, int] = {}
        # Attempts by HTTP status (> 0) or by -error class (<= 0), counted on the hot path
        # with int keys and folded into ``by_status`` by :meth:`samples`.
        self.codes: dict[int, int] = {}
        self.ratelimit: dict[str, str] = {}
        self.ratelimit_min: dict[str, float] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def add(
        self,
        index: int,
        intended: float,
        dispatched: float,
        sent: float,
        last_sent: float,
        first_token: float,
        end: float,
        wait: float,
        tokens: int,
        status: int,
        retries: int,
        error: int,
        itl: Sequence[float] | None,
    ) -> None:
        self.index.append(index)
        self.intended.append(intended)
        self.dispatched.append(dispatched)
        self.sent.append(sent)
        self.last_sent.append(last_sent)
        self.first_token.append(first_token)
        self.end.append(end)
        self.wait.append(wait)
        self.tokens.append(tokens)
        self.status.append(status)
        self.retries.append(retries)
        self.error.append(error)
        if itl:
            self.itl.extend(itl)
            self.n_itl.append(len(itl))
        else:
            self.n_itl.append(0)

    def samples(self) -> Samples:
        cols: dict[str, np.ndarray] = {}
        for name in _FLOAT_COLS:
            cols[name] = np.asarray(getattr(self, name), dtype=np.float64)
        for name in _INT_COLS:
            cols[name] = np.asarray(getattr(self, name), dtype=np.int64)
        by_status = dict(self.by_status)
        for code, n in self.codes.items():
            key = str(code) if code > 0 else ERROR_CLASSES[-code]
            by_status[key] = by_status.get(key, 0) + n
        return Samples(
            cols=cols,
            itl=np.asarray(self.itl, dtype=np.float64),
            by_status=dict(sorted(by_status.items())),
            ratelimit=dict(self.ratelimit),
            ratelimit_min=dict(self.ratelimit_min),
            counters=dict(self.counters),
        )


@dataclass
class Samples:
    """Every request of a run (or of merged shards) as numpy columns.

    Columns: ``index`` (position in the unsharded plan), ``intended``, ``dispatched`` (the
    scheduler released it), ``sent`` (first attempt on the wire, after any slot wait),
    ``last_sent`` (final attempt), ``first_token`` (NaN if not streamed), ``end``, ``wait``
    (retry backoff slept), ``tokens`` (output), ``status`` (final HTTP status, 0 if none),
    ``retries``, ``error`` (an index into :data:`ERROR_CLASSES`), ``n_itl``. ``itl`` holds
    every inter-token gap, request after request.
    """

    cols: dict[str, np.ndarray]
    itl: np.ndarray
    by_status: dict[str, int] = field(default_factory=dict)
    ratelimit: dict[str, str] = field(default_factory=dict)
    ratelimit_min: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    """Connections that carried requests, and sends repeated after a reset (see COUNTERS)."""

    def __len__(self) -> int:
        return len(self.cols["end"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    @classmethod
    def empty(cls) -> Samples:
        return Recorder().samples()

    @classmethod
    def concat(cls, parts: Iterable[Samples]) -> Samples:
        """Merge runs exactly: rows in plan order, attempt counts summed."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        cols = {k: np.concatenate([p.cols[k] for p in parts]) for k in parts[0].cols}
        # Re-order rows (and their ITL runs) by plan position, for a canonical order.
        order = np.lexsort((cols["intended"], cols["index"]))
        starts: np.ndarray = np.concatenate([[0], np.cumsum(cols["n_itl"])[:-1]]).astype(np.int64)
        itl_all = np.concatenate([p.itl for p in parts])
        pieces = [itl_all[starts[i] : starts[i] + cols["n_itl"][i]] for i in order]
        cols = {k: v[order] for k, v in cols.items()}
        itl = np.concatenate(pieces) if pieces else np.asarray([], dtype=np.float64)
        by_status: dict[str, int] = {}
        rl: dict[str, str] = {}
        rl_min: dict[str, float] = {}
        counters = dict.fromkeys(COUNTERS, 0)
        for p in parts:
            for k, n in p.counters.items():
                counters[k] = counters.get(k, 0) + n
            for k, v in p.by_status.items():
                by_status[k] = by_status.get(k, 0) + v
            rl.update(p.ratelimit)
            for k, m in p.ratelimit_min.items():
                rl_min[k] = min(m, rl_min.get(k, m))
        return cls(cols, itl, dict(sorted(by_status.items())), rl, rl_min, counters)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.cols.items():
            out[k] = [None if (isinstance(x, float) and math.isnan(x)) else x for x in v.tolist()]
        out["itl"] = self.itl.tolist()
        out["by_status"] = self.by_status
        out["ratelimit"] = self.ratelimit
        out["ratelimit_min"] = self.ratelimit_min
        out["counters"] = self.counters
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Samples:
        cols: dict[str, np.ndarray] = {}
        for name in _FLOAT_COLS:
            cols[name] = np.asarray([_NAN if x is None else x for x in doc[name]], dtype=np.float64)
        for name in _INT_COLS:
            cols[name] = np.asarray(doc[name], dtype=np.int64)
        return cls(
            cols,
            np.asarray(doc.get("itl", []), dtype=np.float64),
            {str(k): int(v) for k, v in doc.get("by_status", {}).items()},
            {str(k): str(v) for k, v in doc.get("ratelimit", {}).items()},
            {str(k): float(v) for k, v in doc.get("ratelimit_min", {}).items()},
            {
                **dict.fromkeys(COUNTERS, 0),
                **{str(k): int(v) for k, v in doc.get("counters", {}).items()},
            },
        )
