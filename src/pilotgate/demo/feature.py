"""Northwind Bank's support assistant: the bundled AI feature the demo pilots.

It routes each request to an intent with MiniLM sentence embeddings (offline) and has
an LLM write the reply around the intent's canned answer, through any
OpenAI-compatible endpoint (in tests and the demo: :mod:`pilotgate.simulator`, which
starts its reply with the system prompt's ``REPLY:`` line). It is written the way a
user's app would be: aiohttp, one session, a timeout.

Two ways in:

* ``SupportAssistant(llm_base_url, version="v1")`` with ``await answer(text)``;
* ``python:pilotgate.demo.feature:answer`` as a pilotgate target, configured by
  ``PILOTGATE_DEMO_LLM_URL`` (the OpenAI base URL, ending in ``/v1``) and
  ``PILOTGATE_DEMO_VERSION`` (``v1`` by default).
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any

from pilotgate.demo._intents import INTENTS, OUT_OF_SCOPE, OUT_OF_SCOPE_ANSWER
from pilotgate.demo._reply import FEATURE_NAME, AssistantReply, format_output
from pilotgate.demo._router import VERSIONS, IntentRouter, Route
from pilotgate.embeddings import Embedder, get_embedder
from pilotgate.errors import ConfigError, TargetError

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "FEATURE_NAME",
    "AssistantReply",
    "LLMError",
    "SupportAssistant",
    "aclose",
    "answer",
    "format_output",
    "shared_router",
]

_ANSWERS = {i.label: i.answer for i in INTENTS} | {OUT_OF_SCOPE: OUT_OF_SCOPE_ANSWER}
_SYSTEM = (
    "You are Northwind Bank's customer-support assistant. Answer in at most two short "
    "sentences, in the customer's language when you can, and never ask for a full card "
    "number or password.\n"
    "Intent: {intent} (confidence {confidence:.2f})\n"
    "REPLY: {answer}"
)

_router_lock = threading.Lock()
_routers: dict[tuple[str, int], IntentRouter] = {}
_default_embedder: list[Embedder] = []


class LLMError(TargetError):
    """The LLM endpoint failed; ``status`` and ``retry_after`` let a server pass it on."""

    def __init__(
        self, what: str, *, where: str, status: int | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(what, where=where, fix="check that the LLM endpoint is up and reachable")
        self.status = status
        self.retry_after = retry_after


def shared_router(version: str, embedder: Embedder | None = None) -> IntentRouter:
    """The process-wide router for ``version`` (exemplars are embedded once per embedder)."""
    if version not in VERSIONS:
        raise ConfigError(
            f"unknown demo feature version {version!r}",
            where="PILOTGATE_DEMO_VERSION",
            fix=f"use one of: {', '.join(VERSIONS)}",
        )
    with _router_lock:
        if embedder is None:
            if not _default_embedder:
                _default_embedder.append(get_embedder("minilm"))
            embedder = _default_embedder[0]
        key = (version, id(embedder))
        if key not in _routers:
            _routers[key] = IntentRouter(version, embedder)
        return _routers[key]


class SupportAssistant:
    """The customer-support assistant of the fictional Northwind Bank.

    Args:
        llm_base_url: OpenAI-compatible base URL, e.g. ``http://127.0.0.1:8000/v1``.
        version: ``v1`` (demo-tuned) or ``v2`` (the week-two fix).
        embedder: the embedder to route with (default: the shared MiniLM).
        model: model id sent to the LLM endpoint.
        timeout_s: total timeout of one LLM call.
        api_key: sent as a bearer token when set.
        max_tokens: completion budget; by default the canned answer's length in words,
            so a simulator reply is exactly the answer.
    """

    def __init__(
        self,
        llm_base_url: str,
        version: str = "v1",
        embedder: Embedder | None = None,
        *,
        model: str = "pilotgate-sim",
        timeout_s: float = 30.0,
        api_key: str | None = None,
        max_tokens: int | None = None,
    ) -> None:
        if not llm_base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"the LLM base URL must be http(s), got {llm_base_url!r}",
                where="PILOTGATE_DEMO_LLM_URL",
                fix="pass the OpenAI base URL, e.g. http://127.0.0.1:8000/v1",
            )
        self.router = shared_router(version, embedder)
        self.version = version
        self.url = llm_base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout_s = timeout_s
        self.api_key = api_key
        self.max_tokens = max_tokens
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SupportAssistant:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session (idempotent)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def prime(self, texts: Sequence[str]) -> None:
        """Route ``texts`` in batches now (blocking), so later answers hit the cache.

        Batched embedding is several times faster than one text per call; a replay of
        a known stream can call this first.
        """
        self.router.route(list(texts))

    async def route(self, text: str) -> Route:
        """The routing decision alone; embedding runs off the event loop."""
        cached = self.router.cached(text)
        if cached is not None:
            return cached
        (route,) = await asyncio.to_thread(self.router.route, [text])
        return route

    async def answer(self, text: str) -> AssistantReply:
        """Route ``text`` and have the LLM write the reply.

        Raises:
            LLMError: the LLM endpoint failed, timed out or answered nonsense.
        """
        route = await self.route(text)
        canned = _ANSWERS[route.intent]
        messages = [
            {
                "role": "system",
                "content": _SYSTEM.format(
                    intent=route.intent, confidence=route.confidence, answer=canned
                ),
            },
            {"role": "user", "content": text},
        ]
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens or len(canned.split()),
            "temperature": 0,
        }
        data = await self._post(body)
        try:
            content = data["choices"][0]["message"]["content"]
            usage = data.get("usage") or {}
        except (KeyError, IndexError, TypeError):
            raise LLMError("the LLM answered without choices[0].message", where=self.url) from None
        return AssistantReply(
            intent=route.intent,
            confidence=route.confidence,
            text=str(content).strip(),
            version=self.version,
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=usage.get("completion_tokens"),
        )

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        import aiohttp

        if self._session is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s), headers=headers
            )
        try:
            async with self._session.post(self.url, json=body) as resp:
                if resp.status != 200:
                    detail = (await resp.text())[:200]
                    raise LLMError(
                        f"the LLM answered HTTP {resp.status}: {detail}",
                        where=self.url,
                        status=resp.status,
                        retry_after=resp.headers.get("Retry-After"),
                    )
                data: dict[str, Any] = await resp.json(content_type=None)
                return data
        except TimeoutError:
            raise LLMError(f"the LLM timed out after {self.timeout_s} s", where=self.url) from None
        except aiohttp.ClientError as exc:
            raise LLMError(f"cannot reach the LLM ({type(exc).__name__})", where=self.url) from None
        except ValueError:
            raise LLMError("the LLM answered with invalid JSON", where=self.url) from None


# -- the python: target ---------------------------------------------------------------
_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[SupportAssistant, AsyncGenerator[None, None]]
] = weakref.WeakKeyDictionary()


async def _close_at_loop_shutdown(assistant: SupportAssistant) -> AsyncGenerator[None, None]:
    """Parked async generator: ``loop.shutdown_asyncgens()`` (which ``asyncio.run``
    calls) closes it, and so the assistant's HTTP session, even if nobody calls
    :func:`aclose`."""
    try:
        yield
    finally:
        await assistant.aclose()


def _from_env() -> SupportAssistant:
    url = os.environ.get("PILOTGATE_DEMO_LLM_URL")
    if not url:
        raise ConfigError(
            "PILOTGATE_DEMO_LLM_URL is not set",
            where="environment",
            fix="export PILOTGATE_DEMO_LLM_URL=http://127.0.0.1:PORT/v1 (e.g. pilotgate simulate)",
        )
    return SupportAssistant(url, os.environ.get("PILOTGATE_DEMO_VERSION", "v1"))


def _text_of(value: str | list[dict[str, Any]]) -> str:
    if isinstance(value, str):
        return value
    for msg in reversed(value):
        if msg.get("role", "user") == "user":
            return str(msg.get("content", ""))
    return ""


async def answer(text: str | list[dict[str, Any]]) -> str:
    """Answer one request as ``[intent=<label>] <reply>``; configured from the environment.

    One assistant (one HTTP session) is kept per event loop; :func:`aclose` closes it,
    and so does the loop's shutdown (``asyncio.run`` finishing).
    """
    loop = asyncio.get_running_loop()
    entry = _by_loop.get(loop)
    if entry is None:
        assistant = _from_env()
        closer = _close_at_loop_shutdown(assistant)
        await closer.__anext__()
        entry = _by_loop[loop] = (assistant, closer)
    reply = await entry[0].answer(_text_of(text))
    return reply.output


async def aclose() -> None:
    """Close the assistant :func:`answer` keeps for the running loop."""
    entry = _by_loop.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        await entry[1].aclose()
