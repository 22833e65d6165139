"""`validate` and `pilot start` refuse metrics the gate could never judge, with "did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.gate import metric_problem
from pilotgate.store import Store

_PLAN = """
[feature]
name = "refunds"

[[criteria]]
name = "accuracy"
metric = "eval.accuracy"
op = ">="
threshold = 0.8

[[criteria]]
name = "acceptance"
metric = "usage.acceptence_rate"
op = ">="
threshold = 0.8

[[criteria]]
name = "cost"
metric = "cost.per_call"
op = "<="
threshold = 0.01

[[criteria]]
name = "typos"
metric = "robustness.typos.pass_rate"
op = ">="
threshold = 0.9
"""


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    return 0


@pytest.mark.parametrize(
    ("metric", "hint"),
    [
        ("usage.acceptence_rate", "usage.acceptance_rate"),
        ("robustness.typos.pass_rate", "typo"),
        ("robustness.charcter.pass_rate", "character"),
        ("latency.e2e.p99@3X", "latency.e2e.p99"),
    ],
)
def test_unknown_metrics_name_the_nearest_known_one(metric: str, hint: str) -> None:
    why = metric_problem(metric)
    assert why is not None and "did you mean" in why and hint in why


@pytest.mark.parametrize(
    "metric",
    [
        "usage.acceptance_rate",
        "latency.e2e.p99@3x",
        "robustness.typo.pass_rate",
        "robustness.character.pass_rate",
        "eval.label.mean",
        "shift.coverage",
    ],
)
def test_catalogue_metrics_pass(metric: str) -> None:
    assert metric_problem(metric) is None


def test_validate_names_every_unknown_metric_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "pilotgate.toml"
    plan.write_text(_PLAN, encoding="utf-8")
    assert _cli("validate", "--plan", str(plan)) == 2
    err = capsys.readouterr().err
    for bad in ("eval.accuracy", "usage.acceptence_rate", "cost.per_call", "robustness.typos"):
        assert bad in err
    assert "did you mean 'usage.acceptance_rate'" in err
    assert "did you mean 'typo'" in err


def test_pilot_start_refuses_and_locks_nothing(tmp_path: Path) -> None:
    plan = tmp_path / "pilotgate.toml"
    plan.write_text(_PLAN, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert _cli("pilot", "start", "--plan", str(plan), "--store", url) == 2
    with Store(url) as st:
        from pilotgate.gate import current_pilot

        assert current_pilot(st, "refunds") is None
