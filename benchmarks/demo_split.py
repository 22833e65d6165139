"""The demo's v1 -> v2 gain, on held-out templates and on the ones the fix saw.

Routes a seeded sample of the demo's production stream with both versions' intent routers
(MiniLM) and prints accuracy by the request's ``template:`` tag (docs/demo.md). Budget: v2
must beat v1 on the held-out templates, i.e. the fix must generalise beyond the phrasings
it was written from; exit status 1 when it does not.

    .venv/bin/python benchmarks/demo_split.py [--n 1500] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1500, help="requests sampled from the stream")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from pilotgate.demo._router import IntentRouter
    from pilotgate.demo.data import production_stream
    from pilotgate.embeddings import get_embedder

    emb = get_embedder("minilm")
    stream = production_stream(seed=args.seed)
    sample = random.Random(args.seed).sample(stream, min(args.n, len(stream)))
    acc: dict[str, dict[str, float]] = {}
    for version in ("v1", "v2"):
        routes = IntentRouter(version, emb).route([r.text for r in sample])
        hits: dict[str, list[bool]] = defaultdict(list)
        for route, req in zip(routes, sample, strict=True):
            part = next(t for t in req.tags if t.startswith("template:"))[len("template:") :]
            hits[part].append(route.intent == req.true_intent)
            hits["all"].append(route.intent == req.true_intent)
        acc[version] = {k: sum(v) / len(v) for k, v in hits.items()}
        sizes = {k: len(v) for k, v in hits.items()}
    print(f"{len(sample)} requests (seed {args.seed}); by template: {sizes}")
    for part in ("all", "held_out", "seen"):
        a, b = acc["v1"][part], acc["v2"][part]
        gain = 100 * (b - a)
        print(f"{part:>9}: v1 {100 * a:5.1f} %  v2 {100 * b:5.1f} %  gain {gain:+5.1f} points")
    ok = acc["v2"]["held_out"] > acc["v1"]["held_out"]
    print(f"result: {'OK' if ok else 'OVER BUDGET'} (v2 beats v1 on held-out templates)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
