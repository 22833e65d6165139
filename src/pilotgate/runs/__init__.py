"""Runs: what every capability records in the store, and how the readers choose among them.

Every capability's entry point (``run_eval``, ``compare_runs``, ``analyze_shift``,
``run_load``/``run_levels``, ``run_robustness``, ``build_eval_set``, ``evaluate_gate``)
takes ``store=`` and ``save=`` and records itself with :func:`record_run` (or
:func:`start_run` / :func:`finish_run` for a run that writes its rows as it goes). The
gate, the report and the dashboard pick the run they judge with :func:`select_run`:
feature, version and (for eval, shift and robustness criteria) eval set must match.

    from pilotgate.runs import record_run
    run_id = record_run("sqlite:///pilot.db", "load", doc, feature="router", version="v2")
"""

from pilotgate.runs._record import (
    finish_run,
    plan_in_force,
    record_run,
    safe_target,
    start_run,
    using_store,
)
from pilotgate.runs._select import (
    Candidate,
    Picked,
    RunScope,
    Selection,
    describe_selection,
    pick_run,
    run_scope,
    select_run,
    skip_reason,
)

__all__ = [
    "Candidate",
    "Picked",
    "RunScope",
    "Selection",
    "describe_selection",
    "finish_run",
    "pick_run",
    "plan_in_force",
    "record_run",
    "run_scope",
    "safe_target",
    "select_run",
    "skip_reason",
    "start_run",
    "using_store",
]
