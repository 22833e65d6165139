"""``build_eval_set``: stored interactions -> a named, versioned, redacted eval set.

The steps: read the pool (filters, feedback, failure signals), embed and cluster its
inputs, let each strategy order the pool, then take candidates in a weighted
interleaving of those orders, redacting each one and dropping near-duplicates of the
cases already kept, until ``size`` cases are kept or the pool runs out. Every case says
where it came from in ``origin``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pilotgate.cases._dedup import Deduper, dedup_embedder, normalise_text, single_thread
from pilotgate.cases._pool import Pool, case_input, load_pool
from pilotgate.cases._redaction import CaseRedactor
from pilotgate.cases._registry import CASE_STRATEGIES, StrategyInput
from pilotgate.cases._review import Decision, review_decisions
from pilotgate.cases._spec import BuildResult, BuildSpec
from pilotgate.cases._strategies import (
    NoveltyScores,
    allocate,
    cluster_inputs,
    novelty_scores,
    schedule,
)
from pilotgate.errors import InputError
from pilotgate.records import Case

if TYPE_CHECKING:
    from pilotgate.embeddings import Embedder
    from pilotgate.store import Store

__all__ = ["auto_clusters", "build_eval_set"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.intp]


def auto_clusters(size: int, n: int) -> int:
    """Default cluster count: about ten cases per cluster, between 2 and 40."""
    return max(1, min(40, max(2, size // 10), n))


def build_eval_set(
    store: Store | str | None,
    name: str,
    spec: BuildSpec | None = None,
    *,
    save: bool = True,
    description: str | None = None,
    progress: bool | None = False,
) -> BuildResult:
    """Sample, de-duplicate and redact stored interactions into eval set ``name``.

    Args:
        store: where the interactions are and where the new version is saved (a Store,
            a URL, or None for the configured store).
        name: eval set name; the build becomes its next version (``name@N``).
        spec: filters, strategies, thresholds and seed (defaults: :class:`BuildSpec`).
        save: store the new version and record the build as a run (kind ``cases``, for
            the spec's feature and version, eval set ``name@N``); ``False`` only returns
            the cases.
        progress: show embedding progress (``None``: when stderr is a terminal).

    Raises:
        InputError: no stored interaction matches the filters.
    """
    from pilotgate.runs import using_store

    with using_store(store) as st:
        result = _build(st, name, spec or BuildSpec(), save, description, progress)
        if save and result.version is not None:
            from pilotgate.runs import record_run

            result.run_id = record_run(
                st,
                "cases",
                result.to_json(),
                ((c.id, dict(c.origin or {})) for c in result.cases),
                feature=result.spec.feature,
                version=result.spec.version,
                eval_set=f"{name}@{result.version}",
                params={"spec": result.spec.to_json(), "pool": result.pool},
                name=name,
            )
        return result


def _build(
    store: Store,
    name: str,
    spec: BuildSpec,
    save: bool,
    description: str | None,
    progress: bool | None,
) -> BuildResult:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pool = load_pool(store, spec)
    timings["load"] = time.perf_counter() - t0
    if not len(pool):
        raise InputError(
            "no stored interactions match the filters",
            where=_filters_text(spec),
            fix="check --feature/--version/--since/--until, or ingest production data first",
        )
    notes = list(pool.notes)
    t1 = time.perf_counter()
    embedder = _embedder(spec.embedder)
    vecs = _embed(store, embedder, pool.texts, progress)
    timings["embed"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    k = spec.clusters or auto_clusters(spec.size, len(pool))
    first: dict[str, int] = {}
    for j, text in enumerate(pool.texts):
        first.setdefault(text, j)
    labels = cluster_inputs(vecs, k, spec.seed, distinct=np.fromiter(first.values(), np.intp))
    timings["cluster"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    weights = {s: w for s, w in spec.weights.items() if w > 0}
    quotas = allocate(spec.size, weights)
    orders: dict[str, I64] = {}
    seen: list[NoveltyScores | None] = []

    def novelty_once() -> NoveltyScores | None:
        if not seen:
            seen.append(_novelty(store, name, spec, embedder, vecs, notes))
        return seen[0]

    for s in weights:
        inp = StrategyInput(pool, labels, quotas[s], spec.seed, spec.failure_weights, notes,
                            novelty_once)  # fmt: skip
        orders[s] = np.asarray(CASE_STRATEGIES.get(s).obj(inp), dtype=np.intp)
    novelty = seen[0] if seen else None
    decisions = review_decisions(store, name)
    dropped = {k for k, d in decisions.items() if d.action == "drop"}
    picker = _Picker(pool, spec, orders, dropped)
    with single_thread():
        chosen = picker.run(quotas)
    timings["select"] = time.perf_counter() - t3
    if len(chosen) < spec.size:
        notes.append(f"the pool yielded {len(chosen)} distinct cases of the {spec.size} asked for")
    counts = Counter(normalise_text(t) for t in pool.texts)
    cases = [
        _make_case(pool, i, s, int(labels[i]), novelty, counts, picker, name, spec, decisions)
        for i, s in chosen
    ]
    version: int | None = None
    if save:
        t4 = time.perf_counter()
        version = store.save_eval_set(
            name,
            [c.model_dump(mode="json", exclude_none=True) for c in cases],
            params={"kind": "build", "spec": spec.to_json(), "pool": len(pool)},
            description=description or f"built from {len(pool)} interactions",
        )
        timings["save"] = time.perf_counter() - t4
    timings["total"] = time.perf_counter() - t0
    return BuildResult(
        name=name,
        version=version,
        cases=cases,
        spec=spec,
        pool=len(pool),
        by_strategy=dict(Counter(s for _, s in chosen)),
        failures_in_pool=pool.failure_counts(),
        removed=dict(picker.removed),
        redactions=dict(picker.redactor.counts),
        clusters=int(labels.max()) + 1 if len(labels) else 0,
        notes=notes,
        timings=timings,
    )


def _filters_text(spec: BuildSpec) -> str:
    parts = [f"{k}={v}" for k, v in spec.to_json().items() if k in _FILTERS and v is not None]
    return "interactions " + (", ".join(parts) if parts else "(all)")


_FILTERS = ("feature", "version", "since", "until")


def _embedder(name: str) -> Embedder:
    from pilotgate.embeddings import get_embedder

    return get_embedder(name)


def _embed(store: Store, embedder: Embedder, texts: list[str], progress: bool | None) -> F32:
    from pilotgate.embeddings import StoreEmbeddingCache, embed_texts

    # Lexical vectors cost less to compute than to look up; model vectors are cached.
    cache = None if embedder.name.startswith("lexical") else StoreEmbeddingCache(store)
    return embed_texts(embedder, texts, cache=cache, progress=progress, label="embedding inputs")


def _novelty(
    store: Store, name: str, spec: BuildSpec, embedder: Embedder, vecs: F32, notes: list[str]
) -> NoveltyScores | None:
    ref = spec.against or name
    try:
        _, rows = store.get_eval_set(ref)
    except InputError:
        notes.append(f"novelty: no eval set {ref!r} to improve on yet; its share was uniform")
        return None
    texts = [Case.model_validate(r).text for r in rows]
    if not texts:
        notes.append(f"novelty: eval set {ref!r} is empty; its share was uniform")
        return None
    ref_vecs = _embed(store, embedder, texts, False)
    return novelty_scores(vecs, ref_vecs)


class _Picker:
    """Takes candidates from the strategies' orders, redacting and de-duplicating them."""

    def __init__(
        self, pool: Pool, spec: BuildSpec, orders: Mapping[str, I64], dropped: set[str]
    ) -> None:
        self.pool = pool
        self.dropped = dropped
        self.spec = spec
        self.orders = orders
        self.pos = dict.fromkeys(orders, 0)
        self.examined: set[int] = set()
        self.redactor = CaseRedactor(enabled=spec.redact)
        self.embedder = dedup_embedder(spec.dedup_embedder)
        self.dedup = Deduper(self.embedder.dim, spec.dedup_threshold, capacity=spec.size)
        self.removed: Counter[str] = Counter(
            {"text": 0, "embedding": 0, "empty": 0, "dropped_by_reviewer": 0}
        )
        self._prepared: dict[int, tuple[str, F32]] = {}
        # raw text -> why its first copy was not chosen ("text" when it was): every later
        # copy gets the same verdict without being redacted and embedded again (a feature
        # with few distinct inputs otherwise re-prepared each of its rows)
        self._seen: dict[str, str] = {}

    def run(self, quotas: Mapping[str, int]) -> list[tuple[int, str]]:
        chosen: list[tuple[int, str]] = []
        dry: set[str] = set()
        for s in schedule(quotas):
            if s not in dry and self._take(s, chosen):
                continue
            dry.add(s)
        # Shares of strategies that ran dry go to the others, in weight order.
        live = [s for s in sorted(quotas, key=lambda s: -quotas[s]) if s not in dry]
        while len(chosen) < self.spec.size and live:
            for s in list(live):
                if len(chosen) >= self.spec.size:
                    break
                if not self._take(s, chosen):
                    live.remove(s)
        return chosen

    def _take(self, s: str, chosen: list[tuple[int, str]]) -> bool:
        order = self.orders[s]
        texts = self.pool.texts
        seen = self._seen
        while self.pos[s] < len(order):
            i = int(order[self.pos[s]])
            self.pos[s] += 1
            if i in self.examined:
                continue
            self.examined.add(i)
            if self.dropped and str(self.pool.rows[i]["id"]) in self.dropped:
                self._prepared.pop(i, None)
                self.removed["dropped_by_reviewer"] += 1
                continue
            raw = texts[i]
            if raw in seen:  # the same text again: judged as its first copy was
                self._prepared.pop(i, None)
                self.removed[seen[raw]] += 1
                continue
            if i not in self._prepared:
                self._prepare(order, self.pos[s] - 1)
            key, vec = self._prepared.pop(i)
            if not key:
                seen[raw] = "empty"
                self.removed["empty"] += 1
                continue
            reason, _ = self.dedup.check(key, vec)
            if reason is not None:
                seen[raw] = reason
                self.removed[reason] += 1
                continue
            self.dedup.add(key, vec)
            seen[raw] = "text"  # a later copy is a duplicate of this case's text
            chosen.append((i, s))
            return True
        return False

    def _prepare(self, order: I64, start: int, batch: int = 256) -> None:
        """Redact and embed the next unexamined candidates of ``order`` in one batch (a text
        already judged, or already in the batch, is not prepared again)."""
        texts = self.pool.texts
        first = int(order[start])  # the candidate being judged (already marked examined)
        todo = [first]
        batch_texts = {texts[first]}
        for j in order[start + 1 :]:
            if len(todo) >= batch:
                break
            j = int(j)
            raw = texts[j]
            if j in self._prepared or j in self.examined or raw in self._seen or raw in batch_texts:
                continue
            batch_texts.add(raw)
            todo.append(j)
        norm = [normalise_text(self.redactor.text(texts[j], count=False)) for j in todo]
        vecs = self.embedder.embed(norm)
        for j, text, vec in zip(todo, norm, vecs, strict=True):
            self._prepared[j] = (text, vec)


def _make_case(
    pool: Pool,
    i: int,
    strategy: str,
    cluster: int,
    novelty: NoveltyScores | None,
    counts: Counter[str],
    picker: _Picker,
    name: str,
    spec: BuildSpec,
    decisions: Mapping[str, Decision],
) -> Case:
    row = pool.rows[i]
    red = picker.redactor
    fb = pool.feedback.get(row["id"])
    output = red.text(row["output"]) if row["output"] is not None else None
    edited = red.text(fb["edited_output"]) if fb and fb.get("edited_output") is not None else None
    expected, source = _reference(spec.references, output, edited, fb)
    failures = pool.failures[i]
    origin: dict[str, Any] = {
        "interaction_id": row["id"],
        "feature": row["feature"],
        "version": row["version"],
        "ts": row["ts"].isoformat(),
        "session_id": row["session_id"],
        "strategy": strategy,
        "cluster": cluster,
        "failures": list(failures),
        "output": output,
        "feedback": _feedback_json(fb, red, edited),
        "reference_source": source,
        "n_similar": counts[normalise_text(pool.texts[i])],
        "build": {
            "eval_set": name,
            "seed": spec.seed,
            "weights": dict(spec.weights),
            "embedder": spec.embedder,
            "dedup_threshold": spec.dedup_threshold,
            "filters": {k: v for k, v in spec.to_json().items() if k in _FILTERS},
        },
    }
    if row["error"]:
        origin["error"] = red.text(row["error"])
    if novelty is not None:
        origin["novelty_distance"] = round(float(novelty.distance[i]), 4)
    tags = ([f"cluster:{cluster}"] if cluster >= 0 else []) + [f"failure:{k}" for k in failures]
    d = decisions.get(str(row["id"]))
    if d is not None:
        # a reviewer already decided about this interaction in an earlier version
        if d.action == "accept" and output is not None:
            expected = output
        elif d.action == "reference" and d.reference is not None:
            expected = red.text(d.reference)
        if d.action in ("accept", "reference") and expected is not None:
            origin["reference_source"] = "reviewer"
            origin["review"] = d.review
        tags += [t for t in d.tags if t not in tags]
    return Case(
        id=str(row["id"]),
        input=red.input(case_input(row)),
        expected=expected,
        tags=tags,
        source="production",
        origin=origin,
    )


def _reference(
    mode: str, output: str | None, edited: str | None, fb: Mapping[str, Any] | None
) -> tuple[str | None, str]:
    accepted = bool(fb and fb.get("accepted") is True)
    if mode in ("auto", "edited") and edited is not None:
        return edited, "edited"
    if mode in ("auto", "accepted") and accepted and output is not None:
        return output, "accepted"
    return None, "none"


def _feedback_json(
    fb: Mapping[str, Any] | None, red: CaseRedactor, edited: str | None
) -> dict[str, Any] | None:
    if fb is None:
        return None
    out: dict[str, Any] = {
        "accepted": fb.get("accepted"),
        "score": fb.get("score"),
        "dwell_ms": fb.get("dwell_ms"),
        "edited_output": edited,
        "comment": red.text(fb["comment"]) if fb.get("comment") else None,
    }
    return {k: v for k, v in out.items() if v is not None}
