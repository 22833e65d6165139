"""perturb_case provenance and the ``pilotgate perturb`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pilotgate.errors import ConfigError
from pilotgate.perturb import perturb_case, perturb_cases, resolve_names
from pilotgate.records import Case, read_cases, write_cases


def test_perturb_case_id_origin_and_copied_fields() -> None:
    case = Case(id="c1", input="How do I block my card?", expected="block_card", tags=["x"])
    p = perturb_case(case, "typo", 0.2, seed=5, k=3)
    assert p.id == "c1~typo~3"
    assert p.source == "perturbed"
    assert p.expected == "block_card" and p.tags == ["x"]
    assert p.origin is not None
    assert {k: p.origin[k] for k in ("case_id", "perturbation", "severity", "seed")} == {
        "case_id": "c1",
        "perturbation": "typo",
        "severity": 0.2,
        "seed": 5,
    }
    assert p.input != case.input
    assert perturb_case(case, "typo", 0.2, seed=5, k=3) == p
    # default severity comes from the catalogue
    origin = perturb_case(case, "all_caps").origin
    assert origin is not None and origin["severity"] == 1.0


def test_sample_does_not_depend_on_what_else_is_generated() -> None:
    cases = [Case(id=f"c{i}", input=f"Please block card number {i} today") for i in range(5)]
    alone = perturb_case(cases[3], "emoji", seed=1, k=1)
    many = perturb_cases(cases, ["typo", "emoji"], samples=2, seed=1)
    assert next(c for c in many if c.id == "c3~emoji~1") == alone
    assert len(many) == 5 * 2 * 2


def test_chat_inputs_perturb_the_last_user_message() -> None:
    msgs = [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "first question here"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "how do i block my card"},
    ]
    p = perturb_case(Case(id="m", input=msgs), "all_caps")
    assert isinstance(p.input, list)
    assert p.input[3]["content"] == "HOW DO I BLOCK MY CARD"
    assert p.input[:3] == msgs[:3] and msgs[3]["content"] == "how do i block my card"


def test_options_reach_only_the_perturbations_that_take_them() -> None:
    case = Case(id="c", input="reset my router please")
    opts = {"glossary": {"router": "CPE"}, "feature_description": "an ISP helpdesk"}
    assert perturb_case(case, "jargon", options=opts).input == "reset my CPE please"
    assert perturb_case(case, "typo", options=opts).input != case.input


def test_bad_severity_samples_and_names_are_config_errors() -> None:
    case = Case(id="c", input="hello there friend")
    with pytest.raises(ConfigError):
        perturb_case(case, "typo", 1.5)
    with pytest.raises(ConfigError):
        perturb_cases([case], ["typo"], samples=0)
    with pytest.raises(ConfigError, match="unknown perturbation"):
        resolve_names("typo,nope")
    with pytest.raises(ConfigError, match="family"):
        resolve_names("family:nope")


def test_resolve_names_expands_all_and_families() -> None:
    assert resolve_names("family:truncation") == [
        "truncate_drop_question",
        "truncate_keep_question",
        "truncate_midword",
        "truncate_words",
    ]
    assert len(resolve_names("all")) == len(set(resolve_names("all"))) >= 40
    assert resolve_names(["typo", "typo,emoji"]) == ["typo", "emoji"]


def pilotgate(*args: str) -> subprocess.CompletedProcess[str]:
    # no plan in the test directory or the environment: the built-in option defaults
    env = {k: v for k, v in os.environ.items() if k != "PILOTGATE_PLAN"}
    return subprocess.run(
        [sys.executable, "-c", "from pilotgate._cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent,
        env=env,
    )


def test_cli_list_json(tmp_path: Path) -> None:
    out = tmp_path / "cat.json"
    res = pilotgate("perturb", "--list", "--json", str(out))
    assert res.returncode == 0, res.stderr
    assert "typo_keyboard" in res.stdout
    doc = json.loads(out.read_text())
    assert doc["schema"] == "pilotgate.perturb/1"
    names = {p["name"]: p for p in doc["perturbations"]}
    assert names["injection_suffix"]["tags"] == ["prompt_injection"]
    assert names["typo"]["family"] == "character" and names["typo"]["description"]


def test_cli_writes_reproducible_perturbed_cases(tmp_path: Path) -> None:
    src = tmp_path / "cases.jsonl"
    write_cases(src, [Case(id="a", input="How do I block my card?", expected="block")])
    out1, out2 = tmp_path / "p1.jsonl", tmp_path / "p2.jsonl"
    for out in (out1, out2):
        res = pilotgate(
            "perturb", "--cases", str(src), "--perturbation", "typo,family:casing",
            "--samples", "2", "--seed", "9", "--severity", "0.3", "--out", str(out),
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
    assert out1.read_bytes() == out2.read_bytes()
    cases, bad = read_cases(out1)
    assert not bad and len(cases) == 1 * 7 * 2
    first = cases[0]
    assert first.id == "a~typo~0" and first.expected == "block"
    assert first == perturb_case(Case(id="a", input="How do I block my card?", expected="block"),
                                 "typo", 0.3, seed=9, k=0)  # fmt: skip


def test_cli_bad_usage_exits_2_with_one_line(tmp_path: Path) -> None:
    res = pilotgate("perturb", "--cases", str(tmp_path / "x.jsonl"))
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    src = tmp_path / "c.jsonl"
    src.write_text('{"id": "a", "input": "hi there you"}\n')
    res = pilotgate("perturb", "--cases", str(src), "-p", "typo", "--severity", "3",
                    "--out", str(tmp_path / "o.jsonl"))  # fmt: skip
    assert res.returncode == 2 and "severity" in res.stderr


def test_cli_reports_inputs_left_as_they_were(tmp_path: Path) -> None:
    src = tmp_path / "cases.jsonl"
    write_cases(
        src,
        [
            Case(id="a", input="How do I block my card?"),
            Case(id="b", input="already lower case and no marks"),
        ],
    )
    out, doc = tmp_path / "p.jsonl", tmp_path / "doc.json"
    res = pilotgate(
        "perturb", "--cases", str(src), "-p", "all_lower,strip_punctuation,typo",
        "--out", str(out), "--json", str(doc),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "2 left as they were" in res.stdout
    assert json.loads(doc.read_text())["n_unchanged"] == {"all_lower": 1, "strip_punctuation": 1}
    cases, _ = read_cases(out)
    assert [c.input == "already lower case and no marks" for c in cases] == [
        False, False, False, True, True, False,
    ]  # fmt: skip
