"""Group uncovered production inputs into gaps, and name each gap by its words.

Shared by shift (gaps) and signals (clusters of off-purpose texts).

Clustering: agglomerative, average linkage on cosine distance, cut at a distance set
from the eval set's own neighbourhood scale, so "one gap" means "inputs about as close
to each other as eval cases are to their neighbours, give or take". Average linkage
needs the full distance matrix, so at most ``max_points`` uncovered inputs (a seeded
uniform sample) are clustered and the rest join their nearest cluster when they fall
within its radius.

Naming: class-based TF-IDF (c-TF-IDF, as BERTopic does): each gap's words are one
document, everything else (covered production and the eval set) one more, and a word
scores by its frequency in the gap times log(1 + average class size / its total
frequency), so words common everywhere ("order", "please") sink and the gap's own
("reembolso", "pedido") rise.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pilotgate._lexicon import FUNCTION_WORDS

__all__ = ["cluster_points", "ctfidf_keywords"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.intp]

_TOKEN = re.compile(r"[^\W\d_]{2,}")
_STOP = frozenset(
    """a an i to it of in on me be do so if or at as by we us is am no my our your the and
    but not for with this that what when how can could would will just get got hi hello
    hey thanks thank please also there here any some all
    de la le les que en y o un una une et du al lo se te tu mes die zu ich ein eine
    ka ki ke ko se main""".split()  # short words shared by several languages
).union(*FUNCTION_WORDS.values())


def cluster_points(
    vecs: F32,
    *,
    threshold: float,
    min_size: int,
    seed: int,
    max_points: int = 2_000,
) -> I64:
    """Cluster labels (0..k-1, -1 for scattered points) for unit vectors ``vecs``.

    Args:
        threshold: average-linkage cut, in cosine distance.
        min_size: clusters smaller than this are scattered points, not gaps.
        max_points: cluster a uniform sample of this many at most; assign the rest.
    """
    labels = np.full(len(vecs), -1, dtype=np.intp)
    # All-zero vectors (empty text under the lexical backend) have no direction to
    # cluster by; they stay scattered.
    valid = np.flatnonzero(np.linalg.norm(vecs, axis=1) > 0)
    if len(valid) < max(2, min_size):
        return labels
    labels[valid] = _cluster_valid(vecs[valid], threshold, min_size, seed, max_points)
    return labels


def _cluster_valid(vecs: F32, threshold: float, min_size: int, seed: int, max_points: int) -> I64:
    n = len(vecs)
    labels = np.full(n, -1, dtype=np.intp)
    rng = np.random.default_rng(seed)
    sample = (
        np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    )
    from sklearn.cluster import AgglomerativeClustering

    algo = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    )
    sub = algo.fit_predict(vecs[sample])
    counts = Counter(int(x) for x in sub)
    # Scale the size floor to the sample so a sampled run keeps the same gaps.
    floor = max(2, math.ceil(min_size * len(sample) / n))
    keep = sorted((c for c, k in counts.items() if k >= floor), key=lambda c: -counts[c])
    remap = {c: i for i, c in enumerate(keep)}
    labels[sample] = [remap.get(int(c), -1) for c in sub]
    if len(sample) < n and keep:
        _assign_rest(vecs, labels, sample, len(keep))
    return labels


def _assign_rest(vecs: F32, labels: I64, sample: I64, k: int) -> None:
    """Give each unsampled point its nearest cluster if no farther than its farthest member."""
    cents = np.zeros((k, vecs.shape[1]), dtype=np.float32)
    radius = np.zeros(k)
    for c in range(k):
        members = vecs[sample[labels[sample] == c]]
        cent = members.mean(axis=0)
        cents[c] = cent / max(float(np.linalg.norm(cent)), 1e-12)
        radius[c] = float(np.max(1.0 - members @ cents[c]))
    rest = np.setdiff1d(np.arange(len(vecs)), sample)
    for start in range(0, len(rest), 8_192):
        part = rest[start : start + 8_192]
        sims = vecs[part] @ cents.T
        best = np.argmax(sims, axis=1)
        dist = 1.0 - sims[np.arange(len(part)), best]
        labels[part] = np.where(dist <= radius[best], best, -1)


def tokens(text: str) -> list[str]:
    """Lower-cased content words and adjacent-word bigrams of a text (first 2,000 chars)."""
    raw = _TOKEN.findall(text[:2_000].lower())
    words = [w for w in raw if w not in _STOP]
    # Bigrams of words adjacent in the text ("credit card"), never across a removed stop
    # word ("good morning, does the kettle" must not give "morning kettle").
    pairs = [
        f"{a} {b}" for a, b in zip(raw, raw[1:], strict=False) if a not in _STOP and b not in _STOP
    ]
    return words + pairs


def ctfidf_keywords(
    groups: Sequence[Sequence[str]], background: Sequence[str], *, top: int = 10
) -> list[list[str]]:
    """Most distinctive terms per group of texts, against each other and a background."""
    counts = [Counter(t for text in g for t in tokens(text)) for g in groups]
    bg = Counter(t for text in background for t in tokens(text))
    classes = [*counts, bg]
    total = Counter[str]()
    for c in classes:
        total.update(c)
    sizes = [sum(c.values()) for c in classes]
    avg = sum(sizes) / max(len(classes), 1)
    out: list[list[str]] = []
    for c, size, docs in zip(counts, sizes, groups, strict=False):
        min_count = 2 if len(docs) >= 4 else 1
        scored = [
            (cnt / max(size, 1) * math.log(1.0 + avg / total[t]), t)
            for t, cnt in c.items()
            if cnt >= min_count
        ]
        scored.sort(key=lambda st: (-st[0], st[1]))
        picked: list[str] = []
        for _, term in scored:
            # Skip a unigram already inside a chosen bigram, and vice versa.
            if any(term in p.split(" ") or p in term.split(" ") for p in picked):
                continue
            picked.append(term)
            if len(picked) == top:
                break
        out.append(picked)
    return out
