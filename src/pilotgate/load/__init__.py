"""Load testing LLM endpoints: honest tail latency at 3x expected load.

Open-loop runs follow a fixed arrival plan and count latency from each request's
*intended* send time (``e2e``, coordinated omission corrected) as well as from its actual
send (``service``); closed-loop runs simulate users. A client retry policy like the
providers' SDKs' puts rate-limit waits where users feel them. Every request's raw sample
is kept, so percentiles are exact and shards merge exactly.

Example::

    from pilotgate.load import LoadConfig, run_load
    result = run_load(LoadConfig(rate=50, duration_s=10), "openai:http://127.0.0.1:8000/v1")
    print(result.to_json()["latency_ms"]["e2e"]["p99"])
"""

from __future__ import annotations

from pilotgate.load._api import expected_levels, run_levels, run_load, sweep_levels, to_target
from pilotgate.load._config import LoadConfig, RetryPolicy, Shard, Slo
from pilotgate.load._delayserver import DelayServer, DelaySpec
from pilotgate.load._job import LoadJob, prepare_load
from pilotgate.load._progress import ProgressPrinter
from pilotgate.load._record import record_load
from pilotgate.load._render import render_load
from pilotgate.load._result import SCHEMA, LevelsResult, LoadResult, merge_files, merge_results
from pilotgate.load._safety import Estimate, estimate, is_loopback
from pilotgate.load._samples import Samples
from pilotgate.load._workload import Workload

__all__ = [
    "SCHEMA",
    "DelayServer",
    "DelaySpec",
    "Estimate",
    "LevelsResult",
    "LoadConfig",
    "LoadJob",
    "LoadResult",
    "ProgressPrinter",
    "RetryPolicy",
    "Samples",
    "Shard",
    "Slo",
    "Workload",
    "estimate",
    "expected_levels",
    "is_loopback",
    "merge_files",
    "merge_results",
    "prepare_load",
    "record_load",
    "render_load",
    "run_levels",
    "run_load",
    "sweep_levels",
    "to_target",
]
