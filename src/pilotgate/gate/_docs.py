"""The metric catalogue as a Markdown table for docs/gate.md (a test keeps them in sync).

Regenerate with ``python -m pilotgate.gate._docs``: it rewrites the table between the
``<!-- metrics:start -->`` and ``<!-- metrics:end -->`` markers of docs/gate.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pilotgate.gate._resolve import catalogue

__all__ = ["catalogue_markdown", "update_docs"]

START, END = "<!-- metrics:start -->", "<!-- metrics:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _html(text: str) -> str:
    """Prose cells: ``<step>`` would be read as an HTML tag and vanish."""
    return _cell(text).replace("<", "&lt;").replace(">", "&gt;")


def catalogue_markdown() -> str:
    """One row per registered metric pattern: pattern, example, unit, source, meaning."""
    lines = [
        "| metric pattern | example | unit | read from | meaning |",
        "|---|---|---|---|---|",
    ]
    for e in catalogue():
        lines.append(
            f"| `{_cell(e['pattern'])}` | `{_cell(e['example'])}` | {_cell(e['unit'])} "
            f"| {_html(e['source'])} | {_html(e['description'])} |"
        )
    return "\n".join(lines) + "\n"


def update_docs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{START}\n{catalogue_markdown()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    update_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/gate.md"))
