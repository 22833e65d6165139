"""Every generated table in docs/ matches the code that generates it (``make docs``).

One test for all of them: the plan reference, the gate's metrics, the perturbations, the
scorers and the options of every command. The others check the generator itself: each
table is where ``TABLES`` says, covers every registered name and every CLI option, and a
stale page is found and rewritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
import pytest

from pilotgate import _docs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_no_page_is_stale() -> None:
    stale = _docs.stale_pages(DOCS)
    assert not stale, f"regenerate with `make docs` (python -m pilotgate._docs): {stale}"


def test_every_region_is_marked_once() -> None:
    for table in _docs.TABLES:
        text = (DOCS / table.page).read_text(encoding="utf-8")
        assert text.count(table.start) == 1 and text.count(table.end) == 1, table.name


def test_tables_cover_the_registries() -> None:
    from pilotgate.gate import catalogue
    from pilotgate.perturb import list_perturbations
    from pilotgate.scoring import SCORERS, list_scorers

    scorers = _docs.scorers_table()
    ours = [s["name"] for s in list_scorers() if _docs._ours(SCORERS.get(s["name"]).obj)]
    assert all(f"| `{name}` |" in scorers for name in ours)
    assert len(ours) >= 11
    perturbations = _docs.perturbations_table()
    assert all(f"| `{p.name}` |" in perturbations for p in list_perturbations())
    metrics = _docs.metrics_table()
    assert all(f"`{e['example']}`" in metrics for e in catalogue())
    assert "| `feature.name` |" in _docs.plan_table()


def test_cli_table_has_every_command_and_option() -> None:
    table = _docs.cli_options_table()
    commands = list(_docs._commands())
    assert len(commands) >= 30  # 17 commands and their subcommands
    for path, cmd in commands:
        section = table.split(f"### `{path}`\n", 1)[1].split("\n### ", 1)[0]
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden:
                assert f"`{p.opts[0]}`" in section, (path, p.opts)


def test_a_stale_page_is_found_and_rewritten(tmp_path: Path) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    page = copy / "evaluate.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("| `exact` |", "| `exactly` |", 1), encoding="utf-8")
    assert _docs.stale_pages(copy) == ["evaluate.md"]
    assert _docs.main(["--check", str(copy)]) == 1
    assert _docs.main([str(copy)]) == 0
    assert page.read_text(encoding="utf-8") == text
    assert _docs.stale_pages(copy) == []


def test_a_missing_region_is_an_error(tmp_path: Path) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    (copy / "cli.md").write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="generated:cli-options:start"):
        _docs.stale_pages(copy)


def test_a_scorer_registered_outside_pilotgate_leaves_the_pages_as_they_are() -> None:
    """A test's (or a plug-in's) scorer in the same process is not documented by pilotgate:
    the docs test does not depend on which tests ran before it."""
    from pilotgate.scoring import SCORERS

    name = "zz_outside_scorer"
    ns: dict[str, Any] = {}
    exec("def outside(output, reference=None):\n    return None\n", ns)  # no pilotgate module
    SCORERS.add(name, ns["outside"], description="registered from outside pilotgate")
    try:
        assert f"`{name}`" not in _docs.scorers_table()
        assert not _docs.stale_pages(DOCS)
    finally:
        SCORERS._entries.pop(name, None)  # leave the registry as the other tests expect
