"""The SDK never raises into the application, however it is (mis)configured or (mis)used."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from pilotgate import instrument as pg
from pilotgate.errors import ConfigError
from pilotgate.instrument._config import SDKSettings


@pg.track(feature="f")
def answer(question: str) -> str:
    return question + "!"


def test_unconfigured_sdk_is_a_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILOTGATE_STORE", raising=False)
    monkeypatch.delenv("PILOTGATE_COLLECTOR", raising=False)
    assert answer("q") == "q!"
    assert pg.feedback("x", accepted=True) is None
    assert pg.step("s", "opened") is None
    assert pg.flush(0.1) is True
    st = pg.stats()
    assert st["enabled"] is False and "not configured" in st["last_error"]
    with pg.track(feature="cm") as t:
        t.output = "fine"
    assert t.output == "fine"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"colector": "http://127.0.0.1:1"}, "did you mean 'collector'"),
        ({"store": "sqlite:///x.db", "collector": "http://127.0.0.1:1"}, "not both"),
        ({}, "no store= or collector="),
        ({"collector": "ftp://nowhere"}, "http(s)://"),
        ({"collector": 42}, "non-empty string"),
        ({"store": "sqlite:///x.db", "sample_rate": 7}, "between 0 and 1"),
        ({"store": "sqlite:///x.db", "buffer_size": -1}, "positive integer"),
        ({"store": "sqlite:///x.db", "exit_deadline_s": "soon"}, "positive number"),
        ({"store": "sqlite:///x.db", "redact": "yes"}, "Redactor"),
    ],
)
def test_misconfiguration_is_reported_not_raised(
    settings: dict[str, Any], problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PILOTGATE_STORE", raising=False)
    monkeypatch.delenv("PILOTGATE_COLLECTOR", raising=False)
    st = pg.configure(**settings)
    assert any(problem in p for p in st["config_problems"]), st["config_problems"]
    assert answer("still works") == "still works!"
    assert isinstance(pg.stats(), dict)
    with pytest.raises(ConfigError, match="pilotgate.configure"):
        pg.configure(strict=True, **settings)


def test_bad_value_falls_back_to_its_default(tmp_path: Path) -> None:
    st = pg.configure(
        store=f"sqlite:///{tmp_path}/x.db", spill_dir=str(tmp_path / "s"), sample_rate=-1
    )
    assert st["enabled"] is True and len(st["config_problems"]) == 1
    answer("q")
    assert pg.flush(10) and pg.stats()["sent"] == 1  # sample_rate fell back to 1.0


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOTGATE_COLLECTOR", "http://127.0.0.1:9")
    monkeypatch.setenv("PILOTGATE_API_KEY", "k-env")
    monkeypatch.setenv("PILOTGATE_SPILL_DIR", str(tmp_path / "env-spill"))
    st = pg.configure()
    assert st["backend"] == "collector:http://127.0.0.1:9" and st["config_problems"] == []
    assert str(SDKSettings(collector="http://x").spill_path()).startswith(str(tmp_path))


def test_unreachable_store_spills_instead_of_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    pg.configure(store=f"sqlite:///{blocker}/db.sqlite", spill_dir=str(tmp_path / "spill"))
    for i in range(5):
        assert answer(f"q{i}") == f"q{i}!"
    assert pg.flush(1) is False
    st = pg.stats()
    assert st["spilled"] == 5 and st["backend_up"] is False and st["last_error"]


def test_misuse_of_the_api_does_not_raise(tmp_path: Path) -> None:
    pg.configure(store=f"sqlite:///{tmp_path}/x.db", spill_dir=str(tmp_path / "s"))
    # each call below deliberately breaks the API's types: the SDK must shrug it off
    assert pg.track(feature="f")(42) == 42  # type: ignore[type-var]  # not callable: unchanged
    pg.feedback(None, accepted="maybe", score="high")  # type: ignore[arg-type]
    pg.step(None, None, x=object())  # type: ignore[arg-type]
    pg.annotate(tokens_in="many")  # type: ignore[arg-type]
    tracker = pg.track(feature="f")
    tracker.__exit__(None, None, None)  # exit without enter

    @pg.track(feature="f")
    def odd(*args: Any, **kwargs: Any) -> object:
        return object()  # not JSON: stored as its str()

    odd(object(), key={1, 2})
    assert pg.flush(10)
    st = pg.stats()
    assert st["sent"] == 1 and st["invalid"] + st["rejected"] == 2


def test_shutdown_twice_and_reconfigure(tmp_path: Path) -> None:
    pg.configure(store=f"sqlite:///{tmp_path}/x.db", spill_dir=str(tmp_path / "s"))
    assert pg.shutdown() is True
    assert pg.shutdown() is True
    assert answer("q") == "q!"
    pg.configure(store=f"sqlite:///{tmp_path}/x.db", spill_dir=str(tmp_path / "s"))
    answer("q")
    assert pg.flush(10) and pg.stats()["sent"] == 1


def test_async_cancellation_propagates(tmp_path: Path) -> None:
    pg.configure(store=f"sqlite:///{tmp_path}/x.db", spill_dir=str(tmp_path / "s"))

    @pg.track(feature="slow")
    async def slow(question: str) -> str:
        await asyncio.sleep(10)
        return question

    async def main() -> None:
        task = asyncio.create_task(slow("q"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert pg.flush(10)
    assert pg.stats()["sent"] == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_fresh_ids_and_its_own_exporter(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "s"))

    @pg.track(feature="fork")
    def who(question: str) -> str | None:
        return pg.current_interaction_id()

    parent_id = who("parent")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        child_id = who("child") or ""
        ok = pg.flush(10)
        os.write(w, f"{child_id} {ok}".encode())
        os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    child_id, child_ok = os.read(r, 200).decode().split()
    os.close(r)
    assert status == 0 and child_ok == "True"
    assert child_id != parent_id and child_id.split("-")[0] != (parent_id or "").split("-")[0]
    assert pg.flush(10)
    from pilotgate.store import Store

    with Store(url) as s:
        assert {x["id"] for x in s.interactions()} == {parent_id, child_id}
