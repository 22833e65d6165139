"""robustness/perturb with a pilot plan: a [targets.NAME] target, the feature's glossary
and description as perturbation defaults, and the run recorded with the plan's hash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.errors import ConfigError
from pilotgate.perturb import invert_glossary, perturb_cases, perturb_options
from pilotgate.plan import plan_hash, validate_plan_text
from pilotgate.records import Case, read_cases, write_cases
from pilotgate.store import Store

HERE = Path(__file__).parent
PLAN = """\
[feature]
name = "router"
description = "A helpdesk bot for a broadband provider."
glossary = { CPE = "router", "FTTP line" = "fibre connection", modem = "router" }

[targets.bot]
kind = "python"
function = "test_robustness_suite:answer"
"""
CASES = [
    Case(id="r1", input="My router keeps dropping the fibre connection at night."),
    Case(id="r2", input="How do I restart the router?"),
]
NAMES = "jargon,out_of_scope_task,out_of_scope_advice,typo"


def test_invert_glossary_reads_the_plan_direction() -> None:
    inverted = invert_glossary(
        {"CPE": "Router", "FTTP line": "fibre connection", "modem": "router"}
    )
    assert inverted == {"router": "CPE", "fibre connection": "FTTP line"}  # first wins
    assert invert_glossary({" ": "x", "y": ""}) == {}


def test_plan_supplies_defaults_and_the_command_line_wins() -> None:
    plan = validate_plan_text(PLAN)
    opts = perturb_options(plan)
    assert opts == {
        "glossary": {"router": "CPE", "fibre connection": "FTTP line"},
        "feature_description": "A helpdesk bot for a broadband provider.",
    }
    over = perturb_options(plan, glossary={"night": "off-peak"}, feature_description="a bot")
    assert over == {"glossary": {"night": "off-peak"}, "feature_description": "a bot"}
    assert perturb_options(None) == {}
    bare = validate_plan_text('[feature]\nname = "x"\n')
    assert perturb_options(bare) == {}  # no glossary, no description: built-in defaults
    with pytest.raises(ConfigError, match="plain words to jargon"):
        # deliberately not a string: the error under test
        perturb_options(plan, glossary={"a": 1})  # type: ignore[dict-item]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    env.pop("PILOTGATE_PLAN", None)
    env.pop("PILOTGATE_STORE", None)
    return subprocess.run(
        [sys.executable, "-c", "from pilotgate._cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_robustness_takes_a_plan_target_and_the_plan_options(tmp_path: Path) -> None:
    (tmp_path / "pilotgate.toml").write_text(PLAN, encoding="utf-8")
    write_cases(tmp_path / "cases.jsonl", CASES)
    store = f"sqlite:///{tmp_path / 'pg.db'}"
    res = _cli(
        tmp_path, "robustness", "--target", "bot", "--cases", "cases.jsonl", "-p", NAMES,
        "--seed", "3", "--samples", "2", "--rows", "rows.jsonl", "--json", "r.json",
        "--store", store,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    sent = {r["perturbed_id"]: r["input"] for r in rows}
    assert "My CPE keeps dropping the FTTP line at night." in sent.values()
    oos = [v for k, v in sent.items() if "out_of_scope_advice" in k]
    assert oos and all("a helpdesk bot for a broadband provider" in v for v in oos)

    # pilotgate perturb with the same plan and seed writes exactly those inputs
    res = _cli(
        tmp_path, "perturb", "--cases", "cases.jsonl", "-p", NAMES, "--seed", "3",
        "--samples", "2", "--out", "p.jsonl",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    written, _ = read_cases(tmp_path / "p.jsonl")
    assert {c.id: c.input for c in written} == sent
    # ... and so does the library with the plan's options
    opts = perturb_options(validate_plan_text(PLAN))
    lib = perturb_cases(CASES, NAMES.split(","), samples=2, seed=3, options=opts)
    assert {c.id: c.input for c in lib} == sent

    with Store(store) as st:
        run = st.list_runs("robustness")[0]
    assert run["plan_hash"] == plan_hash(validate_plan_text(PLAN))
    assert run["target"] == "bot"


def test_explicit_plan_path_and_overrides(tmp_path: Path) -> None:
    plan = tmp_path / "plans" / "pilot.toml"
    plan.parent.mkdir()
    plan.write_text(PLAN, encoding="utf-8")
    write_cases(tmp_path / "cases.jsonl", CASES[:1])
    (tmp_path / "g.json").write_text('{"night": "off-peak window"}', encoding="utf-8")
    res = _cli(
        tmp_path, "robustness", "--plan", str(plan), "--target", "bot",
        "--cases", "cases.jsonl", "-p", "jargon", "--glossary", "g.json",
        "--rows", "rows.jsonl", "--no-store",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    row = json.loads((tmp_path / "rows.jsonl").read_text().splitlines()[0])
    assert row["input"] == "My router keeps dropping the fibre connection at off-peak window."


def test_unknown_target_name_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "pilotgate.toml").write_text(PLAN, encoding="utf-8")
    write_cases(tmp_path / "cases.jsonl", CASES)
    res = _cli(tmp_path, "robustness", "--target", "nope", "--cases", "cases.jsonl", "--no-store")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "nope" in res.stderr
    (tmp_path / "bad.json").write_text("[1, 2]", encoding="utf-8")
    res = _cli(
        tmp_path, "perturb", "--cases", "cases.jsonl", "-p", "jargon", "--glossary", "bad.json",
        "--out", "o.jsonl",
    )  # fmt: skip
    assert res.returncode == 2 and "glossary" in res.stderr


def test_plan_descriptions_become_noun_phrases_in_the_templates() -> None:
    from pilotgate.perturb._scope import describe_feature

    template = "Answers customer-support questions about accounts, cards and transfers."
    assert describe_feature(template) == (
        "an assistant that answers customer-support questions about accounts, cards and transfers"
    )
    assert describe_feature("A helpdesk bot. It also does X.") == "a helpdesk bot"
    assert describe_feature("Helpdesk for broadband") == "the helpdesk for broadband"
    assert describe_feature("HR assistant") == "the HR assistant"
    assert describe_feature("  ") == describe_feature(None) != ""
    out = perturb_cases(
        CASES[:1],
        ["out_of_scope_creative"],
        severity=1.0,
        options={"feature_description": template},
    )[0].input
    assert "Forget that you are an assistant that answers customer-support" in str(out)


@settings(max_examples=80, deadline=None)
@given(description=st.text(max_size=80), plain=st.text(max_size=12), jargon=st.text(max_size=12))
def test_any_plan_description_and_glossary_give_strings(
    description: str, plain: str, jargon: str
) -> None:
    options = {"feature_description": description, "glossary": invert_glossary({jargon: plain})}
    for name in ("out_of_scope_task", "out_of_scope_creative", "out_of_scope_advice", "jargon"):
        for case in CASES:
            out = perturb_cases([case], [name], severity=0.9, options=options)[0].input
            assert isinstance(out, str) and out
