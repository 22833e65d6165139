"""The catalogue as a Markdown table, for docs/robustness.md (a test keeps them in sync)."""

from __future__ import annotations

from pilotgate.perturb._lookup import list_perturbations

__all__ = ["catalogue_markdown"]


def _severity_line(doc: str | None) -> str:
    text = " ".join((doc or "").split())
    return text.replace("|", "\\|")


def catalogue_markdown() -> str:
    """One row per perturbation: name, family, default severity, expectation, meaning."""
    lines = [
        "| name | family | default severity | expects | what it does | severity means |",
        "|---|---|---|---|---|---|",
    ]
    for p in list_perturbations():
        tags = f" *({', '.join(p.tags)})*" if p.tags else ""
        if p.applies_when:
            tags += f" Changes only {_severity_line(p.applies_when)}."
        assert p.fn is not None
        desc = _severity_line(p.description)
        lines.append(
            f"| `{p.name}` | {p.family} | {p.default_severity:g} | {p.expectation} "
            f"| {desc}{tags} | {_severity_line(p.fn.__doc__)} |"
        )
    return "\n".join(lines) + "\n"
