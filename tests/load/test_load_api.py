"""The public API of pilotgate.load is deliberate: this pins it."""

from __future__ import annotations

import pilotgate.load as load


def test_public_names() -> None:
    assert sorted(load.__all__) == sorted(
        [
            "SCHEMA", "DelayServer", "DelaySpec", "Estimate", "LevelsResult", "LoadConfig",
            "LoadJob", "LoadResult", "ProgressPrinter", "RetryPolicy", "Samples", "Shard", "Slo",
            "Workload", "estimate", "expected_levels", "is_loopback", "merge_files",
            "merge_results", "prepare_load", "record_load", "render_load", "run_levels",
            "run_load", "sweep_levels", "to_target",
        ]
    )  # fmt: skip
    for name in load.__all__:
        assert getattr(load, name) is not None


def test_the_client_choice_is_a_documented_setting() -> None:
    field = load.LoadConfig.model_fields["client"]
    assert field.default == "auto" and field.description
    assert load.LoadConfig(rate=1, client="aiohttp").client == "aiohttp"
    # Every setting says what it is for (the CLI help and docs are built from these).
    undocumented = [n for n, f in load.LoadConfig.model_fields.items() if not f.description]
    assert undocumented == []
