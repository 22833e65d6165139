"""Gap building blocks: clustering (with sampling), c-TF-IDF keywords, telling descriptors."""

from __future__ import annotations

import numpy as np

from pilotgate._cluster import cluster_points, ctfidf_keywords
from pilotgate.shift import compute_descriptors


def blobs(rng: np.random.Generator, sizes: list[int], dim: int = 32) -> np.ndarray:
    parts = []
    for k, n in enumerate(sizes):
        centre = np.zeros(dim)
        centre[k] = 1.0
        parts.append(centre + 0.08 * rng.normal(size=(n, dim)))
    x = np.vstack(parts)
    out: np.ndarray = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return out


def test_clusters_are_found_largest_first_and_small_ones_are_scattered() -> None:
    rng = np.random.default_rng(0)
    x = blobs(rng, [120, 60, 3])
    labels = cluster_points(x, threshold=0.5, min_size=5, seed=0)
    assert set(labels[:120]) == {0} and set(labels[120:180]) == {1}
    assert set(labels[180:]) == {-1}


def test_sampled_clustering_assigns_the_rest_to_the_same_clusters() -> None:
    rng = np.random.default_rng(1)
    x = blobs(rng, [400, 200])
    full = cluster_points(x, threshold=0.5, min_size=5, seed=0)
    sampled = cluster_points(x, threshold=0.5, min_size=5, seed=0, max_points=100)
    agree = np.mean(full == sampled)
    assert agree >= 0.9
    assert np.mean(sampled[:400] == 0) >= 0.9 and np.mean(sampled[400:] == 1) >= 0.9


def test_zero_vectors_and_tiny_inputs_stay_scattered() -> None:
    x = np.zeros((4, 8), dtype=np.float32)
    assert list(cluster_points(x, threshold=0.5, min_size=2, seed=0)) == [-1] * 4
    assert list(cluster_points(x[:1], threshold=0.5, min_size=1, seed=0)) == [-1]


def test_ctfidf_picks_words_distinctive_of_each_group() -> None:
    spanish = ["quiero un reembolso del pedido", "mi pedido no llegó, quiero reembolso"] * 3
    address = ["please update my address", "I moved, change my address please"] * 3
    background = ["where is my order", "I want a refund for my order", "reset my password"] * 10
    kw = ctfidf_keywords([spanish, address], background, top=3)
    assert kw[0][0] in {"pedido", "reembolso", "quiero"} and "order" not in kw[0]
    assert "address" in kw[1]
    assert all(w not in kw[1] for w in ("please", "my"))


def test_telling_descriptors_name_what_sets_a_gap_apart() -> None:
    from pilotgate.shift._gaps import telling_descriptors

    eval_d = compute_descriptors(
        ["Where is my order?", "I need a refund.", "Reset my password."] * 10
    )
    gap_d = compute_descriptors(
        [
            "¿Dónde está mi pedido? ¿Cuándo llega? ¿Y el reembolso?",
            "¿Me devuelven el dinero? ¿Cuándo?",
        ]
        * 5
    )
    found = telling_descriptors(gap_d, eval_d)
    texts = [f["text"] for f in found]
    assert texts[0].startswith("100% Spanish (eval 0%)")
    assert any("questions per message" in t for t in texts)


def test_bigrams_never_span_a_removed_stop_word() -> None:
    from pilotgate._cluster import tokens

    toks = tokens("Good morning, does the kettle have a credit card slot")
    assert "credit card" in toks and "card slot" in toks
    assert "morning kettle" not in toks and "does" not in toks
