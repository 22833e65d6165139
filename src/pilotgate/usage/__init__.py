"""Behaviour analytics: what users did with the feature's answers.

Volume, latency quantiles, error rate, acceptance / rejection / edit rates with Wilson
95 % intervals, dwell time, the plan's funnel with drop-off per step, and abandonment
after a rejected answer, overall, by version and by day. Aggregation runs in SQL.
"""

from pilotgate.usage._queries import Filters
from pilotgate.usage._report import FunnelStep, Slice, UsageReport, usage_report
from pilotgate.usage._stats import Metric, Rate, hist_quantile, wilson

__all__ = [
    "Filters",
    "FunnelStep",
    "Metric",
    "Rate",
    "Slice",
    "UsageReport",
    "hist_quantile",
    "usage_report",
    "wilson",
]
