"""The terminal summary of a written report: one row per section."""

from __future__ import annotations

from pathlib import Path

__all__ = ["print_report"]


def print_report(out: Path, sections: list[dict[str, object]]) -> None:
    """Print which sections of the report at ``out`` have data and how many charts.

    Args:
        out: the HTML file written.
        sections: :func:`report_sections` of the report's context.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"report written: {out}", title_justify="left")
    table.add_column("section")
    table.add_column("data")
    table.add_column("charts", justify="right")
    for s in sections:
        charts = s.get("charts")
        n = len(charts) if isinstance(charts, list) else 0
        table.add_row(str(s["title"]), "yes" if s["available"] else "missing", str(n))
    Console().print(table)
