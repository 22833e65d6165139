"""The pilot gate: criteria declared up front, locked at the pilot's start, judged with
their intervals and sample sizes into pass / fail / insufficient data, with evidence.

Metrics come from a catalogue every capability registers into (``@metric_provider``);
``evaluate_gate(plan, store)`` judges a plan, ``start_pilot`` / ``sign_off`` lock it.
"""

from pilotgate.gate._catalogue import METRICS, Evidence, MetricValue, NoData, metric_provider
from pilotgate.gate._check import check_plan_metrics, metric_problem
from pilotgate.gate._context import MetricContext, Window
from pilotgate.gate._explain import explain_lines
from pilotgate.gate._gate import SCHEMA, CriterionResult, GateResult, evaluate_gate
from pilotgate.gate._lock import (
    CriterionChange,
    Pilot,
    Signoff,
    criteria_changes,
    current_pilot,
    sign_off,
    start_pilot,
)
from pilotgate.gate._render import definition_text, to_junit, to_markdown
from pilotgate.gate._resolve import catalogue, resolve_metric
from pilotgate.gate._status import pilot_status_lines
from pilotgate.gate._terminal import print_gate
from pilotgate.gate._verdict import FAIL, INSUFFICIENT, PASS, Judgement, judge, overall_verdict

__all__ = [
    "FAIL",
    "INSUFFICIENT",
    "METRICS",
    "PASS",
    "SCHEMA",
    "CriterionChange",
    "CriterionResult",
    "Evidence",
    "GateResult",
    "Judgement",
    "MetricContext",
    "MetricValue",
    "NoData",
    "Pilot",
    "Signoff",
    "Window",
    "catalogue",
    "check_plan_metrics",
    "criteria_changes",
    "current_pilot",
    "definition_text",
    "evaluate_gate",
    "explain_lines",
    "judge",
    "metric_problem",
    "metric_provider",
    "overall_verdict",
    "pilot_status_lines",
    "print_gate",
    "resolve_metric",
    "sign_off",
    "start_pilot",
    "to_junit",
    "to_markdown",
]
