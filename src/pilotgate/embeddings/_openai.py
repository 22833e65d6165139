"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, vLLM, TEI, Ollama…).

A user who already runs an embedding model points pilotgate at it instead of the bundled
MiniLM. Requests go out in batches over aiohttp (the project's HTTP client) with a few
in flight, retries on 429/5xx honouring ``Retry-After``, and a timeout per request.
``embed`` is synchronous like every :class:`~pilotgate.embeddings.Embedder`; when called
from inside a running event loop it runs its own loop in a worker thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from pilotgate.errors import ConfigError, TargetError

__all__ = ["OpenAIEmbedder"]

T = TypeVar("T")


class OpenAIEmbedder:
    """An :class:`~pilotgate.embeddings.Embedder` over an OpenAI-compatible endpoint.

    Args:
        url: base URL (``http://host:port/v1``) or the full ``…/embeddings`` URL.
        model: the ``model`` field sent with each request.
        api_key_env: name of the environment variable holding the API key (the key
            itself never appears in configuration or logs); None for no key.
        dim: vector dimension; probed with one request on first use when omitted.
        batch_size: texts per request.
        concurrency: requests in flight at once.
        timeout_s: per-request timeout.
        retries: extra attempts on 429, 5xx and connection errors.
    """

    def __init__(
        self,
        url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        *,
        dim: int | None = None,
        batch_size: int = 128,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        retries: int = 2,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"not an http(s) URL: {url!r}", fix="e.g. http://127.0.0.1:8000/v1")
        if batch_size < 1 or concurrency < 1 or retries < 0 or timeout_s <= 0:
            raise ConfigError(
                "batch_size, concurrency, timeout_s must be positive", fix="use defaults"
            )
        base = url.rstrip("/")
        self.url = base if base.endswith("/embeddings") else base + "/embeddings"
        self.model = model
        self.api_key_env = api_key_env
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.retries = retries
        self.name = f"openai:{model}@{parts.netloc}"
        self._dim = dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return unit-norm float32 rows, one per text, in input order."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        rows = _run(self._embed_all(list(texts)))
        arr = np.asarray(rows, dtype=np.float32)
        if self._dim is None:
            self._dim = arr.shape[1]
        elif arr.shape[1] != self._dim:
            raise TargetError(
                f"endpoint returned {arr.shape[1]}-dimensional vectors, expected {self._dim}",
                where=self.url,
                fix="pass the model's real dim, or omit dim to probe it",
            )
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        out: npt.NDArray[np.float32] = (arr / np.maximum(norms, 1e-12)).astype(np.float32)
        return out

    async def _embed_all(self, texts: list[str]) -> list[list[float]]:
        import aiohttp

        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
        sem = asyncio.Semaphore(self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:

            async def one(batch: list[str]) -> list[list[float]]:
                async with sem:
                    return await self._post(session, batch)

            results = await asyncio.gather(*(one(b) for b in batches))
        return [row for batch in results for row in batch]

    async def _post(self, session: Any, batch: list[str]) -> list[list[float]]:
        import aiohttp

        # Most endpoints reject an empty string; a space embeds as "nothing" just as well.
        payload = {"model": self.model, "input": [t if t.strip() else " " for t in batch]}
        last = ""
        for attempt in range(self.retries + 1):
            try:
                async with session.post(self.url, json=payload) as resp:
                    if resp.status == 200:
                        return _parse(await resp.json(content_type=None), len(batch), self.url)
                    last = f"HTTP {resp.status}: {(await resp.text())[:200]}"
                    if resp.status != 429 and resp.status < 500:
                        break
                    delay = _retry_after(resp.headers.get("Retry-After"), attempt)
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = 0.2 * 2.0**attempt
            if attempt < self.retries:
                await asyncio.sleep(delay)
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:  # a server that echoes the key back must not put it in the error line
            last = last.replace(key, "***")
        raise TargetError(
            f"embedding request failed ({last})",
            where=self.url,
            fix="check the URL, model name and API key variable",
        )


def _retry_after(value: str | None, attempt: int) -> float:
    try:
        return min(float(value), 30.0) if value is not None else 0.2 * 2.0**attempt
    except ValueError:
        return 0.2 * 2.0**attempt


def _parse(body: Any, n: int, url: str) -> list[list[float]]:
    try:
        data = sorted(body["data"], key=lambda d: d.get("index", 0))
        rows = [list(map(float, d["embedding"])) for d in data]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TargetError(
            "response is not an OpenAI embeddings response",
            where=url,
            fix='the endpoint must return {"data": [{"embedding": [...], "index": i}, ...]}',
        ) from None
    if len(rows) != n or len({len(r) for r in rows}) > 1:
        raise TargetError(
            f"expected {n} vectors of one dimension, got {len(rows)}",
            where=url,
            fix="check the endpoint",
        )
    return rows


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
