"""The pilot report: one self-contained, offline HTML file with the verdict first.

:func:`write_report` reads the store (gate, eval, shift, robustness, load and compare
runs, and the recorded usage) and writes the page: the verdict, demo vs production,
then one section per capability with charts (plotly.js embedded once, no network) and
the commands that reproduce every number. The dashboard reuses the same data builders,
charts and templates (:mod:`pilotgate.report.pages` is each page's data, :func:`figure_json`
a figure's JSON for a page); :func:`usage_overview` is its fast, index-only usage summary.
"""

from __future__ import annotations

from pilotgate.report._queries import features, usage_overview
from pilotgate.report._render import (
    build_report,
    environment,
    figure_json,
    plotly_js_path,
    render_report,
    write_report,
)
from pilotgate.report._summary import REPORT_SCHEMA, report_sections, report_summary
from pilotgate.report._terminal import print_report

__all__ = [
    "REPORT_SCHEMA",
    "build_report",
    "environment",
    "features",
    "figure_json",
    "plotly_js_path",
    "print_report",
    "render_report",
    "report_sections",
    "report_summary",
    "usage_overview",
    "write_report",
]
