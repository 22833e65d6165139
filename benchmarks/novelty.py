"""Shift novelty as a ranking: AUROC on the demo's labelled traffic vs raw MiniLM distance.

The demo's eval set (the 50 hand-picked requests, six intents) against its production
stream, whose requests carry their true intent: the positives are the requests the eval
set never shows (out-of-scope requests, and the two intents the demo set leaves out), the
negatives the rest. Each production input is scored by ``pilotgate shift``'s per-input
``novelty`` (what ``--scores`` writes) and, as the baseline, by its raw MiniLM cosine
distance to the nearest eval case. Budget: novelty's AUROC is at least the baseline's.
An experimental score (not shipped) that also uses production's own density is printed
beside them.

    .venv/bin/python benchmarks/novelty.py [--n 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUROC with ties counted half (sklearn's definition)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    pos = int(y.sum())
    neg = len(y) - pos
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="production requests")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from pilotgate._coverage import nearest
    from pilotgate.demo.data import demo_set, production_stream
    from pilotgate.shift import InMemoryEmbeddingCache, analyze_shift

    demo = demo_set(args.seed)
    shown = {c["expected"] for c in demo}
    prod = production_stream(seed=args.seed, n=args.n)
    y = np.array([r.true_intent not in shown for r in prod])
    t = time.perf_counter()
    res = analyze_shift(
        [c["input"] for c in demo],
        [r.text for r in prod],
        embedder="minilm",
        seed=args.seed,
        cache=InMemoryEmbeddingCache(),
        progress=False,
    )
    secs = time.perf_counter() - t
    base = auroc(y, res.distance)
    nov = auroc(y, res.novelty)
    print(
        f"demo traffic: {len(demo)} eval cases, {len(prod)} production requests, "
        f"{y.sum()} never shown by the eval set ({y.mean():.1%}); shift took {secs:.0f} s"
    )
    print(f"raw MiniLM nearest-neighbour distance (baseline): AUROC {base:.4f}")
    print(f"pilotgate shift novelty:                          AUROC {nov:.4f}")
    if res.production_vectors is not None:
        vecs = res.production_vectors
        dp, _ = nearest(vecs, vecs, k=10, exclude_self=True)
        exp = auroc(y, res.distance - 0.5 * dp.mean(axis=1))
        print(f"experimental, minus half the 10-NN production distance: AUROC {exp:.4f}")
    ok = nov >= base - 1e-12
    print(f"result: {'OK' if ok else 'OVER BUDGET'} (novelty AUROC >= baseline)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
