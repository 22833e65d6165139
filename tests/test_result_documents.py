"""Every public result type is a ``ResultDocument``: a ``SCHEMA`` and ``to_json()``.

Checked three ways: statically (mypy sees each class satisfy the protocol), by signature
(``to_json`` takes no required argument and ``SCHEMA`` names a versioned document), and by
running ``to_json()`` on results that are cheap to build. The old names of the schemas stay
as aliases (``EVAL_SCHEMA``, ``COMPARE_SCHEMA``, ``BUILD_SCHEMA``, the packages' ``SCHEMA``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pytest
from tests._mypy import mypy_snippet

import pilotgate
from pilotgate.records import ResultDocument

RESULT_TYPES = {
    "pilotgate.cases": [
        "ApplyResult",
        "BuildResult",
        "EvalSetDiff",
        "LabelImport",
        "ReviewSession",
    ],
    "pilotgate.evaluate": ["CompareResult", "EvalResult"],
    "pilotgate.gate": ["GateResult"],
    "pilotgate.ingest": ["IngestReport"],
    "pilotgate.load": ["LevelsResult", "LoadResult"],
    "pilotgate.perturb": ["RobustnessResult"],
    "pilotgate.shift": ["ShiftResult"],
    "pilotgate.store": ["PruneResult"],
    "pilotgate.usage": ["UsageReport"],
}
ALL = [(m, n) for m, names in RESULT_TYPES.items() for n in names]
SCHEMA_RE = re.compile(r"^pilotgate\.[a-z][a-z.-]*/[1-9][0-9]*$")


def _cls(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name"), ALL)
def test_schema_and_to_json_signature(module: str, name: str) -> None:
    cls = _cls(module, name)
    assert isinstance(cls.SCHEMA, str) and SCHEMA_RE.match(cls.SCHEMA), cls.SCHEMA
    params = list(inspect.signature(cls.to_json).parameters.values())[1:]
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    assert not required, f"{name}.to_json() needs {required}: one signature for every result"


def test_every_public_class_with_a_schema_is_listed() -> None:
    """A new result type joins the list (and so the checks) as soon as it has a SCHEMA."""
    found = set()
    for mod in [f"pilotgate.{m}" for m in _public_packages()]:
        module = importlib.import_module(mod)
        for n in getattr(module, "__all__", []):
            obj = getattr(module, n)
            if inspect.isclass(obj) and isinstance(getattr(obj, "SCHEMA", None), str):
                found.add((obj.__module__.split("._")[0], n))
    assert found == set(ALL)


def _public_packages() -> list[str]:
    import pkgutil

    return sorted(m.name for m in pkgutil.iter_modules(pilotgate.__path__) if m.name[0] != "_")


def test_old_schema_names_are_aliases() -> None:
    from pilotgate import cases, evaluate, gate, load, shift

    assert evaluate.EVAL_SCHEMA == evaluate.EvalResult.SCHEMA == "pilotgate.eval/1"
    assert evaluate.COMPARE_SCHEMA == evaluate.CompareResult.SCHEMA == "pilotgate.compare/1"
    assert cases.BUILD_SCHEMA == cases.BuildResult.SCHEMA
    assert gate.SCHEMA == gate.GateResult.SCHEMA and load.SCHEMA == load.LoadResult.SCHEMA
    assert shift.SCHEMA == shift.ShiftResult.SCHEMA
    assert load.LevelsResult.SCHEMA == load.LoadResult.SCHEMA


def _cheap_results() -> list[ResultDocument]:
    from pilotgate.cases import ApplyResult, EvalSetDiff, LabelImport, ReviewSession
    from pilotgate.ingest import IngestReport
    from pilotgate.store import PruneResult

    return [
        ApplyResult("faq", 1, 2, {"edit": 1}, 0, 5),
        EvalSetDiff("faq@1", "faq@2", ["c3"], [], [], 2),
        LabelImport("faq", 2, Counter(accept=2)),
        ReviewSession("faq", "ann", 3, Counter(accept=1), 1),
        IngestReport(files=[], counts={}, redact=True),
        PruneResult(**dict.fromkeys(_fields(PruneResult), cast(Any, 0))),
    ]


def _fields(cls: type) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(cls)]


def test_documents_carry_their_schema() -> None:
    for result in _cheap_results():
        assert isinstance(result, ResultDocument)
        doc = result.to_json()
        assert doc["schema"] == type(result).SCHEMA, type(result)
        json.dumps(doc, allow_nan=False)


def test_type_checkers_see_the_protocol(tmp_path: Path) -> None:
    """mypy --strict accepts every result type where a ResultDocument is expected."""
    lines = ["from pilotgate.records import ResultDocument"]
    for i, (module, name) in enumerate(ALL):
        lines += [f"from {module} import {name}", f"def f{i}(r: {name}) -> ResultDocument:"]
        lines += ["    return r"]
    lines += ["def bad(r: int) -> ResultDocument:", "    return r"]
    snippet = tmp_path / "results_snippet.py"
    snippet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = mypy_snippet(snippet, tmp_path)
    errors = [ln for ln in res.stdout.splitlines() if ": error:" in ln]
    # exactly one error, the control: an int is not a result document
    assert len(errors) == 1 and f":{len(lines)}: error: Incompatible return" in errors[0], (
        res.stdout + res.stderr
    )
