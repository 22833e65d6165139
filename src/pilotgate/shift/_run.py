"""Choosing shift's inputs: files or the store, the embedding cache and the embedder.

``pilotgate shift`` is one caller of :func:`run_shift`: it names where the eval set and
production come from (:class:`ShiftRequest`) and gets the recorded :class:`ShiftResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pilotgate._dates import parse_time
from pilotgate.embeddings import EmbeddingCache, InMemoryEmbeddingCache, StoreEmbeddingCache
from pilotgate.errors import ConfigError
from pilotgate.shift._analyze import analyze_shift
from pilotgate.shift._inputs import ShiftInputs, load_inputs
from pilotgate.shift._result import ShiftResult
from pilotgate.shift._store_io import eval_set_inputs, production_inputs

if TYPE_CHECKING:
    from datetime import datetime

    from pilotgate.store import Store

__all__ = ["ShiftRequest", "run_shift"]


@dataclass(frozen=True, kw_only=True)
class ShiftRequest:
    """Where both sides of a shift analysis come from, and how to compare them."""

    #: eval cases from a JSONL file (cases or ingest lines); or ``eval_set``.
    eval_path: str | None = None
    #: a stored eval set, ``NAME`` or ``NAME@VERSION``; or ``eval_path``.
    eval_set: str | None = None
    #: production inputs from a JSONL file; or ``feature``.
    production_path: str | None = None
    #: production as the stored interactions of this feature; or ``production_path``.
    feature: str | None = None
    #: with ``feature``: only interactions since this date (``YYYY-MM-DD`` or RFC 3339).
    since: str | None = None
    #: with ``feature``: only this feature version.
    version: str | None = None
    #: ``minilm``, ``lexical``, a registered name, or ``openai:URL`` (with ``embedding_model``).
    embedder: str = "minilm"
    #: model name sent to an ``openai:URL`` embedder.
    embedding_model: str | None = None
    #: environment variable holding the ``openai:URL`` endpoint's API key.
    api_key_env: str = "OPENAI_API_KEY"
    #: seed for samples, splits and permutations.
    seed: int = 0
    #: coverage calibration level (expected coverage when nothing shifted).
    level: float = 0.95
    #: analyse a uniform sample of at most this many production inputs.
    max_production: int = 100_000

    def check(self) -> None:
        """Raise :class:`ConfigError` when the sources are missing, doubled or mixed up."""
        if bool(self.eval_path) == bool(self.eval_set):
            raise ConfigError(
                "give the eval set as exactly one of --eval FILE or --eval-set NAME",
                fix="e.g. --eval cases.jsonl",
            )
        if bool(self.production_path) == bool(self.feature):
            raise ConfigError(
                "give production as exactly one of --production FILE or --feature NAME",
                fix="e.g. --production prod.jsonl",
            )
        if (self.since or self.version) and not self.feature:
            raise ConfigError(
                "--since and --version filter stored production", fix="add --feature F"
            )
        if self.embedder.startswith("openai:") and not self.embedding_model:
            raise ConfigError("an openai:URL embedder needs --embedding-model NAME")
        if not self.embedder.startswith("openai:") and self.embedding_model:
            raise ConfigError("--embedding-model is for openai:URL embedders", fix="drop it")


def run_shift(
    request: ShiftRequest,
    *,
    store_url: str | None = None,
    save: bool = True,
    feature: str | None = None,
    version: str | None = None,
) -> ShiftResult:
    """Read both sides, pick the embedding cache and embedder, and run :func:`analyze_shift`.

    The store (``store_url``, else the configured one) is opened only when an input lives
    there or the run is saved; model embeddings are then cached in it between runs.

    Args:
        request: the inputs and the analysis settings.
        store_url: the store to read from and record in.
        save: record the run (its uncovered inputs as results).
        feature: the feature the recorded run measures (not the production filter).
        version: the feature version the recorded run measures.

    Raises:
        ConfigError: a bad combination of sources (:meth:`ShiftRequest.check`).
        InputError: an input that cannot be read, or is empty.
    """
    request.check()
    since = parse_time(request.since, where="--since")
    store = _open(store_url) if (request.eval_set or request.feature or save) else None
    try:
        ev = _eval_side(request, store)
        pr = _production_side(request, store, since)
        return analyze_shift(
            ev.texts,
            pr.texts,
            embedder=_embedder(request),
            seed=request.seed,
            eval_ids=ev.ids,
            production_ids=pr.ids,
            production_ts=pr.ts if pr.has_timestamps else None,
            cache=_cache(store, request.embedder),
            level=request.level,
            max_production=request.max_production,
            store=store,
            save=save,
            feature=feature,
            version=version,
            eval_set=ev.ref,
            inputs={
                "eval": request.eval_path or f"store:eval-set:{ev.ref}",
                "production": request.production_path or f"store:feature:{request.feature}",
                "since": request.since,
            },
            notes=_bad_line_notes(request, ev, pr),
        )
    finally:
        if store is not None:
            store.close()


def _open(url: str | None) -> Store:
    from pilotgate.plan import resolve_settings
    from pilotgate.store import Store

    return Store(resolve_settings(store=url).store)


def _eval_side(request: ShiftRequest, store: Store | None) -> ShiftInputs:
    if request.eval_path:
        return load_inputs(request.eval_path)
    assert store is not None
    return eval_set_inputs(store, str(request.eval_set))


def _production_side(
    request: ShiftRequest, store: Store | None, since: datetime | None
) -> ShiftInputs:
    if request.production_path:
        return load_inputs(request.production_path)
    assert store is not None
    return production_inputs(store, str(request.feature), since=since, version=request.version)


def _cache(store: Store | None, embedder: str) -> EmbeddingCache:
    """Model vectors are worth keeping between runs; lexical ones are cheaper to redo."""
    if store is not None and not embedder.startswith("lexical"):
        return StoreEmbeddingCache(store)
    return InMemoryEmbeddingCache()


def _embedder(request: ShiftRequest) -> Any:
    if not request.embedder.startswith("openai:"):
        return request.embedder
    from pilotgate.embeddings import OpenAIEmbedder

    return OpenAIEmbedder(
        request.embedder.removeprefix("openai:"),
        str(request.embedding_model),
        request.api_key_env or None,
    )


def _bad_line_notes(request: ShiftRequest, ev: ShiftInputs, pr: ShiftInputs) -> list[str]:
    sides = (
        (request.eval_path or request.eval_set, ev),
        (request.production_path or request.feature, pr),
    )
    return [
        f"{name}: skipped {len(inputs.bad_lines)} unreadable line(s); "
        f"first: line {inputs.bad_lines[0].line}: {inputs.bad_lines[0].error}"
        for name, inputs in sides
        if inputs.bad_lines
    ]
