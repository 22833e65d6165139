"""A full build in bounded memory: the feature's streams read in chunks, written as computed.

Why: a first build held every row, text and signal of the feature at once (about
1.5 GB per million interactions). A stream (a user's, else a session's rows) is all a
signal reads, so the rows are read ordered by stream key and handed on in chunks of
whole streams; what crosses chunks is the daily rollup's deltas (a few rows per day).

The similarity threshold is calibrated before the chunks, exactly as
:func:`~pilotgate.signals._similarity.Similarity.build` would on all rows at once: its
seeded sample of null pairs depends on the order streams first appear in the feature's
rows and on how many candidate pairs and texts each holds, so a counting pass keeps
those per stream, the same random draws pick positions, and a second pass fetches the
few thousand texts at them.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pilotgate.plan import SignalsSection
from pilotgate.signals._compute import compute, journeys, streams
from pilotgate.signals._load import (
    _COLS,
    _row,
    chunks,
    load_feedback,
    load_outputs,
    load_rows,
    load_steps,
    row_text,
)
from pilotgate.signals._rules import Row, answered_at, stream_key
from pilotgate.signals._similarity import _NULL_PAIRS, calibrate, candidate_pairs
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pilotgate.store import Store

__all__ = ["CHUNK_ROWS", "build_chunks", "calibrated_threshold", "stream_chunks"]

#: rows per chunk (whole streams: a chunk holds at least one stream, however long)
CHUNK_ROWS = 20_000  # the default of _refresh.FULL_CHUNK_ROWS


def _key_expr() -> Any:
    c = t.interactions.c
    return case(
        (and_(c.user_id.isnot(None), c.user_id != ""), literal("u:") + c.user_id),
        (and_(c.session_id.isnot(None), c.session_id != ""), literal("s:") + c.session_id),
        else_=None,
    )


def stream_chunks(store: Store, feature: str, chunk: int = CHUNK_ROWS) -> Iterator[list[Row]]:
    """The feature's rows ordered by stream key, in chunks of whole streams (rows of
    nobody's come as their own chunks)."""
    c = t.interactions.c
    q = select(*[c[n] for n in _COLS]).where(c.feature == feature).order_by(_key_expr())
    out: list[Row] = []
    last: str | None = None
    with store.engine.connect() as conn:
        for r in conn.execution_options(yield_per=5_000).execute(q):
            row = _row(r)
            key = stream_key(row)
            if len(out) >= chunk and (key is None or key != last):
                yield out
                out = []
            out.append(row)
            last = key
    if out:
        yield out


def _first_seen(store: Store, feature: str) -> dict[str, int]:
    """Each stream key's rank by first appearance in the unordered read of the feature
    (the order an in-memory build grouped its streams in)."""
    c = t.interactions.c
    # no index holds (feature, user_id, session_id): the plan, and so the order, is the
    # in-memory build's read of every column
    q = select(c.user_id, c.session_id).where(c.feature == feature)
    rank: dict[str, int] = {}
    with store.engine.connect() as conn:
        for r in conn.execution_options(yield_per=20_000).execute(q):
            key = (
                ("u:" + r.user_id) if r.user_id else ("s:" + r.session_id) if r.session_id else None
            )
            if key is not None and key not in rank:
                rank[key] = len(rank)
    return rank


def _counts(store: Store, feature: str, window_s: float) -> dict[str, tuple[int, int]]:
    """Per stream key: its candidate pairs and null-pool rows (``candidate_pairs`` and
    ``_null_pairs``' rules on (ts, id, has text, answered at) tuples: no :class:`Row`)."""
    c = t.interactions.c
    cols = (c.id, c.ts, c.user_id, c.session_id, c.latency_ms, c.input, c.input_messages)
    q = select(*cols).where(c.feature == feature).order_by(_key_expr())
    counts: dict[str, tuple[int, int]] = {}
    items: list[tuple[datetime, str, bool, datetime]] = []
    last: str | None = None

    def flush() -> None:
        if last is None:
            return
        items.sort()
        pairs = sum(1 for a, b in zip(items, items[1:], strict=False)
                    if a[2] and b[2] and (b[0] - a[3]).total_seconds() <= window_s)  # fmt: skip
        counts[last] = (pairs, sum(1 for x in items if x[2]))

    with store.engine.connect() as conn:
        for r in conn.execution_options(yield_per=5_000).execute(q):
            key = (
                ("u:" + r.user_id) if r.user_id else ("s:" + r.session_id) if r.session_id else None
            )
            if key != last:
                flush()
                items, last = [], key
            if key is not None:
                answered = answered_at(r.ts, r.latency_ms)
                items.append((r.ts, r.id, bool(row_text(r).strip()), answered))
    flush()
    return counts


def _pairs_and_pool(items: list[Row], window_s: float) -> tuple[list[tuple[Row, Row]], list[Row]]:
    """A stream's candidate pairs and its rows in the null pool, in build order."""
    return candidate_pairs(items, window_s), [r for r in items if r.text.strip()]


def calibrated_threshold(
    store: Store, feature: str, cfg: SignalsSection, seed: int, chunk: int = CHUNK_ROWS
) -> float | None:
    """The threshold a build over all rows at once calibrates (``Similarity.build``);
    None when the plan fixes it or matching is by text alone (see :func:`build_chunks`)."""
    if cfg.similarity == "none" or cfg.similarity_threshold is not None:
        return None
    counts = _counts(store, feature, cfg.rephrase_window_s)
    n_pairs = sum(p for p, _ in counts.values())
    if n_pairs == 0:
        return 1.01
    rank = _first_seen(store, feature)
    keys = sorted(counts, key=rank.__getitem__)
    pair_end = list(accumulate(counts[k][0] for k in keys))
    pool_end = list(accumulate(counts[k][1] for k in keys))
    null: list[tuple[int, int]] = []  # (pair index, pool index), as _null_pairs draws them
    if pool_end[-1] >= 2:
        rng = random.Random(f"signals-null:{seed}")
        chosen = (
            range(n_pairs) if n_pairs <= _NULL_PAIRS else rng.sample(range(n_pairs), _NULL_PAIRS)
        )
        for a in chosen:
            ka = bisect_right(pair_end, a)
            for _try in range(5):
                j = rng.randrange(pool_end[-1])
                if bisect_right(pool_end, j) != ka:
                    null.append((a, j))
                    break
    texts = _texts_at(store, feature, cfg, null, keys, pair_end, pool_end, chunk)
    pairs_text = [(texts[("p", a)], texts[("t", j)]) for a, j in null]
    if len(pairs_text) < 20:
        return calibrate(cfg, [])
    from pilotgate.embeddings import StoreEmbeddingCache, embed_texts
    from pilotgate.signals._similarity import _embedder, _unit

    distinct = list(dict.fromkeys(x for p in pairs_text for x in p))
    cache = StoreEmbeddingCache(store)
    vecs = _unit(embed_texts(_embedder(cfg.similarity), distinct, cache=cache, progress=False))
    at = {x: vecs[i] for i, x in enumerate(distinct)}
    return calibrate(cfg, [float(at[x] @ at[y]) for x, y in pairs_text])


def _texts_at(
    store: Store,
    feature: str,
    cfg: SignalsSection,
    null: list[tuple[int, int]],
    keys: list[str],
    pair_end: list[int],
    pool_end: list[int],
    chunk: int,
) -> dict[tuple[str, int], str]:
    """The texts of the drawn pairs' first requests and pool rows, by global index."""
    want: dict[str, list[tuple[str, int]]] = {}
    for a, j in null:
        ka, kj = bisect_right(pair_end, a), bisect_right(pool_end, j)
        want.setdefault(keys[ka], []).append(("p", a))
        want.setdefault(keys[kj], []).append(("t", j))
    offset = {k: i for i, k in enumerate(keys)}
    out: dict[tuple[str, int], str] = {}
    users = sorted(k[2:] for k in want if k.startswith("u:"))
    sessions = sorted(k[2:] for k in want if k.startswith("s:"))
    for part_u, part_s in [(p, []) for p in chunks(users, 200)] + [
        ([], p) for p in chunks(sessions, 200)
    ]:  # a few hundred streams at a time: the rows of those streams only
        rows = load_rows(store, feature, users=part_u, sessions=part_s)
        kind_key = "u:" if part_u else "s:"  # a session's rows may hold parts of users' streams
        for key, items in streams(rows.values()).items():
            if key is None or key not in want or not key.startswith(kind_key):
                continue
            i = offset[key]
            pairs, pool = _pairs_and_pool(items, cfg.rephrase_window_s)
            p0, t0 = (pair_end[i - 1], pool_end[i - 1]) if i else (0, 0)
            for kind, g in want[key]:
                out[(kind, g)] = pairs[g - p0][0].text if kind == "p" else pool[g - t0].text
    return out


class _ConnCache:
    """The store's embedding cache, written through the build's own transaction (another
    connection's write would wait for it on SQLite)."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store, self.conn = store, conn

    def get_many(self, backend: str, hashes: Sequence[str]) -> dict[str, Any]:
        from pilotgate.embeddings import StoreEmbeddingCache

        return StoreEmbeddingCache(self.store).get_many(backend, hashes)

    def put_many(self, backend: str, items: Mapping[str, Any]) -> None:
        import numpy as np

        if not items:
            return
        ec = t.embedding_cache
        ins = (pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert)(ec)
        rows = [{"backend": backend, "text_hash": h, "vector": np.asarray(v, dtype="<f4").tobytes()}
                for h, v in items.items()]  # fmt: skip
        self.conn.execute(ins.on_conflict_do_nothing(), rows)


def _has_pairs(rows: list[Row], window_s: float) -> bool:
    grouped = streams(rows)
    return any(candidate_pairs(v, window_s) for k, v in grouped.items() if k is not None)


Chunk = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def build_chunks(
    store: Store,
    feature: str,
    cfg: SignalsSection,
    data_end: datetime,
    threshold: float | None,
    marks: dict[str, Any],
    seed: int,
    chunk: int = CHUNK_ROWS,
) -> Callable[[Connection], Iterator[Chunk]]:
    """Each chunk's signal rows and journey rows, computed with the calibrated threshold
    (for :func:`~pilotgate.signals._write.write_full`).

    ``threshold`` None: the plan fixes it, or matching is by text alone; then no counting
    pass is needed, and ``marks["threshold"]`` is set as the build goes to what an
    in-memory build stores (1.01 when no two requests are close enough to compare)."""
    from pilotgate.signals._offpurpose import Scope
    from pilotgate.signals._write import _jrow, signal_rows

    scope = Scope.load(store, cfg)

    fixed = 1.01 if cfg.similarity == "none" else cfg.similarity_threshold
    use = threshold if threshold is not None else fixed
    assert use is not None
    marks["threshold"] = use if threshold is not None else 1.01

    batch = 10_000 if store.dialect == "postgresql" else 500  # one array parameter on PG

    def run(conn: Connection) -> Iterator[Chunk]:
        cache = _ConnCache(store, conn)
        embed_cache = None if cfg.similarity in ("none", "lexical") else cache
        for part in stream_chunks(store, feature, chunk):
            if marks["threshold"] != use and _has_pairs(part, cfg.rephrase_window_s):
                marks["threshold"] = use
            rows = {r.id: r for r in part}
            outputs = load_outputs(store, rows, batch=batch)
            feedback = load_feedback(store, outputs, batch=batch)
            sessions = sorted({r.session_id for r in part if r.session_id})
            steps = load_steps(store, sessions, cfg.copy_steps)
            computed = compute(part, feedback, steps, cfg, data_end, threshold=use,
                               cache=embed_cache, seed=seed)  # fmt: skip
            off = scope.judge(store, rows, cache=cache) if scope is not None else {}
            js = journeys(part, {s.id: s.outcome for s in computed.signals})
            jrows = [_jrow(feature, j.user_id, j.first_id, j.first_ts, j.first_version,
                           j.first_outcome, j.returned_ts, j.n, j.last_ts) for j in js]  # fmt: skip
            yield signal_rows(feature, rows, computed, off), jrows

    return run
