"""Embedding plumbing: the cache protocol, user embedders, and an OpenAI-compatible endpoint
served by a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from pilotgate.embeddings import Embedder
from pilotgate.errors import ConfigError, TargetError
from pilotgate.shift import (
    EmbeddingCache,
    EmbedStats,
    InMemoryEmbeddingCache,
    OpenAIEmbedder,
    analyze_shift,
    embed_texts,
)


class CountingEmbedder:
    """A user's embedder: anything with name, dim and embed() satisfies the protocol."""

    name = "counting-v1"
    dim = 3

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t) + 1.0, t.count("a") + 1.0, 2.0] for t in texts], dtype=np.float32)


def test_cache_protocol_and_dedup_embed_each_text_once() -> None:
    emb, cache = CountingEmbedder(), InMemoryEmbeddingCache()
    assert isinstance(emb, Embedder) and isinstance(cache, EmbeddingCache)
    stats = EmbedStats()
    v1 = embed_texts(emb, ["a", "b", "a"], cache=cache, stats=stats, progress=False)
    assert emb.seen == ["a", "b"] and stats.unique == 2 and stats.embedded == 2
    v2 = embed_texts(emb, ["b", "c", "a"], cache=cache, stats=stats, progress=False)
    assert emb.seen == ["a", "b", "c"] and stats.cache_hits == 2
    assert np.allclose(v1[0], v2[2]) and np.allclose(np.linalg.norm(v2, axis=1), 1.0)
    assert len(cache) == 3


def test_a_broken_user_embedder_is_a_clear_error() -> None:
    class Wrong(CountingEmbedder):
        dim = 5

    with pytest.raises(ConfigError, match="returned shape"):
        embed_texts(Wrong(), ["x"], progress=False)

    class NaNs(CountingEmbedder):
        def embed(self, texts: Sequence[str]) -> np.ndarray:
            return np.full((len(texts), 3), np.nan, dtype=np.float32)

    with pytest.raises(ConfigError, match="NaN"):
        embed_texts(NaNs(), ["x"], progress=False)


def test_user_embedder_drives_a_whole_analysis() -> None:
    texts = [f"request {'a' * (i % 7)} {i % 5}" for i in range(60)]
    r = analyze_shift(texts[:30], texts[30:], embedder=CountingEmbedder(), seed=0)
    assert r.embedder == "counting-v1" and r.n_production == 30


# -- OpenAI-compatible endpoint -----------------------------------------------------------


def vector(text: str) -> list[float]:
    return [len(text) + 1.0, text.count("e") + 1.0, text.count(" ") + 1.0, 1.0]


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    """A fake OpenAI embeddings endpoint on 127.0.0.1, in its own thread and loop."""
    state: dict[str, Any] = {"requests": 0, "fail_first": 0, "mode": "ok", "auth": []}

    async def embeddings(request: web.Request) -> web.Response:
        state["requests"] += 1
        state["auth"].append(request.headers.get("Authorization"))
        body = await request.json()
        if state["fail_first"] > 0:
            state["fail_first"] -= 1
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"Retry-After": "0"}
            )
        if state["mode"] == "500":
            return web.json_response({"error": "boom"}, status=500)
        if state["mode"] == "garbage":
            return web.json_response({"nope": []})
        data = [{"index": i, "embedding": vector(t)} for i, t in enumerate(body["input"])]
        data.reverse()  # order must come from "index", not position
        return web.json_response({"data": data, "model": body["model"]})

    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/v1/embeddings", embeddings)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert isinstance(site._server, asyncio.Server)
        port = site._server.sockets[0].getsockname()[1]
        state["url"] = f"http://127.0.0.1:{port}/v1"
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        state["runner"] = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield state
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_openai_embedder_batches_orders_and_normalises(
    server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_TEST_KEY", "sk-test")
    emb = OpenAIEmbedder(server["url"], "text-embedding-x", "PG_TEST_KEY", batch_size=4)
    texts = [f"text number {i}" + " e" * i for i in range(10)] + [""]
    vecs = emb.embed(texts)
    assert vecs.shape == (11, 4) and emb.dim == 4
    expected = np.array([vector(t if t else " ") for t in texts])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vecs, expected, atol=1e-6)
    assert server["requests"] == 3 and set(server["auth"]) == {"Bearer sk-test"}
    assert emb.name == f"openai:text-embedding-x@{server['url'].split('/')[2]}"


def test_openai_embedder_retries_429_then_succeeds(server: dict[str, Any]) -> None:
    server["fail_first"] = 2
    emb = OpenAIEmbedder(server["url"], "m", None, dim=4, retries=2)
    vecs = emb.embed(["hello there"])
    assert vecs.shape == (1, 4) and server["requests"] == 3


@pytest.mark.parametrize(("mode", "match"), [("500", "HTTP 500"), ("garbage", "not an OpenAI")])
def test_openai_embedder_errors_name_the_url(server: dict[str, Any], mode: str, match: str) -> None:
    server["mode"] = mode
    emb = OpenAIEmbedder(server["url"], "m", None, dim=4, retries=1)
    with pytest.raises(TargetError, match=match) as exc:
        emb.embed(["x"])
    assert exc.value.where == server["url"] + "/embeddings"
    assert server["requests"] <= 2


def test_openai_embedder_unreachable_and_bad_url() -> None:
    with pytest.raises(ConfigError):
        OpenAIEmbedder("ftp://example", "m")
    emb = OpenAIEmbedder("http://127.0.0.1:9/v1", "m", None, dim=4, retries=0, timeout_s=2)
    with pytest.raises(TargetError, match="embedding request failed"):
        emb.embed(["x"])


async def test_openai_embedder_inside_a_running_loop(server: dict[str, Any]) -> None:
    emb = OpenAIEmbedder(server["url"], "m", None, dim=4)
    # Called synchronously from a coroutine: it runs its own loop in a worker thread.
    vecs = emb.embed(["a b", "c"])
    assert vecs.shape == (2, 4)


def test_cli_uses_an_openai_compatible_endpoint(server: dict[str, Any], tmp_path: Path) -> None:
    import json

    from pilotgate._cli import main

    cases = tmp_path / "c.jsonl"
    cases.write_text(
        "".join(json.dumps({"id": f"c{i}", "input": "word " * (i % 9)}) + "\n" for i in range(40))
    )
    out = tmp_path / "o.json"
    with pytest.raises(SystemExit) as exc:
        main(
            ["shift", "--eval", str(cases), "--production", str(cases), "--no-store",
             "--embedder", f"openai:{server['url']}", "--embedding-model", "m", "--json", str(out)]
        )  # fmt: skip
        raise SystemExit(0)
    assert exc.value.code == 0
    doc = json.loads(out.read_text())
    assert doc["embedder"].startswith("openai:m@127.0.0.1") and doc["coverage"] == 1.0
    assert server["requests"] >= 1
