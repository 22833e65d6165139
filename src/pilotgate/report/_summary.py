"""What a written report contains, as the ``pilotgate.report/1`` document (``--json``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["REPORT_SCHEMA", "report_sections", "report_summary"]

REPORT_SCHEMA = "pilotgate.report/1"


def report_sections(ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The page's sections in order: the verdict, demo vs production, then each capability."""
    return [ctx["verdict"], ctx["demo_vs_production"], *ctx["sections"]]


def report_summary(ctx: Mapping[str, Any], out: str | Path) -> dict[str, Any]:
    """Where the page of :func:`build_report` ``ctx`` was written and what each section holds.

    A CI job reads it to check that a section has data, which charts it drew, the runs it
    read and the commands that reproduce it, without parsing the HTML.
    """
    path = Path(out)
    return {
        "schema": REPORT_SCHEMA,
        "path": str(path.resolve()),
        "bytes": path.stat().st_size,
        "title": ctx["title"],
        "verdict": ctx["verdict"].get("verdict"),
        "sections": {
            s["key"]: {
                "available": bool(s["available"]),
                "charts": [c["id"] for c in s.get("charts", [])],
                "runs": [r["id"] for r in s.get("runs", [])],
                "commands": s.get("commands", []),
            }
            for s in report_sections(ctx)
        },
    }
