"""LexicalEmbedder: protocol, unit norm, determinism, typo robustness, odd inputs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pilotgate.embeddings import Embedder, get_embedder
from pilotgate.embeddings._lexical import LexicalEmbedder, word_weight
from pilotgate.errors import ConfigError


def test_registry_builds_it_and_it_satisfies_the_protocol() -> None:
    emb = get_embedder("lexical")
    assert isinstance(emb, LexicalEmbedder)
    assert isinstance(emb, Embedder)
    assert emb.dim == 512
    assert emb.name.startswith("lexical-v1-d512")


def test_rows_are_unit_norm_float32_and_empty_text_is_zero() -> None:
    v = LexicalEmbedder(dim=64).embed(["refund my order", "", "   ", "?!"])
    assert v.dtype == np.float32 and v.shape == (4, 64)
    assert np.allclose(np.linalg.norm(v[[0, 3]], axis=1), 1.0, atol=1e-5)
    assert not v[1].any() and not v[2].any()


def test_same_vectors_across_processes_and_batching() -> None:
    texts = ["where is my parcel", "¿dónde está mi pedido?", "日本語のテキスト", "x" * 50]
    here = LexicalEmbedder(chunk_size=3).embed(texts)
    assert np.array_equal(here, LexicalEmbedder(chunk_size=1000).embed(texts))
    code = (
        "import sys, numpy as np; from pilotgate.embeddings._lexical import LexicalEmbedder;"
        f"v = LexicalEmbedder().embed({texts!r}); sys.stdout.write(v.tobytes().hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PYTHONHASHSEED": "123"},
    ).stdout
    other = np.frombuffer(bytes.fromhex(out), dtype=np.float32).reshape(here.shape)
    assert np.array_equal(here, other)


def test_typos_and_digits_stay_close_unrelated_text_does_not() -> None:
    v = LexicalEmbedder().embed(
        [
            "I want a refund for order 12345",
            "i want a refnud for order 99871",
            "how do I reset my password",
        ]
    )
    sim = v @ v.T
    assert sim[0, 1] > 0.6
    assert sim[0, 2] < 0.3


def test_common_words_weigh_less_than_rare_ones() -> None:
    assert word_weight("the") < word_weight("refund") <= word_weight("zzqxj")


def test_long_inputs_are_truncated_not_slow_or_broken() -> None:
    emb = LexicalEmbedder(max_chars=100)
    a, b = emb.embed(["refund " * 20_000, "refund " * 15])
    assert float(a @ b) > 0.99


def test_bad_arguments_raise_config_errors() -> None:
    with pytest.raises(ConfigError):
        LexicalEmbedder(dim=7)
    with pytest.raises(ConfigError):
        LexicalEmbedder(char_weight=2.0)
    with pytest.raises(TypeError):
        LexicalEmbedder().embed("not a list")
