"""The bundled BERT-uncased vocabulary's whole words, by frequency rank.

Shared by the lexical embedder (word weights) and shift's lexicon (which words are
English): the file ships with pilotgate already, for the MiniLM backend.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["VOCAB_PATH", "word_ranks"]

VOCAB_PATH = Path(__file__).parent / "embeddings" / "data" / "vocab.txt"
#: Index of "the" in the BERT-uncased vocabulary: whole words from there on are ordered
#: roughly by frequency.
_FIRST_WORD_ID = 1996


@lru_cache(maxsize=1)
def word_ranks() -> dict[str, int]:
    """Frequency rank of each whole word in the bundled vocabulary (empty if missing)."""
    ranks: dict[str, int] = {}
    try:
        lines = VOCAB_PATH.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ranks
    for i, tok in enumerate(lines[_FIRST_WORD_ID:]):
        if tok.isalpha() and tok not in ranks:
            ranks[tok] = i + 1
    return ranks
