"""Off-purpose requests: what users ask that the feature was not designed for.

The plan's ``[signals] scope`` names in-scope examples (an eval set, or a file of cases
or ingest lines). A request is *off-purpose* when shift's calibrated coverage says it is
not covered by them: its cosine distance to the nearest example is above the conformal
``scope_level`` quantile of the examples' own leave-one-out distances. Judged once per
interaction at refresh time (vectors cached in the store) and stored with its novelty;
the clusters of the off-purpose ones are found when asked (:func:`off_purpose_clusters`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotgate.errors import ConfigError
from pilotgate.plan import SignalsSection
from pilotgate.signals._rules import Row

if TYPE_CHECKING:  # numpy loads only when a scope is set: a refresh without one skips it
    import numpy as np
    import numpy.typing as npt

    from pilotgate._coverage import Calibration
    from pilotgate.shift import EmbeddingCache
    from pilotgate.store import Store

    F32 = npt.NDArray[np.float32]

__all__ = ["Scope", "off_purpose_clusters"]


def _unit(v: F32) -> F32:
    import numpy as np

    n = np.linalg.norm(v, axis=1, keepdims=True)
    n[n == 0] = 1.0
    out: F32 = (v / n).astype(np.float32)
    return out


def scope_texts(store: Store, ref: str) -> list[str]:
    """The in-scope examples' texts: a stored eval set, else a file."""
    from pilotgate.records import input_text

    path = Path(ref)
    if path.suffix in (".jsonl", ".json", ".txt") or path.exists():
        if not path.exists():
            raise ConfigError(
                f"scope file not found: {ref}",
                where="[signals] scope",
                fix="name an eval set or an existing JSONL file of in-scope examples",
            )
        if path.suffix == ".txt":
            return [
                ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()
            ]
        from pilotgate.shift import load_inputs

        return list(load_inputs(path).texts)
    try:
        _, cases = store.get_eval_set(ref)
    except Exception as exc:
        raise ConfigError(
            f"scope {ref!r} is neither a file nor a stored eval set ({exc})",
            where="[signals] scope",
            fix="run `pilotgate cases build --name NAME` first, or name a JSONL file",
        ) from None
    return [
        input_text(c["input"]) if not isinstance(c["input"], str) else c["input"] for c in cases
    ]


@dataclass
class Scope:
    """The in-scope examples, embedded and calibrated."""

    embedder: Any
    vecs: F32
    cal: Calibration
    n_examples: int

    @classmethod
    def load(cls, store: Store, cfg: SignalsSection) -> Scope | None:
        if not cfg.scope:
            return None
        from pilotgate._coverage import calibrate
        from pilotgate.embeddings import StoreEmbeddingCache, embed_texts, get_embedder

        texts = sorted(set(scope_texts(store, cfg.scope)))
        if len(texts) < 2:
            raise ConfigError(
                f"scope {cfg.scope!r} has {len(texts)} distinct examples",
                where="[signals] scope",
                fix="give at least a few dozen in-scope examples",
            )
        emb = get_embedder(cfg.scope_embedder)
        vecs = _unit(embed_texts(emb, texts, cache=StoreEmbeddingCache(store), progress=False))
        return cls(emb, vecs, calibrate(vecs, level=cfg.scope_level), len(texts))

    def judge(
        self, store: Store, rows: dict[str, Row], *, cache: EmbeddingCache | None = None
    ) -> dict[str, tuple[bool, float]]:
        """(off-purpose, novelty) of each row with text (``cache``: the store's by default)."""
        from pilotgate._coverage import nearest, novelty
        from pilotgate.embeddings import StoreEmbeddingCache, embed_texts

        ids = [k for k, r in rows.items() if r.text.strip()]
        if not ids:
            return {}
        texts = [rows[k].text for k in ids]
        vecs = _unit(
            embed_texts(
                self.embedder, texts, cache=cache or StoreEmbeddingCache(store), progress=False
            )
        )
        dist, _ = nearest(self.vecs, vecs)
        d = dist[:, 0]
        nov = novelty(self.cal, d)
        return {k: (bool(d[i] > self.cal.tau), float(nov[i])) for i, k in enumerate(ids)}


def off_purpose_clusters(
    store: Store,
    cfg: SignalsSection,
    texts: Sequence[str],
    *,
    top: int = 5,
    examples: int = 3,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The largest clusters of off-purpose texts, with keywords and examples."""
    if len(texts) < 5:
        return []
    import numpy as np

    from pilotgate._cluster import cluster_points, ctfidf_keywords
    from pilotgate.embeddings import StoreEmbeddingCache, embed_texts, get_embedder

    vecs = _unit(
        embed_texts(
            get_embedder(cfg.scope_embedder),
            list(texts),
            cache=StoreEmbeddingCache(store),
            progress=False,
        )
    )
    labels = cluster_points(
        vecs, threshold=0.5, min_size=max(3, math.ceil(0.01 * len(texts))), seed=seed
    )
    groups = [np.flatnonzero(labels == k) for k in range(int(labels.max()) + 1)]
    groups.sort(key=len, reverse=True)
    groups = groups[:top]
    kws = ctfidf_keywords([[texts[int(i)] for i in g] for g in groups], list(texts), top=5)
    out = []
    for g, kw in zip(groups, kws, strict=True):
        out.append(
            {
                "size": len(g),
                "share": len(g) / len(texts),
                "keywords": kw,
                "label": ", ".join(kw[:3]),
                "examples": [texts[int(i)][:300] for i in g[:examples]],
            }
        )
    return out
