"""docs/robustness.md names every perturbation and every option of perturb and robustness."""

from __future__ import annotations

from pathlib import Path

from pilotgate.perturb import list_perturbations

DOC = Path(__file__).resolve().parents[2] / "docs" / "robustness.md"


def test_docs_catalogue_names_every_perturbation() -> None:
    # the whole table is kept by tests/test_docs_generated.py
    text = DOC.read_text(encoding="utf-8")
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
