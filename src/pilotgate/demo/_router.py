"""Intent routing by sentence-embedding similarity to exemplars.

Each intent is scored by its best-matching exemplar (max cosine); the top intent wins
if it clears the version's out-of-scope threshold. v2 also normalises the input
(pasted formatting, repeated punctuation, shouting, abbreviations), routes each part of
a multi-part request and knows what out-of-scope requests look like.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pilotgate.demo._intents import INTENTS, OUT_OF_SCOPE, OUT_OF_SCOPE_EXEMPLARS
from pilotgate.embeddings import Embedder
from pilotgate.errors import ConfigError

__all__ = ["VERSIONS", "IntentRouter", "Route", "RouterVersion", "normalize"]


@dataclass(frozen=True)
class RouterVersion:
    """What distinguishes one version of the feature from another.

    Attributes:
        name: the version label recorded with every interaction.
        extra_exemplars: route by the production-vocabulary exemplars too.
        oos_exemplars: score against exemplars of requests to decline.
        normalize: clean the input before embedding it.
        split_parts: route multi-part requests by their first routable part.
        threshold: below this best cosine the request is out of scope.
    """

    name: str
    extra_exemplars: bool
    oos_exemplars: bool
    normalize: bool
    split_parts: bool
    threshold: float


VERSIONS: dict[str, RouterVersion] = {
    "v1": RouterVersion("v1", False, False, False, False, threshold=0.45),
    "v2": RouterVersion("v2", True, True, True, True, threshold=0.40),
}


@dataclass(frozen=True)
class Route:
    """The routing decision for one request."""

    intent: str
    confidence: float


_ABBREVIATIONS = {
    "acct": "account",
    "accts": "accounts",
    "bal": "balance",
    "cc": "credit card",
    "pls": "please",
    "plz": "please",
    "asap": "urgently",
    "txn": "transaction",
    "txns": "transactions",
    "xfer": "transfer",
    "u": "you",
    "ur": "your",
    "addr": "address",
    "od": "overdraft",
    "ach": "ach bank transfer",
    "thx": "thanks",
    "w/": "with",
    "b/c": "because",
    "refi": "mortgage refinance",
    "heloc": "home equity loan",
}
_ABBR_RE = re.compile(
    r"(?<![\w/])(" + "|".join(re.escape(k) for k in _ABBREVIATIONS) + r")(?![\w/])",
    re.IGNORECASE,
)
_QUOTE_HEADER = re.compile(
    r"^\s*(on .{3,80} wrote:|-{2,}\s*original message\s*-{2,}|from:.*)$", re.I
)
_SIGNATURE = re.compile(r"^\s*(--\s*|sent from my .*|best,?|thanks,?|regards,?|cheers,?)\s*$", re.I)
_MARKDOWN = re.compile(r"(\*\*|__|`{1,3}|^#{1,6}\s*|^\s*[-*+>]\s+|^\s*\d+\.\s+)", re.M)
_HTML = re.compile(r"<[^>]{1,40}>")
_REPEATS = re.compile(r"([!?.,])\1+")
_SPACES = re.compile(r"\s+")
_PART_SPLIT = re.compile(r"(?<=[.?!])\s+|\s+(?:and also|also|plus|and then)\s+", re.I)


def normalize(text: str) -> str:
    """v2's input clean-up: the formatting and noise production adds to a request.

    Drops quoted e-mail history and signatures, markdown and HTML marks, collapses
    repeated punctuation and whitespace, lowers shouting and expands the banking
    abbreviations customers type.
    """
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith(">") or _QUOTE_HEADER.match(line) or _SIGNATURE.match(line):
            continue
        lines.append(line)
    out = _HTML.sub(" ", "\n".join(lines))
    out = _MARKDOWN.sub(" ", out)
    out = _REPEATS.sub(r"\1", out)
    out = _SPACES.sub(" ", out).strip()
    letters = [c for c in out if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        out = out.lower()
    return _ABBR_RE.sub(lambda m: _ABBREVIATIONS[m.group(1).lower()], out)


class IntentRouter:
    """Routes texts to intent labels for one version of the feature.

    Args:
        version: ``"v1"`` or ``"v2"`` (see :data:`VERSIONS`).
        embedder: any :class:`~pilotgate.embeddings.Embedder`; its vectors must be unit-norm.
        cache_size: how many routing decisions to remember by text.
    """

    def __init__(self, version: str, embedder: Embedder, *, cache_size: int = 20_000) -> None:
        if version not in VERSIONS:
            raise ConfigError(
                f"unknown demo feature version {version!r}",
                where="PILOTGATE_DEMO_VERSION",
                fix=f"use one of: {', '.join(VERSIONS)}",
            )
        self.version = VERSIONS[version]
        self.embedder = embedder
        self._labels: list[str] = []
        self._matrix: npt.NDArray[np.float32] | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, Route] = {}
        self.cache_size = cache_size

    def _exemplars(self) -> tuple[npt.NDArray[np.float32], list[str]]:
        with self._lock:
            if self._matrix is None:
                texts: list[str] = []
                labels: list[str] = []
                for intent in INTENTS:
                    ex = list(intent.exemplars)
                    if self.version.extra_exemplars:
                        ex += intent.exemplars_v2
                    texts += ex
                    labels += [intent.label] * len(ex)
                if self.version.oos_exemplars:
                    texts += OUT_OF_SCOPE_EXEMPLARS
                    labels += [OUT_OF_SCOPE] * len(OUT_OF_SCOPE_EXEMPLARS)
                if self.version.normalize:
                    texts = [normalize(t) for t in texts]
                self._matrix = self.embedder.embed(texts)
                self._labels = labels
            return self._matrix, self._labels

    def cached(self, text: str) -> Route | None:
        """The remembered decision for ``text``, if it was routed before."""
        return self._cache.get(text)

    def warm(self) -> None:
        """Embed the exemplars now, so the first request does not pay for it."""
        self._exemplars()

    def route(self, texts: Sequence[str]) -> list[Route]:
        """Route every text; the result is in input order.

        Decisions are cached by text (production repeats itself), bounded to
        ``cache_size`` entries.
        """
        out: list[Route | None] = [self._cache.get(t) for t in texts]
        todo = sorted({t for t, r in zip(texts, out, strict=True) if r is None})
        if todo:
            fresh = dict(zip(todo, self._route_uncached(todo), strict=True))
            with self._lock:
                if len(self._cache) + len(fresh) > self.cache_size:
                    self._cache.clear()
                self._cache.update(fresh)
            out = [r if r is not None else fresh[t] for t, r in zip(texts, out, strict=True)]
        return [r for r in out if r is not None]

    def _route_uncached(self, texts: list[str]) -> list[Route]:
        matrix, labels = self._exemplars()
        prepared = [normalize(t) if self.version.normalize else t for t in texts]
        whole = self._route_prepared(prepared, matrix, labels)
        if not self.version.split_parts:
            return whole
        parts = {i: ps for i, t in enumerate(prepared) if len(ps := _parts(t)) > 1}
        flat = [p for ps in parts.values() for p in ps]
        flat_routes = self._route_prepared(flat, matrix, labels) if flat else []
        k = 0
        for i, ps in parts.items():
            whole[i] = _first_routable(flat_routes[k : k + len(ps)], whole[i])
            k += len(ps)
        return whole

    def _route_prepared(
        self, texts: list[str], matrix: npt.NDArray[np.float32], labels: list[str]
    ) -> list[Route]:
        sims = self.embedder.embed(texts) @ matrix.T
        best = sims.argmax(axis=1)
        routes = []
        for row, j in enumerate(best):
            conf = float(sims[row, j])
            label = labels[int(j)]
            if conf < self.version.threshold:
                label = OUT_OF_SCOPE
            routes.append(Route(label, round(conf, 4)))
        return routes


def _parts(text: str) -> list[str]:
    parts = [p.strip(" ,;") for p in _PART_SPLIT.split(text)]
    parts = [p for p in parts if len(p) >= 8]
    return parts[:3] or [text]


def _first_routable(parts: list[Route], whole: Route) -> Route:
    for r in parts:
        if r.intent != OUT_OF_SCOPE:
            return r
    return whole
