"""A lexical embedder: hashed character n-grams plus weighted words, no model at all.

Why it exists: it is the always-available fallback (nothing to install, nothing to
download) and it is fast enough for 100k inputs in a few seconds on two cores, because
character n-grams are hashed with numpy over a whole chunk of texts at once instead of
one Python call per n-gram.

Why it is stable: it has no fitted state. TF-IDF needs a corpus, but a vector that
depended on the batch it came in could not be cached by ``(backend, text hash)``, so the
"IDF" of a word is a fixed prior instead: its frequency rank in the BERT-uncased
vocabulary that ships with pilotgate (that vocabulary is ordered roughly by corpus
frequency), so "the" weighs little and "refund" a lot. Signed feature hashing into a
small dense space acts as a random projection, which keeps cosine similarities close to
those of the full sparse vectors.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pilotgate._vocab import word_ranks
from pilotgate.errors import ConfigError

__all__ = ["LexicalEmbedder", "word_weight"]

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_DIGIT_RE = re.compile(r"\d")
_SPACE_RE = re.compile(r"\s+")
_OOV_RANK = 12_000
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def word_weight(word: str) -> float:
    """IDF-like prior for a lower-cased word: log of its frequency rank, capped.

    Words missing from the vocabulary (rare words, typos, other languages) get the
    weight of a rank-12,000 word, so an order number or a typo cannot dominate a vector.
    """
    rank = word_ranks().get(word, _OOV_RANK)
    return math.log(2.0 + min(rank, _OOV_RANK) / 40.0)


def _stable_hash(token: str) -> int:
    return zlib.crc32(token.encode("utf-8", "surrogatepass"))


def _normalise(text: str) -> str:
    # NUL separates texts in the n-gram pass, so it must not occur inside one.
    text = unicodedata.normalize("NFKC", text.replace("\x00", " ")).lower()
    text = _DIGIT_RE.sub("0", text)
    return _SPACE_RE.sub(" ", text).strip()


class LexicalEmbedder:
    """Hashed character 3–5-grams and IDF-weighted words, L2-normalised float32 vectors.

    Deterministic across processes and machines (CRC32 and fixed multiplicative hashes,
    never Python's salted ``hash``), so vectors can be cached by text hash.

    Args:
        dim: total dimension; half for character n-grams, half for words.
        char_weight: share of the squared norm given to the character block (the rest
            goes to words). Characters make it robust to typos and inflection; words
            carry the topic.
        max_chars: texts are truncated to this many characters before hashing, which
            bounds the cost of 100 kB inputs without changing short ones.
        chunk_size: texts hashed per numpy pass (bounds memory).
    """

    def __init__(
        self,
        *,
        dim: int = 512,
        char_weight: float = 0.5,
        max_chars: int = 2_000,
        chunk_size: int = 4_096,
    ) -> None:
        if dim < 16 or dim % 2:
            raise ConfigError(f"dim must be an even number >= 16, got {dim}", fix="use 512")
        if not 0.0 <= char_weight <= 1.0:
            raise ConfigError(f"char_weight must be in [0, 1], got {char_weight}", fix="use 0.5")
        if max_chars < 1 or chunk_size < 1:
            raise ConfigError("max_chars and chunk_size must be >= 1", fix="use the defaults")
        self.dim = dim
        self.char_weight = char_weight
        self.max_chars = max_chars
        self.chunk_size = chunk_size
        self._half = dim // 2
        self.name = f"lexical-v1-d{dim}-c{char_weight:g}-m{max_chars}"
        self._word_cache: dict[str, tuple[int, float]] = {}

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return an ``(len(texts), dim)`` array of unit-norm rows (all-zero for empty text)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.chunk_size):
            chunk = [
                _normalise(_as_text(t)[: self.max_chars])
                for t in texts[start : start + self.chunk_size]
            ]
            out[start : start + len(chunk)] = self._embed_chunk(chunk)
        return out

    # -- internals -------------------------------------------------------------------
    def _embed_chunk(self, texts: list[str]) -> npt.NDArray[np.float32]:
        n = len(texts)
        chars = _unit_rows(self._char_block(texts))
        words = _unit_rows(self._word_block(texts))
        a = math.sqrt(self.char_weight)
        b = math.sqrt(1.0 - self.char_weight)
        block = np.concatenate([a * chars, b * words], axis=1)
        result: npt.NDArray[np.float32] = _unit_rows(block).astype(np.float32)
        assert result.shape == (n, self.dim)
        return result

    def _char_block(self, texts: list[str]) -> npt.NDArray[np.float64]:
        n, half = len(texts), self._half
        joined = "\x00" + "\x00".join(f" {t} " for t in texts) + "\x00"
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.uint64)
        doc = np.cumsum(codes == 0) - 1  # document index of each position
        out = np.zeros(n * half, dtype=np.float64)
        for size in (3, 4, 5):
            m = len(codes) - size + 1
            if m <= 0:
                continue
            h = np.zeros(m, dtype=np.uint64)
            bad = np.zeros(m, dtype=bool)
            with np.errstate(over="ignore"):
                for k in range(size):
                    window = codes[k : k + m]
                    h = (h * np.uint64(0x100000001B3) + window + np.uint64(size)) & _MASK64
                    bad |= window == 0
                h ^= h >> np.uint64(29)
                h = (h * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
                h ^= h >> np.uint64(32)
            keep = ~bad
            hk = h[keep]
            bucket = (hk % np.uint64(half)).astype(np.int64)
            sign = np.where((hk >> np.uint64(40)) & np.uint64(1), 1.0, -1.0)
            rows = doc[:m][keep]
            out += np.bincount(rows * half + bucket, weights=sign, minlength=n * half)
        return out.reshape(n, half)

    def _word_block(self, texts: list[str]) -> npt.NDArray[np.float64]:
        half = self._half
        out = np.zeros((len(texts), half), dtype=np.float64)
        cache = self._word_cache
        for i, text in enumerate(texts):
            counts: dict[str, int] = {}
            for w in _WORD_RE.findall(text):
                counts[w] = counts.get(w, 0) + 1
            row = out[i]
            for w, c in counts.items():
                entry = cache.get(w)
                if entry is None:
                    h = _stable_hash(w)
                    sign = 1.0 if h & 1 else -1.0
                    entry = ((h >> 1) % half, sign * word_weight(w))
                    if len(cache) < 500_000:
                        cache[w] = entry
                row[entry[0]] += entry[1] * (1.0 + math.log(c))
        return out


def _as_text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def _unit_rows(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    result: npt.NDArray[np.float64] = x / np.where(norms > 0, norms, 1.0)
    return result
