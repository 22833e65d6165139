"""Eval runs and version comparison: the iteration cycle's honest scoreboard.

``run_eval(target, cases, ["label"])`` calls the target once per case (bounded
concurrency, a shared pause when 429s pile up, a response cache in the store), scores
every output, stores each case as it finishes (so ``resume=RUN_ID`` continues a killed
run) and returns the ``pilotgate.eval/1`` document: per-scorer means with 95 %
intervals, per tag and per cluster. ``compare_runs(RUN_A, RUN_B)`` pairs two runs on
their shared cases and says whether B is better, worse or not significantly different
(``pilotgate.compare/1``).
"""

from __future__ import annotations

from pilotgate.evaluate._compare import (
    COMPARE_SCHEMA,
    CompareResult,
    compare_rows,
    compare_runs,
    compare_scores,
    verdict_line,
)
from pilotgate.evaluate._inputs import (
    CaseSource,
    case_cluster,
    load_cases,
    parse_scorer_spec,
    resolve_scorers,
)
from pilotgate.evaluate._render import render_eval
from pilotgate.evaluate._run import EVAL_SCHEMA, EvalResult, arun_eval, response_cache_key, run_eval
from pilotgate.evaluate._stats import Interval, is_binary, mean_ci
from pilotgate.evaluate._summary import judge_agreement, summarize
from pilotgate.evaluate._throttle import RateGate

__all__ = [
    "COMPARE_SCHEMA",
    "EVAL_SCHEMA",
    "CaseSource",
    "CompareResult",
    "EvalResult",
    "Interval",
    "RateGate",
    "arun_eval",
    "case_cluster",
    "compare_rows",
    "compare_runs",
    "compare_scores",
    "is_binary",
    "judge_agreement",
    "load_cases",
    "mean_ci",
    "parse_scorer_spec",
    "render_eval",
    "resolve_scorers",
    "response_cache_key",
    "run_eval",
    "summarize",
    "verdict_line",
]
