"""Behaviour analytics: what users did with the feature's answers.

Volume, latency quantiles, error rate, acceptance / rejection / edit rates with Wilson
95 % intervals, dwell time, the plan's funnel with drop-off per step, and abandonment
after a rejected answer, overall, by version and by day. Aggregation runs in SQL.

:func:`usage_figures` is the one computation of the headline figures (latency
p50/p95/p99, acceptance with its interval, error rate, dwell p50) that the gate,
``pilotgate usage``, the report and the dashboard all print.
"""

from pilotgate._stats import Rate
from pilotgate.usage._cost import CostReport, usage_cost
from pilotgate.usage._figures import UsageFigures
from pilotgate.usage._queries import Filters
from pilotgate.usage._report import FunnelStep, Slice, UsageReport, usage_report
from pilotgate.usage._rollup import daily_counts
from pilotgate.usage._slices import (
    Selector,
    SliceReport,
    describe_selector,
    metadata_key,
    parse_selector,
    split_metric,
    usage_slices,
)
from pilotgate.usage._source import usage_figures
from pilotgate.usage._stats import Metric, hist_quantile
from pilotgate.usage._summary import usage_summary
from pilotgate.usage._terminal import print_usage

__all__ = [
    "CostReport",
    "Filters",
    "FunnelStep",
    "Metric",
    "Rate",
    "Selector",
    "Slice",
    "SliceReport",
    "UsageFigures",
    "UsageReport",
    "daily_counts",
    "describe_selector",
    "hist_quantile",
    "metadata_key",
    "parse_selector",
    "print_usage",
    "split_metric",
    "usage_cost",
    "usage_figures",
    "usage_report",
    "usage_slices",
    "usage_summary",
]
