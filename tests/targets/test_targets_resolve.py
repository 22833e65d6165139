"""Target strings, plan targets, fingerprints, retry hints, backoff, run_many, public API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

import pytest

import pilotgate.targets as targets
from pilotgate.errors import ConfigError, TargetError
from pilotgate.targets import (
    Backoff,
    BaseTarget,
    TargetConfig,
    TargetResult,
    config_fingerprint,
    parse_target,
    resolve_target,
    retry_after_s,
    run_many,
)
from pilotgate.targets._http import HttpTarget
from pilotgate.targets._openai import OpenAITarget


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty target"),
        ("my-feature", "unknown target 'my-feature'"),
        ("gpt4:turbo", "unknown target kind 'gpt4'"),
        ("openai:", "needs a value after the colon"),
        ("openai:localhost:8000/v1", "expects an http"),
        ("http:ftp://host/x", "expects an http"),
        ("http://127.0.0.1:8000/v1", "a bare URL does not say how to call it"),
    ],
)
def test_bad_target_strings_get_one_line_with_the_accepted_forms(spec: str, message: str) -> None:
    with pytest.raises(TargetError, match=message) as exc:
        resolve_target(spec)
    line = str(exc.value)
    assert "\n" not in line
    assert exc.value.exit_code == 2
    assert "openai:" in line and "http:" in line  # the fix says what would work


def test_plan_targets_by_name_with_command_line_overrides() -> None:
    plan = {
        "prod": TargetConfig(kind="openai", url="http://127.0.0.1:9/v1", model="a", retries=1),
        "local": TargetConfig(kind="http", url="http://127.0.0.1:9/x"),
    }
    t = resolve_target("prod", plan_targets=plan, model="b", stream=True, timeout_s=None)
    assert t.config.model == "b" and t.config.stream is True
    assert t.config.retries == 1 and t.config.timeout_s == 60.0  # None overrides are ignored
    assert plan["prod"].model == "a"  # the plan itself is untouched

    with pytest.raises(TargetError, match="this plan defines: local, prod"):
        resolve_target("staging", plan_targets=plan)
    with pytest.raises(TargetError, match="retries"):
        resolve_target("prod", plan_targets=plan, retries=-1)
    with pytest.raises(TargetError, match="colour"):
        resolve_target("prod", plan_targets=plan, colour="red")


def test_parse_target_forms() -> None:
    assert parse_target("python:a.b:c") == TargetConfig(kind="python", function="a.b:c")
    assert parse_target("openai:http://h:1/v1").url == "http://h:1/v1"
    http = parse_target("http:https://h/x")
    assert (http.kind, http.url) == ("http", "https://h/x")


def test_fingerprint_is_stable_ignores_transport_and_secrets() -> None:
    base = TargetConfig(kind="openai", url="http://127.0.0.1:9/v1", model="m")
    same = TargetConfig(
        kind="openai",
        url="http://127.0.0.1:9/v1",
        model="m",
        timeout_s=5,
        retries=3,
        api_key_env="OTHER_VAR",
        headers={"Authorization": "Bearer sk-literal-secret"},
    )
    assert config_fingerprint(base) == config_fingerprint(same)
    assert config_fingerprint(base) != config_fingerprint(base.model_copy(update={"model": "n"}))
    assert config_fingerprint(base) != config_fingerprint(
        base.model_copy(update={"system_prompt": "be nice"})
    )

    with_password = TargetConfig(kind="http", url="http://user:pw-secret@127.0.0.1:9/x")
    t = targets.build_target(with_password)
    assert "pw-secret" not in repr(t)
    assert t.fingerprint == config_fingerprint(
        TargetConfig(kind="http", url="http://127.0.0.1:9/x")
    )
    assert len(t.fingerprint) == 16


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s({"Retry-After": "3"}) == 3.0
    assert retry_after_s({"retry-after": "2", "retry-after-ms": "1500"}) == 1.5
    assert retry_after_s({"Retry-After": "Thu, 01 Jan 2026 12:00:10 GMT"}, now=now) == 10.0
    assert retry_after_s({"Retry-After": "Thu, 01 Jan 2026 11:00:00 GMT"}, now=now) == 0.0
    assert retry_after_s({"Retry-After": "soon"}) is None
    assert retry_after_s({"Retry-After": "-1"}) is None
    assert retry_after_s({"retry-after-ms": "x", "retry-after": "4"}) == 4.0
    assert retry_after_s({}) is None


def test_backoff_is_seeded_jittered_and_capped() -> None:
    a = [Backoff(base_s=0.5, cap_s=4.0, seed=7).wait_s(n) for n in range(8)]
    b = [Backoff(base_s=0.5, cap_s=4.0, seed=7).wait_s(n) for n in range(8)]
    c = [Backoff(base_s=0.5, cap_s=4.0, seed=8).wait_s(n) for n in range(8)]
    assert a == b and a != c
    for n, wait in enumerate(a):
        ceiling = min(4.0, 0.5 * 2**n)
        assert ceiling / 2 <= wait <= ceiling


def test_result_properties() -> None:
    r = TargetResult(start=10.0, first_token=10.25, end=11.0, chunks=4)
    assert r.ok and r.latency_ms == 1000.0 and r.ttft_ms == 250.0 and r.itl_ms == 250.0
    assert TargetResult(error="timeout").ok is False
    assert TargetResult(start=1.0, end=2.0).ttft_ms is None


class _Counting(BaseTarget):
    """A minimal in-test target to observe run_many's concurrency (no I/O)."""

    kind = "counting"

    def __init__(self) -> None:
        super().__init__(TargetConfig(kind="python", function="x:y"))
        self.in_flight = 0
        self.peak = 0

    async def _attempt(self, input: str | list[dict[str, object]], result: TargetResult) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        result.output = f"{input}!"


async def test_run_many_bounds_concurrency_and_keeps_order() -> None:
    t = _Counting()
    out = await run_many(t, [str(i) for i in range(30)], concurrency=3)
    assert [r.output for r in out] == [f"{i}!" for i in range(30)]
    assert t.peak == 3
    assert await run_many(t, []) == []
    with pytest.raises(ConfigError):
        await run_many(t, ["a"], concurrency=0)


def test_public_api_is_pinned() -> None:
    assert sorted(targets.__all__) == sorted(
        [
            "ERROR_CLASSES",
            "FORMS",
            "TARGETS",
            "Backoff",
            "BaseTarget",
            "Input",
            "Target",
            "TargetConfig",
            "TargetResult",
            "build_target",
            "check_reachable",
            "close_sessions",
            "ensure_reachable",
            "config_fingerprint",
            "configure_sessions",
            "load_callable",
            "parse_target",
            "resolve_target",
            "retry_after_s",
            "run_many",
        ]
    )
    assert targets.TARGETS.names() == ["anthropic", "http", "openai", "python"]


def test_importing_targets_does_not_import_aiohttp() -> None:
    code = "import sys, pilotgate.targets; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_http_adapters_expose_endpoint_headers_and_body(monkeypatch: pytest.MonkeyPatch) -> None:
    # Engines that send the bytes themselves (the load engine) build requests from these.
    monkeypatch.setenv("PG_TEST_ENDPOINT_KEY", "sk-endpoint-1234")
    oa = resolve_target(
        "openai:http://127.0.0.1:9/v1/",
        model="m",
        stream=True,
        api_key_env="PG_TEST_ENDPOINT_KEY",
    )
    assert isinstance(oa, OpenAITarget)
    assert oa.endpoint == "http://127.0.0.1:9/v1/chat/completions"
    headers = oa.request_headers()
    assert headers["Authorization"] == "Bearer sk-endpoint-1234"
    assert headers["Accept"] == "text/event-stream"
    body = oa.body("hi")
    assert body["stream_options"] == {"include_usage": True} and body["model"] == "m"

    full = resolve_target("openai:http://127.0.0.1:9/v1/chat/completions", model="m")
    assert isinstance(full, OpenAITarget)
    assert full.endpoint == "http://127.0.0.1:9/v1/chat/completions"

    http = resolve_target("http:http://127.0.0.1:9/answer")
    assert isinstance(http, HttpTarget)
    assert http.endpoint == "http://127.0.0.1:9/answer"
    assert http.body('a "quoted" input') == {"input": 'a "quoted" input'}


def test_credentials_in_a_target_spec_never_reach_the_error() -> None:
    # safe_url strips user:password after a kind prefix too, not only at the string's start.
    with pytest.raises(TargetError) as exc:
        resolve_target("openai:ftp://user:sk-sekret@127.0.0.1/v1")
    assert "sk-sekret" not in str(exc.value)
    assert "127.0.0.1/v1" in str(exc.value)
