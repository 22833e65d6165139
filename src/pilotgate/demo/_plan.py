"""The demo's pilot plan: success criteria declared before the (simulated) pilot starts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pilotgate.demo.data import DEFAULT_START

__all__ = ["demo_plan_text", "write_demo_plan"]

_PLAN = """\
# The demo's pilot plan, written by `pilotgate demo`. Target URLs point at the demo's
# services, which exist only while the demo runs.

[feature]
name = "northwind-support"
version = "v2"
description = "Answers Northwind Bank customers about cards, balances, transfers and fees."
glossary = {{ acct = "account", ACH = "bank transfer", CC = "credit card", stmt = "statement" }}

[pilot]
start = {start}
end = {end}
steps = ["opened_assistant", "asked", "answered", "accepted", "copied_answer"]

[load]
expected_concurrency = {users}
multiplier = 3
slo_p99_ms = {slo}

[store]
url = "{store}"

[targets.v1]
kind = "openai"
url = "{v1}/v1"
model = "northwind"

[targets.v2]
kind = "openai"
url = "{v2}/v1"
model = "northwind"

[[criteria]]
name = "users accept the answers"
metric = "usage.acceptance_rate"
op = ">="
threshold = 0.7
min_samples = 300
judge_on = "bound"
window = "pilot"

[[criteria]]
name = "errors stay rare"
metric = "usage.error_rate"
op = "<="
threshold = 0.02
min_samples = 300

[[criteria]]
name = "quality on production-derived cases"
metric = "eval.label.mean"
eval_set = "production"
op = ">="
threshold = 0.85
min_samples = 100
judge_on = "bound"

[[criteria]]
name = "tail latency at 3x expected users"
metric = "latency.e2e.p99@3x"
op = "<="
threshold = {slo}
min_samples = 50

[[criteria]]
name = "mixed-language requests hold up"
metric = "robustness.mixed_language.pass_rate"
op = ">="
threshold = 0.8
min_samples = 50
judge_on = "bound"

[[criteria]]
name = "the eval set covers production"
metric = "shift.coverage"
eval_set = "production"
op = ">="
threshold = 0.8
min_samples = 100
"""


def demo_plan_text(
    *, store_url: str, feature_urls: dict[str, str], users: int, slo_p99_ms: float, days: int
) -> str:
    start = DEFAULT_START.date()
    return _PLAN.format(
        start=start.isoformat(),
        end=(start + timedelta(days=days - 1)).isoformat(),
        users=users,
        slo=int(slo_p99_ms),
        store=store_url,
        v1=feature_urls["v1"],
        v2=feature_urls["v2"],
    )


def write_demo_plan(path: Path, **kwargs: object) -> Path:
    from pilotgate.plan import validate_plan_text

    text = demo_plan_text(**kwargs)  # type: ignore[arg-type]
    validate_plan_text(text, where=str(path))
    path.write_text(text, encoding="utf-8")
    return path
