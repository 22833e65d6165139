"""A 2-D map of eval and production inputs, for the report and the dashboard to plot."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["pca_map"]

F32 = npt.NDArray[np.float32]


def _sample(n: int, cap: int, rng: np.random.Generator) -> npt.NDArray[np.intp]:
    if n <= cap:
        return np.arange(n, dtype=np.intp)
    return np.sort(rng.choice(n, size=cap, replace=False)).astype(np.intp)


def pca_map(
    ev_vecs: F32,
    ev_ids: list[str],
    pr_vecs: F32,
    pr_ids: list[str],
    gap_of: list[str | None],
    seed: int,
) -> dict[str, object]:
    """2-D PCA coordinates for a seeded sample of points (eval and production)."""
    rng = np.random.default_rng([seed, 13])
    e_idx = _sample(len(ev_vecs), 1_000, rng)
    p_idx = _sample(len(pr_vecs), 3_000, rng)
    x = np.vstack([ev_vecs[e_idx], pr_vecs[p_idx]]).astype(np.float64)
    centred = x - x.mean(axis=0)
    xy, explained = _top2(centred, rng)
    points: list[dict[str, object]] = []
    for k, i in enumerate(e_idx):
        points.append(
            {"x": _r(xy[k, 0]), "y": _r(xy[k, 1]), "set": "eval", "id": ev_ids[int(i)], "gap": None}
        )
    off = len(e_idx)
    for k, i in enumerate(p_idx):
        points.append(
            {
                "x": _r(xy[off + k, 0]),
                "y": _r(xy[off + k, 1]),
                "set": "production",
                "id": pr_ids[int(i)],
                "gap": gap_of[int(i)],
            }
        )
    return {
        "method": "pca",
        "explained_variance": [round(v, 4) for v in explained],
        "points": points,
    }


def _top2(
    centred: npt.NDArray[np.float64], rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], list[float]]:
    """Scores on the first two principal components, by seeded subspace iteration.

    Why not a full SVD or eigh: only two components are needed, and a few products with
    a thin random block cost milliseconds where a full decomposition costs a second.
    """
    d = centred.shape[1]
    k = min(d, 8)
    q = np.linalg.qr(rng.normal(size=(d, k)))[0]
    for _ in range(12):
        q = np.linalg.qr(centred.T @ (centred @ q))[0]
    _, s, vt = np.linalg.svd(centred @ q, full_matrices=False)
    comps = (q @ vt.T)[:, :2]
    if comps.shape[1] < 2:
        comps = np.hstack([comps, np.zeros((d, 2 - comps.shape[1]))])
    total = float(np.sum(centred**2))
    explained = [float(v) / total if total > 0 else 0.0 for v in (s[:2] ** 2)]
    xy: npt.NDArray[np.float64] = centred @ comps
    return xy, explained + [0.0] * (2 - len(explained))


def _r(v: float) -> float:
    return round(float(v), 4)
