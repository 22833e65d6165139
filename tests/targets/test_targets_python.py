"""python: adapter — sync and async callables, exceptions, timeouts, import errors."""

from __future__ import annotations

import itertools
import textwrap
import threading
from pathlib import Path

import pytest

from pilotgate.errors import TargetError
from pilotgate.targets import Target, resolve_target

_COUNTER = itertools.count()

FEATURE = textwrap.dedent(
    """
    import asyncio
    import threading

    def sync_upper(text):
        return f"{text.upper()}|{threading.current_thread().name}"

    async def async_echo(value):
        await asyncio.sleep(0)
        return f"async:{value if isinstance(value, str) else value[-1]['content']}"

    def with_usage(text):
        return {"output": text[::-1], "tokens_in": 2, "tokens_out": 3}

    def broken(text):
        raise KeyError("no intent for " + text)

    async def slow(text):
        await asyncio.sleep(5)
        return "late"

    def returns_int(text):
        return 42

    class Router:
        @staticmethod
        def route(text):
            return "billing"

    NOT_CALLABLE = 3
    """
)


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway module on sys.path, with a unique name so imports never collide."""
    name = f"pg_target_feature_{next(_COUNTER)}"
    (tmp_path / f"{name}.py").write_text(FEATURE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


async def test_sync_function_runs_in_a_worker_thread(module: str) -> None:
    t = resolve_target(f"python:{module}:sync_upper")
    assert isinstance(t, Target)
    r = await t.call("hello")
    assert r.ok and r.status is None
    out, thread = r.output.split("|")
    assert out == "HELLO"
    assert thread != threading.current_thread().name  # not on the event loop's thread
    assert r.end >= r.start and r.first_token is None
    assert r.tokens_in is None and r.tokens_out is None


async def test_async_function_is_awaited_and_gets_messages_as_is(module: str) -> None:
    t = resolve_target(f"python:{module}:async_echo")
    assert (await t.call("hi")).output == "async:hi"
    r = await t.call([{"role": "user", "content": "from messages"}])
    assert r.output == "async:from messages"


async def test_dict_return_reports_usage_and_dotted_attribute_resolves(module: str) -> None:
    r = await resolve_target(f"python:{module}:with_usage").call("abc")
    assert (r.output, r.tokens_in, r.tokens_out) == ("cba", 2, 3)
    assert (await resolve_target(f"python:{module}:Router.route").call("x")).output == "billing"


async def test_exception_becomes_an_error_class_not_a_raise(module: str) -> None:
    r = await resolve_target(f"python:{module}:broken").call("refund")
    assert r.error == "exception:KeyError"
    assert not r.ok and r.output == ""
    assert r.detail is not None and "no intent for refund" in r.detail


async def test_timeout_and_wrong_return_type(module: str) -> None:
    r = await resolve_target(f"python:{module}:slow", timeout_s=0.05).call("x")
    assert r.error == "timeout"
    bad = await resolve_target(f"python:{module}:returns_int").call("x")
    assert bad.error == "bad_response" and bad.detail is not None and "int" in bad.detail


async def test_retries_do_not_repeat_a_failing_function(module: str) -> None:
    r = await resolve_target(f"python:{module}:broken", retries=3).call("x")
    assert r.error == "exception:KeyError" and r.retries == 0


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("no_such_module_xyz:fn", "cannot import 'no_such_module_xyz'"),
        ("{mod}:missing", "has no attribute 'missing'"),
        ("{mod}:NOT_CALLABLE", "is a int, not a function"),
        ("{mod}", "bad python target"),
        ("{mod}:a:b", "bad python target"),
    ],
)
def test_unimportable_or_wrong_function_is_a_target_error(
    module: str, suffix: str, message: str
) -> None:
    with pytest.raises(TargetError, match=message) as exc:
        resolve_target("python:" + suffix.format(mod=module))
    assert exc.value.fix
    assert "\n" not in str(exc.value)
