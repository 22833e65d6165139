"""docs/robustness.md lists the catalogue exactly as the registry has it."""

from __future__ import annotations

from pathlib import Path

from pilotgate.perturb import catalogue_markdown, list_perturbations

DOC = Path(__file__).resolve().parents[2] / "docs" / "robustness.md"


def test_docs_catalogue_matches_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- catalogue:start -->\n") + len("<!-- catalogue:start -->\n")
    end = text.index("<!-- catalogue:end -->")
    assert text[start:end] == catalogue_markdown(), (
        "regenerate the table with pilotgate.perturb.catalogue_markdown()"
    )
    for p in list_perturbations():
        assert f"| `{p.name}` |" in text


def test_docs_mention_every_option_of_both_commands() -> None:
    from pilotgate._cli.perturb_cmd import perturb
    from pilotgate._cli.robustness_cmd import robustness

    text = DOC.read_text(encoding="utf-8")
    missing = [
        f"{cmd.name} {opt}"
        for cmd in (perturb, robustness)
        for param in cmd.params
        for opt in param.opts
        if opt.startswith("--") and f"`{opt}" not in text
    ]
    assert not missing, f"document these options in docs/robustness.md: {missing}"
