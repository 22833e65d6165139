"""Input clusters for per-cluster results when the cases do not carry their own.

Eval sets built by ``pilotgate cases build`` record each case's cluster. A hand-written
file does not, and "which kind of request fails" is still the question. So an eval run
can cluster the inputs itself: seeded k-means over sentence embeddings, each cluster
named by the words that are most specific to it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["assign_clusters"]

_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP = frozenset(
    """the and for with this that what when how can could would will just have has
    you your our are was were not but from about there here any some all please thanks
    hello into than then them they their its it's i'm don't""".split()
)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in _STOP]


def _names(texts: Sequence[str], labels: Sequence[int], k: int) -> list[str]:
    total: Counter[str] = Counter()
    per: list[Counter[str]] = [Counter() for _ in range(k)]
    for text, label in zip(texts, labels, strict=True):
        words = set(_words(text))
        total.update(words)
        per[label].update(words)
    n = len(texts)
    names = []
    for c in range(k):
        size = sum(1 for x in labels if x == c) or 1
        # share within the cluster times how specific the word is to it (lift)
        scored = sorted(
            per[c],
            key=lambda w: (
                -(per[c][w] / size) * math.log(1 + n * per[c][w] / (size * total[w])),
                w,
            ),
        )
        names.append(f"c{c}: " + ", ".join(scored[:3]) if scored else f"c{c}")
    return names


def assign_clusters(
    texts: Sequence[str], k: int, *, embedder: str = "minilm", seed: int = 0
) -> list[str]:
    """A cluster name for each text: k-means (seeded) on ``embedder`` vectors.

    ``k`` is capped by the number of distinct texts. Names look like
    ``"c2: card, lost, stolen"``.
    """
    if k < 1 or not texts:
        return ["c0"] * len(texts)
    import numpy as np
    from sklearn.cluster import KMeans

    from pilotgate.embeddings import get_embedder

    unique = sorted(set(texts))
    vecs = np.asarray(get_embedder(embedder).embed(unique))
    # k-means cannot find more clusters than distinct points (and warns if asked to)
    k = min(k, len(np.unique(vecs.round(5), axis=0)))
    if k == 1:
        return [_names(texts, [0] * len(texts), 1)[0]] * len(texts)
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(vecs)
    by_text = dict(zip(unique, (int(x) for x in model.labels_), strict=True))
    labels = [by_text[t] for t in texts]
    names = _names(texts, labels, k)
    return [names[x] for x in labels]
