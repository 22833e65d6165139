"""``run_eval``: a target × cases × scorers, cached, resumable, rate-limit aware.

Each finished case is written to the store as it completes (in small batches), so a run
killed half-way keeps its work and ``resume=RUN_ID`` redoes only what is missing (and
what failed). Target responses are cached in the store by (target fingerprint, version,
input): re-running an unchanged eval set makes no target calls at all, which is what
lets a team re-score with a new scorer, or resume, without paying twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pilotgate.errors import ConfigError
from pilotgate.evaluate._inputs import CasesArg, case_cluster, load_cases, resolve_scorers
from pilotgate.evaluate._summary import summarize
from pilotgate.evaluate._throttle import RateGate
from pilotgate.records import Case, input_text
from pilotgate.scoring import BoundScorer, Score
from pilotgate.store import Store, open_store
from pilotgate.targets import Target, TargetResult, resolve_target

__all__ = ["EvalResult", "arun_eval", "response_cache_key", "run_eval"]

EVAL_SCHEMA = "pilotgate.eval/1"
Progress = Callable[[int, int], None]


@dataclass
class EvalResult:
    """A finished (or resumed) eval run.

    Attributes:
        run_id: the run's id in the store ("" when run with ``save=False``).
        document: the ``pilotgate.eval/1`` document (also the run's stored summary).
        rows: one result per case, in case order.
        calls: target calls made by this invocation (0 for a fully cached re-run).
        cache_hits: cases answered from the response cache.
        skipped: cases a resume found already finished.
    """

    SCHEMA: ClassVar[str] = EVAL_SCHEMA

    run_id: str
    document: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    cache_hits: int = 0
    skipped: int = 0

    def to_json(self) -> dict[str, Any]:
        return self.document

    def write_rows(self, path: str | Path) -> int:
        """Write :attr:`rows` as JSONL (``--rows``), one case a line; returns the count."""
        with Path(path).open("w", encoding="utf-8") as fh:
            for row in self.rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return len(self.rows)


def response_cache_key(fingerprint: str, input: Any, version: str | None = None) -> str:
    """The response-cache key of one input to one target (configuration and version)."""
    blob = json.dumps(input, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"resp|{fingerprint}|{version or ''}|{blob}".encode()).hexdigest()


class _Writer:
    """Buffers finished cases and cache entries; flushes every few cases or half second."""

    def __init__(self, store: Store, run_id: str, *, every: int = 8, seconds: float = 0.5):
        self.store, self.run_id, self.every, self.seconds = store, run_id, every, seconds
        self.rows: list[tuple[str, dict[str, Any]]] = []
        #: rows of a run that is not saved (``run_id`` ""): kept here, not in the store
        self.kept: list[dict[str, Any]] = []
        self.cache: dict[str, Any] = {}
        self._last = time.monotonic()

    def add(self, case_id: str, row: dict[str, Any], cache: tuple[str, Any] | None) -> None:
        self.rows.append((case_id, row))
        if cache is not None:
            self.cache[cache[0]] = cache[1]
        if len(self.rows) >= self.every or time.monotonic() - self._last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.cache:
            self.store.cache_put_many(self.cache)
            self.cache = {}
        if self.rows and not self.run_id:
            self.kept.extend({"item_id": i, **r} for i, r in self.rows)
            self.rows = []
        elif self.rows:
            self.store.add_results(self.run_id, self.rows)
            self.rows = []
        self._last = time.monotonic()


async def _score_all(
    scorers: Mapping[str, BoundScorer], output: str, case: Case, error: str | None
) -> dict[str, dict[str, Any]]:
    if error is not None:
        failed = Score.of(False, f"target error: {error}")
        return {k: failed.to_json() for k in scorers}
    text = input_text(case.input)
    out: dict[str, dict[str, Any]] = {}
    for key, s in scorers.items():
        try:
            score = await s.ascore(output, case.expected, input=text)
        except ConfigError:
            raise
        except Exception as exc:  # a broken scorer fails its case, not the run
            score = Score.of(False, f"scorer raised {type(exc).__name__}: {exc}")
        out[key] = score.to_json()
    return out


def _row(case: Case, res: TargetResult | None, cached: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": case.id,
        "input": case.input,
        "expected": case.expected,
        "tags": list(case.tags),
        "cluster": case_cluster(case),
    }
    if cached is not None:
        row.update(
            output=cached.get("output", ""),
            error=None,
            status=cached.get("status"),
            latency_ms=cached.get("latency_ms"),
            tokens_in=cached.get("tokens_in"),
            tokens_out=cached.get("tokens_out"),
            retries=0,
            cached=True,
        )
    else:
        assert res is not None
        row.update(
            output=res.output,
            error=res.error,
            detail=res.detail,
            status=res.status,
            latency_ms=round(res.latency_ms, 3),
            tokens_in=res.tokens_in,
            tokens_out=res.tokens_out,
            retries=res.retries,
            cached=False,
        )
    return row


def _cache_entry(res: TargetResult) -> dict[str, Any]:
    return {
        "output": res.output,
        "status": res.status,
        "latency_ms": round(res.latency_ms, 3),
        "tokens_in": res.tokens_in,
        "tokens_out": res.tokens_out,
    }


async def arun_eval(
    target: str | Target,
    cases: CasesArg | None = None,
    scorers: Sequence[str | BoundScorer] | Mapping[str, str | BoundScorer] | None = None,
    *,
    eval_set: str | None = None,
    store: Store | str | None = None,
    save: bool = True,
    concurrency: int = 8,
    name: str | None = None,
    resume: str | None = None,
    use_cache: bool = True,
    feature: str | None = None,
    version: str | None = None,
    model: str | None = None,
    retries: int | None = 3,
    max_requeues: int = 3,
    seed: int = 0,
    clusters: int | None = None,
    embedder: str = "minilm",
    progress: Progress | None = None,
    gate: RateGate | None = None,
    on_start: Callable[[str], None] | None = None,
) -> EvalResult:
    """Evaluate ``target`` on ``cases`` (or ``eval_set``) with ``scorers``; see :func:`run_eval`."""
    if concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1, got {concurrency}", fix="pass 1 or more")
    own_store = not isinstance(store, Store)
    st = store if isinstance(store, Store) else open_store(store)
    own_target = isinstance(target, str)
    tgt = (
        resolve_target(target, model=model, retries=retries) if isinstance(target, str) else target
    )
    try:
        return await _run(
            st,
            tgt,
            target if isinstance(target, str) else getattr(tgt, "describe", lambda: "target")(),
            cases,
            scorers,
            eval_set=eval_set,
            save=save,
            concurrency=concurrency,
            name=name,
            resume=resume,
            use_cache=use_cache,
            feature=feature,
            version=version,
            max_requeues=max_requeues,
            seed=seed,
            clusters=(clusters, embedder) if clusters else None,
            progress=progress,
            gate=gate or RateGate(),
            on_start=on_start,
        )
    finally:
        if own_target:
            await tgt.aclose()
        if own_store:
            st.close()


async def _run(
    st: Store,
    tgt: Target,
    target_desc: str,
    cases_arg: CasesArg | None,
    scorer_arg: Any,
    *,
    eval_set: str | None,
    save: bool,
    concurrency: int,
    name: str | None,
    resume: str | None,
    use_cache: bool,
    feature: str | None,
    version: str | None,
    max_requeues: int,
    seed: int,
    clusters: tuple[int, str] | None,
    progress: Progress | None,
    gate: RateGate,
    on_start: Callable[[str], None] | None,
) -> EvalResult:
    from pilotgate._invocation import current_command
    from pilotgate.scoring import judge_cache

    cases, source = load_cases(cases_arg, eval_set=eval_set, store=st)
    scorers = resolve_scorers(scorer_arg)
    params = {
        "target": target_desc,
        "target_fingerprint": tgt.fingerprint,
        "cases": source.to_json(),
        "n_cases": len(cases),
        "scorers": {k: _describe(s) for k, s in scorers.items()},
        "concurrency": concurrency,
        "seed": seed,
        "clusters": list(clusters) if clusters else None,
    }
    command = current_command()
    if command is not None:
        params["command"] = command
    cluster_of = _clusters_of(cases, clusters, seed)
    if resume:
        run_id = resume
        _check_resume(st, resume, tgt.fingerprint, version)
        done = {r["item_id"] for r in st.run_results(resume) if r.get("error") is None}
    elif save:
        from pilotgate.runs import start_run

        run_id = start_run(
            st, "eval", name=name, params=params, feature=feature, version=version,
            target=target_desc, eval_set=source.ref if source.kind == "eval_set" else None,
            inputs=None if source.kind == "eval_set" else {"cases": source.ref},
        )  # fmt: skip
        done = set()
    else:
        run_id, done = "", set()
    if on_start is not None:
        on_start(run_id)
    todo = [c for c in cases if c.id not in done]
    keys = {c.id: response_cache_key(tgt.fingerprint, c.input, version) for c in todo}
    hits = st.cache_get_many(list(keys.values())) if use_cache and todo else {}
    writer = _Writer(st, run_id)
    total = len(cases)
    counters = {"done": len(cases) - len(todo), "calls": 0, "hits": 0}
    queue: asyncio.Queue[tuple[Case, int]] = asyncio.Queue()
    for c in todo:
        queue.put_nowait((c, 0))
    if progress is not None:
        progress(counters["done"], total)

    async def one(case: Case, attempt: int) -> None:
        cached = hits.get(keys[case.id])
        res: TargetResult | None = None
        if isinstance(cached, dict):
            counters["hits"] += 1
        else:
            cached = None
            await gate.wait()
            res = await tgt.call(case.input)
            counters["calls"] += 1
            gate.record(res)
            if res.error == "rate_limited" and attempt < max_requeues:
                queue.put_nowait((case, attempt + 1))  # after the shared pause
                return
        row = _row(case, res, cached)
        row["cluster"] = cluster_of.get(case.id, row["cluster"])
        row["scores"] = await _score_all(scorers, row["output"], case, row["error"])
        entry = None
        if res is not None and res.error is None:
            entry = (keys[case.id], _cache_entry(res))
        writer.add(case.id, row, entry)
        counters["done"] += 1
        if progress is not None:
            progress(counters["done"], total)

    async def worker() -> None:
        while True:
            try:
                case, attempt = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await one(case, attempt)

    status = "interrupted"
    try:
        with judge_cache(st, read=use_cache):
            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(min(concurrency, max(1, len(todo)))):
                        group.create_task(worker())
            except BaseExceptionGroup as group_error:
                # one worker's failure cancels the rest; raise *it*, so that a
                # PilotgateError still reaches the CLI as one line
                raise _first(group_error) from None
        status = "ok"
    finally:
        writer.flush()
        rows = _ordered(st.run_results(run_id) if run_id else writer.kept, cases)
        doc = summarize(rows, scorers, seed=seed)
        doc.update(
            schema=EVAL_SCHEMA,
            run_id=run_id,
            name=name,
            status=status,
            target=target_desc,
            target_fingerprint=tgt.fingerprint,
            feature=feature,
            version=version,
            cases=source.to_json(),
            calls=counters["calls"],
            cache_hits=counters["hits"],
            resumed_skipped=len(cases) - len(todo),
            rate_limit={"signals": gate.signals, "pauses": gate.pauses, "paused_s": gate.paused_s},
        )
        if run_id:
            st.finish_run(run_id, doc, status=status)
    return EvalResult(
        run_id=run_id,
        document=doc,
        rows=rows,
        calls=counters["calls"],
        cache_hits=counters["hits"],
        skipped=len(cases) - len(todo),
    )


def _clusters_of(cases: list[Case], clusters: tuple[int, str] | None, seed: int) -> dict[str, str]:
    """Computed clusters for the cases that carry none (all cases get one when asked)."""
    if not clusters:
        return {}
    from pilotgate.evaluate._clusters import assign_clusters

    missing = [c for c in cases if case_cluster(c) is None]
    names = assign_clusters(
        [input_text(c.input) for c in missing], clusters[0], embedder=clusters[1], seed=seed
    )
    return {c.id: n for c, n in zip(missing, names, strict=True)}


def _first(error: BaseExceptionGroup[BaseException]) -> BaseException:
    first = error.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


def _describe(s: BoundScorer) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(s.describe(), default=str))
    return out


def _ordered(stored: list[dict[str, Any]], cases: list[Case]) -> list[dict[str, Any]]:
    by_id = {r["item_id"]: r for r in stored}
    out = []
    for c in cases:
        r = by_id.get(c.id)
        if r is not None:
            r = dict(r)
            r.pop("item_id", None)
            out.append(r)
    return out


def _check_resume(st: Store, run_id: str, fingerprint: str, version: str | None) -> None:
    run = st.get_run(run_id)
    if run["kind"] != "eval":
        raise ConfigError(
            f"run {run_id!r} is a {run['kind']} run, not an eval run",
            fix="pass the id of an eval run to --resume",
        )
    old = (run.get("params") or {}).get("target_fingerprint")
    if old and old != fingerprint:
        raise ConfigError(
            f"run {run_id!r} evaluated a different target configuration",
            fix="resume with the same --target and options, or start a new run",
        )
    if (run.get("version") or None) != (version or None):
        raise ConfigError(
            f"run {run_id!r} was for version {run.get('version')!r}, not {version!r}",
            fix="resume with the same --version",
        )


def run_eval(
    target: str | Target,
    cases: CasesArg | None = None,
    scorers: Sequence[str | BoundScorer] | Mapping[str, str | BoundScorer] | None = None,
    **kwargs: Any,
) -> EvalResult:
    """Evaluate a target on an eval set with scorers, and store the run (kind ``eval``).

    Args:
        target: a target string (``python:…``, ``openai:URL``, ``http:URL``) or a Target.
        cases: a cases JSONL path, or a list of :class:`~pilotgate.records.Case`/dicts.
        scorers: scorer specs (``"label"``, ``"numeric:tolerance=0.5"``) or bound
            scorers, or a mapping of result key -> scorer.
        **kwargs: ``eval_set`` (``NAME[@V]`` instead of cases), ``store`` (a Store or
            URL; it also holds the response cache), ``save`` (True: record the run, its
            feature, version and eval set, through :mod:`pilotgate.runs`),
            ``concurrency`` (8), ``name``, ``resume`` (a run id), ``use_cache``
            (True), ``feature``, ``version`` (part of the cache key: a target configured
            outside its spec, e.g. by environment, must pass it), ``model``,
            ``retries`` (3, the target's retries on 429/503), ``seed``, ``clusters``
            (k: cluster the inputs that carry no cluster, k-means on ``embedder``
            vectors, default ``minilm``), ``progress``
            (called as ``progress(done, total)``), ``on_start`` (called with the run id
            before the first call, e.g. to print it for a later ``--resume``), ``scratch``
            (True: keep nothing: the run lives in a throwaway store while it lasts, with no
            response cache and no resume; an ``eval_set`` is read from ``store`` first, and
            the document says ``"stored": false``).

    Returns:
        The run's id, its ``pilotgate.eval/1`` document and the per-case rows.
    """
    if kwargs.pop("scratch", False):
        return _run_scratch(target, cases, scorers, kwargs)
    return asyncio.run(arun_eval(target, cases, scorers, **kwargs))


def _run_scratch(
    target: str | Target, cases: CasesArg | None, scorers: Any, kwargs: dict[str, Any]
) -> EvalResult:
    """``run_eval(scratch=True)``: the run in a temporary SQLite store, deleted after."""
    import tempfile
    from pathlib import Path

    if kwargs.get("resume"):
        raise ConfigError("--resume needs the store", fix="drop --no-store")
    eval_set = kwargs.pop("eval_set", None)
    real = kwargs.get("store")
    if isinstance(real, Store):
        cases, _ = load_cases(None, eval_set=eval_set, store=real) if eval_set else (cases, None)
    elif eval_set is not None:
        with open_store(real, create=False) as store:
            cases, _ = load_cases(None, eval_set=eval_set, store=store)
    with tempfile.TemporaryDirectory(prefix="pilotgate-nostore-") as tmp:
        scratch = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        kwargs.update(store=scratch, use_cache=False, on_start=None)
        result = asyncio.run(arun_eval(target, cases, scorers, **kwargs))
    result.document["stored"] = False
    return result
