"""What a CLI call imports: only what its command needs (issue 17, CLI start-up).

Each call runs in a fresh interpreter and reports ``sys.modules`` at exit. ``--help`` loads
click and nothing of the store, the plan's models or the terminal tables; ``usage`` and
``gate`` on a store with nothing to embed load SQLAlchemy, pydantic and rich but none of
numpy, the web stack, charts, templates, the model SDKs or the HTTP clients. A module-level
import of one of these on the commands' path fails here, not only in the start-up benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks._small_store import FEATURE, small_store

# Not one of these is needed to read usage or judge a gate from a store.
HEAVY = (
    "numpy",
    "scipy",
    "sklearn",
    "fastapi",
    "starlette",
    "uvicorn",
    "plotly",
    "jinja2",
    "openai",
    "anthropic",
    "aiohttp",
    "httpx",
    "alembic",
    "hypothesis",
    "onnxruntime",
    "tokenizers",
    "pilotgate._web",
    "pilotgate.report",
    "pilotgate.shift",
    "pilotgate.embeddings",
    "pilotgate.targets._session",  # the HTTP targets: the plan needs only TargetConfig
)
# Needed by a command's work, never by its help.
STORE_SIDE = ("sqlalchemy", "pydantic", "rich", "pilotgate.store", "pilotgate.plan")

PROBE = """\
import json, sys
out, args = sys.argv[1], sys.argv[2:]
try:
    if args:
        from pilotgate._cli import main
        main(args)
    else:
        import pilotgate._cli
except SystemExit:
    pass
finally:
    loaded = sorted(sys.modules)
    records = sys.modules.get("pilotgate.records")
    if records is not None:  # pydantic models whose validator was built ("built:NAME")
        names = ("Case", "InteractionRecord", "FeedbackRecord", "StepRecord")
        loaded += [f"built:{n}" for n in names if getattr(records, n).__pydantic_complete__]
    with open(out, "w") as f:
        json.dump(loaded, f)
"""


def _loaded(tmp_path: Path, *args: str) -> set[str]:
    """The modules a fresh ``pilotgate ARGS`` (none: ``import pilotgate._cli``) loaded."""
    out = tmp_path / "modules.json"
    res = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    modules: list[str] = json.loads(out.read_text())
    return set(modules)


def _present(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules or any(m.startswith(n + ".") for m in modules)]


@pytest.fixture
def store(tmp_path: Path) -> str:
    """The start-up benchmark's store (its plan in the commands' folder), 40 interactions."""
    return small_store(tmp_path, 40, seed=0)


def test_importing_the_cli_loads_click_only(tmp_path: Path) -> None:
    modules = _loaded(tmp_path)
    assert "click" in modules and "pilotgate._cli" in modules
    assert _present(modules, HEAVY + STORE_SIDE) == []


@pytest.mark.parametrize("command", ["usage", "gate", "report", "ingest"])
def test_help_loads_neither_the_store_nor_anything_heavy(tmp_path: Path, command: str) -> None:
    modules = _loaded(tmp_path, command, "--help")
    assert f"pilotgate._cli.{command}_cmd" in modules  # the command itself was loaded
    assert _present(modules, HEAVY + STORE_SIDE) == []


@pytest.mark.parametrize("command", ["usage", "gate"])
def test_a_command_on_a_store_loads_only_what_it_needs(
    tmp_path: Path, store: str, command: str
) -> None:
    modules = _loaded(tmp_path, command, "--store", store)
    # the probe sees what the command did load: the store, the plan, the tables
    assert _present(modules, STORE_SIDE) == list(STORE_SIDE)
    assert _present(modules, HEAVY) == []
    # the ingest records' models are imported with the store, built only to validate one
    assert "pilotgate.records" in modules
    assert sorted(m for m in modules if m.startswith("built:")) == []


def test_validating_a_record_builds_its_model(tmp_path: Path) -> None:
    """The probe's ``built:`` entries see a model built on first use (the control of the
    test above)."""
    modules = _loaded(tmp_path, "ingest", "--help")
    assert "built:InteractionRecord" not in modules
    out = tmp_path / "modules.json"
    code = PROBE.replace(
        "    if args:",
        "    from pilotgate.records import InteractionRecord\n"
        "    InteractionRecord.model_validate({'id': 'x', 'ts': '2026-06-03T10:00:00Z', "
        "'feature': 'f', 'input': 'q'})\n"
        "    if args:",
    )
    res = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    built = [m for m in json.loads(out.read_text()) if m.startswith("built:")]
    assert built == ["built:InteractionRecord"]


def test_the_report_loads_its_templates_but_not_plotly_or_numpy(tmp_path: Path, store: str) -> None:
    """plotly.min.js is read from the package's files; plotly's Python side is not imported."""
    out = tmp_path / "r.html"
    modules = _loaded(tmp_path, "report", "--store", store, "--out", str(out))
    assert "Plotly" in out.read_text(encoding="utf-8")  # the charts' library is inlined
    assert _present(modules, ("jinja2", "pilotgate.report")) == ["jinja2", "pilotgate.report"]
    needed = ("jinja2", "pilotgate.report")
    assert _present(modules, tuple(n for n in HEAVY if n not in needed)) == []


def test_ingest_loads_the_store_and_redaction_only(tmp_path: Path, store: str) -> None:
    data = tmp_path / "more.jsonl"
    line = {"kind": "interaction", "id": "x1", "ts": "2026-06-03T10:00:00Z",
            "feature": FEATURE, "version": "v1", "input": "q", "output": "a"}  # fmt: skip
    data.write_text(json.dumps(line) + "\n", encoding="utf-8")
    modules = _loaded(tmp_path, "ingest", "--store", store, str(data))
    assert _present(modules, ("sqlalchemy", "pilotgate.redact")) == [
        "sqlalchemy",
        "pilotgate.redact",
    ]
    assert _present(modules, HEAVY) == []
