"""prepare_load: a load statement (and the plan's [load]) resolved into the levels to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from pilotgate.errors import ConfigError, InputError
from pilotgate.load import merge_files, prepare_load, render_load
from pilotgate.plan import PLAN_TEMPLATE, validate_plan_text
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.store import Store
from pilotgate.targets import TargetConfig

LOCAL = "openai:http://127.0.0.1:9/v1"
PLAN = validate_plan_text(PLAN_TEMPLATE.format(name="f", start="2026-01-01", end="2026-01-22"))


def test_expected_users_run_1x_to_the_multiplier() -> None:
    job = prepare_load(LOCAL, model="m", expected=4, multiplier=2.5)
    assert (job.levels, job.labels) == ([4.0, 8.0, 10.0], ["1x", "2x", "2.5x"])
    assert (job.config.concurrency, job.config.rate, job.expected) == (4, None, 4)


def test_expected_rate_runs_open_loop_and_the_plan_gives_the_multiplier() -> None:
    job = prepare_load(LOCAL, model="m", expected_rate=10.0, plan=PLAN)
    assert job.levels == [10.0, 20.0, 30.0]
    assert (job.config.concurrency, job.config.rate) == (None, 10.0)


def test_a_sweep_starts_at_its_first_load_and_keeps_the_given_loop() -> None:
    job = prepare_load(LOCAL, model="m", rate=1.0, sweep="5:20:3", slo_ms=100)
    assert (job.config.rate, job.sweep) == (5.0, "5:20:3")
    assert job.levels == pytest.approx([5.0, 10.0, 20.0])
    closed = prepare_load(LOCAL, model="m", sweep="2.6:8", slo_ms=100)
    assert (closed.config.concurrency, len(closed.levels or [])) == (3, 4)


def test_the_plan_fills_users_and_slo_when_no_profile_is_given() -> None:
    job = prepare_load(LOCAL, model="m", plan=PLAN)
    assert (job.config.concurrency, job.levels) == (20, None)
    assert job.config.slo.e2e_ms == 4000


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"concurrency": 2, "rate": 3.0}, {"sweep": "x:1"}, {"concurrency": 2, "shard": "3/2"}],
)
def test_a_statement_that_is_not_one_profile_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        prepare_load(LOCAL, model="m", **kwargs)  # type: ignore[arg-type]


def test_the_check_sees_a_local_target_and_not_a_remote_one_without_consent() -> None:
    seen: list[TargetConfig] = []
    prepare_load(LOCAL, model="m", concurrency=1, check=seen.append)
    remote = prepare_load(
        "openai:http://example.invalid/v1", model="m", concurrency=1, check=seen.append
    )
    assert len(seen) == 1 and remote.remote
    with pytest.raises(ConfigError, match="not on loopback"):
        remote.check_remote()
    prepare_load(
        "openai:http://example.invalid/v1", model="m", concurrency=1, allow_remote=True,
        check=seen.append,
    ).check_remote()  # fmt: skip
    assert len(seen) == 2


def test_a_job_runs_prices_records_and_renders_its_levels(tmp_path: Path) -> None:
    plan = validate_plan_text(
        PLAN_TEMPLATE.format(name="f", start="2026-01-01", end="2026-01-22")
        + "\n[prices.m]\ninput_per_1k = 1.0\noutput_per_1k = 2.0\n"
    )
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(5), token_ms=Dist.constant(1), output_tokens=Dist.constant(3)
    )
    with run_in_thread(profile, seed=0) as sim:
        job = prepare_load(
            f"openai:{sim.url}/v1", model="m", expected=1, multiplier=2, duration_s=0.5, plan=plan
        )
        assert job.estimate().requests > 0
        result = job.run()
    doc = job.document(result)
    assert [lv["label"] for lv in doc["levels"]] == ["1x", "2x"]
    assert doc["cost"]["tokens_out"] == doc["requests"]["output_tokens"] > 0
    with Store(f"sqlite:///{tmp_path / 's.db'}") as st:
        run_id = job.record(result, st, doc=doc, name="pre-pilot")
        run = st.list_runs("load")[0]
    assert run["id"] == run_id
    assert run["summary"]["cost"] == doc["cost"]
    assert run["params"]["labels"] == ["1x", "2x"] and run["params"]["expected"] == 1
    console = Console(record=True, width=200)
    render_load(doc, console)
    text = console.export_text()
    assert "1x · 1 users" in text and "2x · 2 users" in text and "cost per call" in text


def test_merge_files_refuses_unreadable_and_mixed_documents(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read"):
        merge_files([str(bad)])
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    one.write_text("{}", encoding="utf-8")
    many.write_text('{"levels": []}', encoding="utf-8")
    with pytest.raises(InputError, match="multi-level and single-level"):
        merge_files([str(many), str(one)])
