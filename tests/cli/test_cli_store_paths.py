"""A mistyped store path is an error, not a new empty store; a plan's relative store path
resolves against the plan file (issue 18, item 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.plan import resolve_settings
from pilotgate.store import Store


def _code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(
    "argv",
    [
        ["usage"],
        ["report", "--out", "r.html"],
        ["cases", "list"],
    ],
)
def test_read_commands_refuse_a_missing_store_and_create_nothing(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "pilotgate-dmeo" / "pilotgate.db"
    assert _code([*argv, "--store", f"sqlite:///{missing}"]) == 2
    err = capsys.readouterr().err
    assert "no store at" in err and "nothing was created" in err
    assert not missing.exists() and not missing.parent.exists()


def test_gate_refuses_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "pilotgate.toml"
    plan.write_text('[feature]\nname = "f"\n', encoding="utf-8")
    missing = tmp_path / "nope.db"
    assert _code(["gate", "--plan", str(plan), "--store", f"sqlite:///{missing}"]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not missing.exists()


def test_a_relative_store_in_the_plan_resolves_against_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "pilotgate-demo"
    project.mkdir()
    (project / "pilotgate.toml").write_text(
        '[feature]\nname = "f"\n\n[store]\nurl = "sqlite:///data/pilotgate.db"\n', encoding="utf-8"
    )
    expected = project / "data" / "pilotgate.db"
    for cwd in (tmp_path, project):
        monkeypatch.chdir(cwd)
        plan = "pilotgate.toml" if cwd == project else "pilotgate-demo/pilotgate.toml"
        s = resolve_settings(plan=plan, env={})
        assert s.store == f"sqlite:///{expected.resolve()}"
    expected.parent.mkdir()
    with Store(f"sqlite:///{expected}") as st:
        st.save_run("note", {"ok": True})
    monkeypatch.chdir(project)
    monkeypatch.delenv("PILOTGATE_STORE", raising=False)
    assert _code(["usage", "--plan", "pilotgate.toml"]) == 0
    assert not (project / "pilotgate-demo").exists()
    assert os.path.exists(expected)
