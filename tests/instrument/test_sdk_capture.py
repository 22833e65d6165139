"""What ``@track``, ``track()`` as a context manager, feedback and steps record (local store)."""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pilotgate import instrument as pg
from pilotgate.store import Store


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/sdk.db"
    stats = pg.configure(
        store=url, spill_dir=str(tmp_path / "spill"), feature="default-feature", version="v0"
    )
    assert stats["config_problems"] == []
    return url


def pid(url: str, raw: str) -> str:
    """The pseudonym the store gives ``raw`` (redaction is on: ids are keyed hashes)."""
    from pilotgate.redact import Pseudonymiser

    with Store(url) as s:
        return Pseudonymiser(s.secret("pseudonym")).id(raw)


def stored(url: str) -> dict[str, dict[str, Any]]:
    assert pg.flush(10), pg.stats()
    with Store(url) as s:
        return {r["id"]: r for r in s.interactions()}


def test_sync_function_records_input_output_session_and_id(db: str) -> None:
    seen: list[str | None] = []

    @pg.track(feature="support-router", version="v3")
    def answer(question: str) -> str:
        seen.append(pg.current_interaction_id())
        return f"answer to {question}"

    with pg.session("s-1", "u-1"):
        assert answer("where is my card?") == "answer to where is my card?"
    assert pg.current_interaction_id() is None
    rows = stored(db)
    assert list(rows) == seen
    row = rows[seen[0] or ""]
    assert row["feature"] == "support-router"
    assert row["version"] == "v3"
    assert row["input"] == "where is my card?"
    assert row["output"] == "answer to where is my card?"
    assert (row["session_id"], row["user_id"]) == (pid(db, "s-1"), pid(db, "u-1"))
    assert row["latency_ms"] >= 0 and row["error"] is None


def test_bare_decorator_uses_configured_defaults_and_exceptions_propagate(db: str) -> None:
    @pg.track
    def boom(prompt: str) -> str:
        raise KeyError(prompt)

    with pytest.raises(KeyError):
        boom("x")
    (row,) = stored(db).values()
    assert (row["feature"], row["version"]) == ("default-feature", "v0")
    assert row["error"] == "KeyError" and row["output"] is None and row["input"] == "x"


async def test_async_function_and_concurrent_tasks_keep_their_own_ids(db: str) -> None:
    @pg.track(feature="async-f")
    async def answer(question: str) -> dict[str, str]:
        first = pg.current_interaction_id()
        await asyncio.sleep(0.01)
        assert pg.current_interaction_id() == first  # not clobbered by the other tasks
        return {"text": question.upper(), "id": first or ""}

    outs = await asyncio.gather(*(answer(f"q{i}") for i in range(5)))
    rows = stored(db)
    assert {o["id"] for o in outs} == set(rows)
    for o in outs:
        assert rows[o["id"]]["input"] == o["text"].lower()
        assert '"text"' in rows[o["id"]]["output"]  # a dict answer is stored as JSON


def test_sync_generator_records_ttft_and_joined_output(db: str) -> None:
    ids: list[str | None] = []

    @pg.track(feature="stream")
    def stream(prompt: str) -> Iterator[str]:
        ids.append(pg.current_interaction_id())
        yield "Hel"
        yield "lo"

    assert pg.current_interaction_id() is None
    assert list(stream("hi")) == ["Hel", "lo"]
    row = stored(db)[ids[0] or ""]
    assert row["output"] == "Hello"
    assert row["ttft_ms"] is not None and row["ttft_ms"] <= row["latency_ms"]
    assert row["metadata"]["stream_chunks"] == 2


def test_generator_closed_early_is_recorded_as_incomplete(db: str) -> None:
    @pg.track(feature="stream")
    def stream(prompt: str) -> Generator[str, None, None]:
        yield from ["a", "b", "c"]

    gen = stream("x")
    assert next(gen) == "a"
    gen.close()
    (row,) = stored(db).values()
    assert row["output"] == "a" and row["metadata"]["stream_incomplete"] is True


async def test_async_generator_joins_openai_style_chunks(db: str) -> None:
    @pg.track(feature="astream", version="v2")
    async def stream(messages: list[dict[str, str]]) -> AsyncIterator[dict[str, Any]]:
        for piece in ("Bon", "jour"):
            yield {"choices": [{"delta": {"content": piece}}]}

    msgs = [{"role": "user", "content": "hello"}]
    chunks = [c async for c in stream(msgs)]
    assert len(chunks) == 2
    (row,) = stored(db).values()
    assert row["output"] == "Bonjour"
    assert row["input_messages"] == msgs
    assert row["ttft_ms"] is not None


def test_context_manager_handle_fields(db: str) -> None:
    with pg.track(feature="cm", version="v9") as t:
        assert pg.current_interaction_id() == t.id
        t.input = "question"
        t.output = "answer"
        t.tokens_in, t.tokens_out = 12, 34
        t.metadata["model"] = "m-1"
        t.first_token()
    with pytest.raises(ValueError), pg.track(feature="cm") as failed:
        raise ValueError("no")
    rows = stored(db)
    row = rows[t.id]
    assert (row["input"], row["output"], row["tokens_in"], row["tokens_out"]) == (
        "question",
        "answer",
        12,
        34,
    )
    assert row["metadata"] == {"model": "m-1"} and row["ttft_ms"] is not None
    assert rows[failed.id]["error"] == "ValueError"


def test_annotate_inside_decorated_call(db: str) -> None:
    @pg.track(feature="a")
    def answer(question: str) -> str:
        pg.annotate(tokens_in=5, tokens_out=7, model="m-2")
        return "ok"

    answer("q")
    pg.annotate(tokens_in=1)  # outside a tracked call: ignored, counted
    (row,) = stored(db).values()
    assert (row["tokens_in"], row["tokens_out"], row["metadata"]) == (5, 7, {"model": "m-2"})
    assert pg.stats()["annotate_ignored"] >= 1


def test_session_and_user_from_arguments(db: str) -> None:
    @pg.track(feature="f", input_arg="text", session_arg="sid", user_arg="uid")
    def answer(sid: str, uid: str, text: str) -> str:
        return text

    answer("s-9", "u-9", text="hello")
    (row,) = stored(db).values()
    assert (row["session_id"], row["user_id"], row["input"]) == (
        pid(db, "s-9"),
        pid(db, "u-9"),
        "hello",
    )


def test_feedback_and_steps_are_stored(db: str) -> None:
    @pg.track(feature="f")
    def answer(question: str) -> str:
        return "a"

    answer("q")
    (iid,) = stored(db)
    fid = pg.feedback(iid, accepted=False, score=0.5, edited_output="b", dwell_ms=5300)
    sid = pg.step("s-1", "copied_answer", button="copy")
    assert fid and sid
    assert pg.flush(10)
    with Store(db) as s:
        (fb,) = s.feedback()
        (st,) = s.steps()
    assert (fb["id"], fb["interaction_id"], fb["accepted"], fb["dwell_ms"]) == (
        fid,
        iid,
        False,
        5300,
    )
    assert fb["edited_output"] == "b" and fb["score"] == 0.5
    assert (st["id"], st["session_id"], st["name"], st["metadata"]) == (
        sid,
        pid(db, "s-1"),
        "copied_answer",
        {"button": "copy"},
    )


def test_ids_are_unique_across_threads(db: str) -> None:
    @pg.track(feature="f")
    def answer(question: str) -> str | None:
        return pg.current_interaction_id()

    out: list[str | None] = []

    def worker() -> None:
        out.extend(answer("q") for _ in range(500))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(out)) == 2000
    assert set(stored(db)) == set(out)


def test_sampling_is_deterministic_per_id_and_feedback_follows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "spill"), sample_rate=0.3)

    @pg.track(feature="f")
    def answer(question: str) -> str | None:
        return pg.current_interaction_id()

    ids = [answer("q") or "" for _ in range(1000)]
    for iid in ids:
        pg.feedback(iid, accepted=True)
    kept = set(stored(url))
    expected = {i for i in ids if zlib.crc32(i.encode()) < int(0.3 * 2**32)}
    assert kept == expected
    assert 200 < len(kept) < 400
    with Store(url) as s:
        assert {f["interaction_id"] for f in s.feedback()} == kept
    assert pg.stats()["sampled_out"] == 2 * (1000 - len(kept))


def test_local_store_mode_redacts_by_default(db: str) -> None:
    @pg.track(feature="f")
    def answer(question: str) -> str:
        return "write to ann@example.com"

    answer("my card is 4111 1111 1111 1111")
    (row,) = stored(db).values()
    assert "4111" not in row["input"] and "[CARD]" in row["input"]
    assert row["output"] == "write to [EMAIL]"
    assert row["metadata"]["redactions"] == {"card": 1, "email": 1}


def test_custom_redactor_and_redaction_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "sp"), redact=lambda s: s.replace("x", "#"))

    @pg.track(feature="f")
    def answer(question: str) -> str:
        return "xyz ann@example.com"

    answer("xx")
    (row,) = stored(url).values()
    assert (row["input"], row["output"]) == ("##", "#yz ann@e#ample.com")  # not [EMAIL]
    pg.configure(store=url, spill_dir=str(tmp_path / "sp"), redact=False)
    answer("a@b.example")
    assert {r["input"] for r in stored(url).values()} == {"##", "a@b.example"}
