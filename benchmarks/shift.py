"""Shift analysis end to end: 100k production x 5k eval inputs, budget <= 60 s on 2 cores.

Runs ``analyze_shift`` (embedding, coverage, descriptors, gaps, drift tests, map) on
seeded synthetic support requests (3 % of production is a planted Spanish gap):

1. lexical backend, cold (no cache): the whole run;
2. MiniLM backend, cold embedding rate measured on a 2,000-text subsample and
   extrapolated to all texts (a full cold run takes minutes on 2 cores, which is the
   reason the cache exists);
3. MiniLM backend with every embedding cached: the whole run, lookups included.

The MiniLM vectors for (3) are real: they are computed once and kept in
``.pilotgate/bench/`` (git-ignored), so the first run of this script spends a few
minutes building them (printed) and later runs reuse them. ``--quick`` runs 20k x 1k
and skips the MiniLM parts.

    .venv/bin/python benchmarks/shift.py [--quick] [--skip-minilm]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from pilotgate.embeddings import get_embedder
from pilotgate.shift import InMemoryEmbeddingCache, analyze_shift, embed_texts, text_hash
from pilotgate.shift._synthetic import support_requests

BUDGET_S = 60.0
CACHE_DIR = Path(__file__).resolve().parent.parent / ".pilotgate" / "bench"


def make_inputs(n_prod: int, n_eval: int) -> tuple[list[str], list[str]]:
    n_es = int(0.03 * n_prod)
    prod = support_requests(n_prod - n_es, seed=11) + support_requests(n_es, seed=12, kind="es")
    random.Random(13).shuffle(prod)
    return support_requests(n_eval, seed=10), prod


def run(label: str, ev: list[str], prod: list[str], embedder: str, cache: object = None) -> float:
    t, c = time.perf_counter(), time.process_time()
    r = analyze_shift(ev, prod, embedder=embedder, seed=0, cache=cache, progress=False)  # type: ignore[arg-type]
    total, cpu = time.perf_counter() - t, time.process_time() - c
    parts = ", ".join(f"{k} {v:.1f}" for k, v in r.timings.items() if k != "total")
    verdict = "OK" if total <= BUDGET_S else "OVER BUDGET"
    print(
        f"{label}: {total:.1f} s end to end (budget {BUDGET_S:.0f} s) {verdict}; "
        f"{cpu:.1f} CPU-s in this process (load average now {os.getloadavg()[0]:.1f})"
    )
    print(f"    stages (s): {parts}")
    top = r.gaps[0].label if r.gaps else "-"
    print(
        f"    coverage {r.coverage.value:.3f} {tuple(round(x, 3) for x in r.coverage.ci95)}, "
        f"{len(r.gaps)} gaps, top: {top!r}, flagged: {r.to_json()['drift']['flagged']}"
    )
    return total


def minilm_cache(texts: list[str], threads: int = 2) -> InMemoryEmbeddingCache:
    """Real MiniLM vectors for ``texts``: loaded from disk, computing the missing ones."""
    emb = get_embedder("minilm", threads=threads)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{emb.name}-shift-bench.npz"
    cache = InMemoryEmbeddingCache()
    uniq = list(dict.fromkeys(texts))
    hashes = [text_hash(t) for t in uniq]
    if path.exists():
        data = np.load(path)
        cache.put_many(emb.name, dict(zip(data["hashes"].tolist(), data["vectors"], strict=True)))
    missing = [t for t, h in zip(uniq, hashes, strict=True) if not cache.get_many(emb.name, [h])]
    if missing:
        print(f"building the MiniLM cache: embedding {len(missing)} texts once (kept in {path})")
        t = time.perf_counter()
        embed_texts(emb, missing, cache=cache, progress=sys.stderr.isatty())
        print(f"    built in {time.perf_counter() - t:.0f} s")
        found = cache.get_many(emb.name, hashes)
        np.savez(path, hashes=np.array(list(found)), vectors=np.stack(list(found.values())))
    return cache


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20k x 1k, lexical only")
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument(
        "--build-cache-only",
        action="store_true",
        help="only compute the MiniLM vectors into .pilotgate/bench (1 thread, for a busy machine)",
    )
    args = ap.parse_args()
    if args.build_cache_only:
        ev, prod = make_inputs(100_000, 5_000)
        minilm_cache(ev + prod, threads=1)
        return 0
    n_prod, n_eval = (20_000, 1_000) if args.quick else (100_000, 5_000)
    print(f"shift benchmark: {n_prod} production x {n_eval} eval, {os.cpu_count()} CPUs visible")
    t = time.perf_counter()
    ev, prod = make_inputs(n_prod, n_eval)
    print(
        f"generated inputs in {time.perf_counter() - t:.1f} s "
        f"({len(set(prod))} distinct production)"
    )
    times = [run("lexical, cold", ev, prod, "lexical")]
    if args.quick or args.skip_minilm:
        return _verdict(times)
    emb = get_embedder("minilm")
    sub = prod[:2_000]
    emb.embed(sub[:64])  # load the model outside the timing
    t = time.perf_counter()
    emb.embed(sub)
    rate = len(sub) / (time.perf_counter() - t)
    n_distinct = len(set(prod) | set(ev))
    print(
        f"minilm cold embedding: {rate:.0f} texts/s measured on {len(sub)} texts; "
        f"extrapolated {n_distinct / rate:.0f} s for all {n_distinct} distinct texts"
    )
    cache = minilm_cache(ev + prod)
    times.append(run("minilm, embeddings cached", ev, prod, "minilm", cache))
    return _verdict(times)


def _verdict(times: list[float]) -> int:
    missed = [t for t in times if t > BUDGET_S]
    worst = f"OVER BUDGET ({max(missed):.1f} s > {BUDGET_S:g} s)" if missed else "OK"
    print(f"result: {worst}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
