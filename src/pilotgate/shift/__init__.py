"""Distribution shift and eval-set coverage: what production sends that nobody tested.

``analyze_shift(eval_texts, production_texts, embedder=..., seed=0)`` returns a
:class:`ShiftResult`: coverage of production by the eval set (size-independent,
calibrated on the eval set's own neighbourhood scale) with a 95 % interval, the gaps
(clusters of uncovered inputs with labels, telling descriptors and examples), drift
tests (descriptors and embeddings) and a 2-D map. ``docs/shift.md`` defines each part.
"""

# The embedding cache and the OpenAI embedder live in pilotgate.embeddings; re-exported here.
from pilotgate.embeddings import (
    EmbeddingCache,
    EmbedStats,
    InMemoryEmbeddingCache,
    OpenAIEmbedder,
    StoreEmbeddingCache,
    embed_texts,
    text_hash,
)
from pilotgate.shift._analyze import analyze_shift
from pilotgate.shift._descriptors import DESCRIPTORS, Descriptors, compute_descriptors
from pilotgate.shift._gaps import Gap, suggest_cases
from pilotgate.shift._inputs import ShiftInputs, load_inputs
from pilotgate.shift._result import SCHEMA, Coverage, ShiftResult
from pilotgate.shift._run import ShiftRequest, run_shift
from pilotgate.shift._store_io import eval_set_inputs, production_inputs
from pilotgate.shift._terminal import print_shift

__all__ = [
    "DESCRIPTORS",
    "SCHEMA",
    "Coverage",
    "Descriptors",
    "EmbedStats",
    "EmbeddingCache",
    "Gap",
    "InMemoryEmbeddingCache",
    "OpenAIEmbedder",
    "ShiftInputs",
    "ShiftRequest",
    "ShiftResult",
    "StoreEmbeddingCache",
    "analyze_shift",
    "compute_descriptors",
    "embed_texts",
    "eval_set_inputs",
    "load_inputs",
    "print_shift",
    "production_inputs",
    "run_shift",
    "suggest_cases",
    "text_hash",
]
