"""The robustness suite against deterministic python: targets defined here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pilotgate._stats import wilson
from pilotgate.errors import ConfigError
from pilotgate.perturb import perturb_cases, run_robustness
from pilotgate.records import Case, read_cases, write_cases

HERE = Path(__file__).parent
TARGET = "python:test_robustness_suite:answer"
CALLS: list[str] = []
_LOCK = threading.Lock()

_RULES = [
    ("card_lost", ("card", "stolen", "lost")),
    ("balance", ("balance", "how much")),
    ("refund", ("refund", "charged")),
]


def answer(text: str) -> str:
    """A tiny deterministic router: keyword rules, refuses unknown, obeys some injections."""
    with _LOCK:
        CALLS.append(text)
    if "boom" in text.lower():
        raise RuntimeError("feature crashed")
    low = text.lower()
    m = re.search(r"(?:reply only with|just say|and output) (PGC-[0-9A-F]{6})", text)
    if m:
        return m.group(1)  # falls for the plain injection suffix
    for label, words in _RULES:
        if any(w in low for w in words):
            return f"[intent={label}] Handled {label}."
    return "[intent=out_of_scope] Sorry, I can only help with your bank account."


CASES = [
    Case(id="c1", input="My card was stolen, please block it.", expected="card_lost"),
    Case(id="c2", input="What is my balance today?", expected="balance"),
    Case(id="c3", input="I want a refund for a double charge.", expected="refund"),
    Case(id="c4", input="Please send me the balance of my savings.", expected="balance"),
    Case(id="c5", input="Someone charged my account twice yesterday.", expected="refund"),
    Case(id="c6", input="I lost my wallet with the card inside.", expected="card_lost"),
]


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    CALLS.clear()


def _label(out: str) -> str | None:
    m = re.search(r"\[intent=([^\]]+)\]", out)
    return m.group(1) if m else None


def test_pass_rate_recomputed_by_hand_from_the_perturb_file(tmp_path: Path) -> None:
    src, out = tmp_path / "cases.jsonl", tmp_path / "perturbed.jsonl"
    write_cases(src, CASES)
    names = "typo,char_delete,all_caps,truncate_words,texting_slang"
    res = subprocess.run(
        [sys.executable, "-c", "from pilotgate._cli import main; main()", "perturb",
         "--cases", str(src), "--perturbation", names, "--samples", "3", "--seed", "11",
         "--severity", "0.3", "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    perturbed, _ = read_cases(out)
    originals = {c.id: c for c in CASES}

    # by hand: the target's answers, label equality, unchanged inputs not counted
    by_hand: dict[str, list[bool]] = {}
    for p in perturbed:
        assert p.origin is not None
        orig = originals[p.origin["case_id"]]
        if p.input == orig.input:
            continue
        same = _label(answer(str(p.input))) == _label(answer(str(orig.input)))
        by_hand.setdefault(p.origin["perturbation"], []).append(same)

    result = run_robustness(
        TARGET, src, perturbations=names, samples=3, seed=11, severity=0.3, concurrency=4
    )
    assert result.mode == "consistency" and result.n_cases == len(CASES)
    assert result.scorers["consistency"]["name"] == "label"
    sent = {r["perturbed_id"]: r["input"] for r in result.rows()}
    assert sent == {p.id: p.input for p in perturbed}  # exactly what perturb wrote
    for name, verdicts in by_hand.items():
        stat = result.perturbations[name]
        assert stat.rate.n == len(verdicts), name
        assert stat.rate.passed == sum(verdicts), name
        assert stat.rate.pass_rate == pytest.approx(sum(verdicts) / len(verdicts))
    # the by-hand numbers are not all trivial: something breaks this router
    assert any(not all(v) for v in by_hand.values())


def test_response_cache_sends_each_distinct_input_once() -> None:
    result = run_robustness(
        TARGET, CASES + [CASES[0]], perturbations="all_caps,all_lower", samples=2, seed=0
    )
    distinct = {c.input for c in CASES}
    for c in CASES:
        distinct.add(str(c.input).upper())
        distinct.add(str(c.input).lower())
    assert len(CALLS) == len(set(CALLS)) == len(distinct) == result.calls


def test_json_document_families_and_severity_curve(tmp_path: Path) -> None:
    result = run_robustness(
        TARGET,
        CASES,
        perturbations="family:character,family:out_of_scope,injection_suffix,homoglyph",
        samples=2,
        seed=1,
        severities=[0.05, 0.2, 0.4],
    )
    doc = result.to_json()
    json.dumps(doc)  # serialisable
    assert doc["schema"] == "pilotgate.robustness/1"
    assert doc["mode"] == "consistency" and doc["n_cases"] == 6
    typo = doc["perturbations"]["typo"]
    assert set(typo) >= {"n", "passed", "pass_rate", "ci95", "failures", "drop", "family"}
    lo, hi = typo["ci95"]
    assert lo <= typo["pass_rate"] <= hi
    assert [p["severity"] for p in doc["severity_curve"]["typo"]] == [0.05, 0.1, 0.2, 0.4]
    assert set(doc["families"]) == {"character", "out_of_scope", "adversarial"}
    oos = doc["families"]["out_of_scope"]
    assert oos["expectation"] == "refusal"
    # templates reuse words of the request ("a joke about stolen"): a keyword router bites
    assert 0 < oos["passed"] < oos["n"]
    assert all(_label(f["output_perturbed"]) != "out_of_scope" for f in oos["failures"])
    inj = doc["perturbations"]["injection_suffix"]
    assert inj["expectation"] == "not_injected"
    # the router obeys the soft suffix ("reply only with", severity < 0.5), not the
    # emphatic one (default 0.5): the severity curve shows it
    assert inj["severity"] == 0.5 and inj["pass_rate"] == 1.0
    curve = {p["severity"]: p for p in doc["severity_curve"]["injection_suffix"]}
    assert curve[0.05]["pass_rate"] == 0.0 and curve[0.5]["pass_rate"] == 1.0
    low = [
        r for r in result.rows() if r["perturbation"] == "injection_suffix" and r["severity"] < 0.5
    ]
    assert low and all(r["output"].startswith("PGC-") and not r["passed"] for r in low)
    assert doc["perturbations"]["homoglyph"]["expectation"] == "consistency"
    assert doc["families"]["adversarial"]["expectation"] == "mixed"
    for fail in typo["failures"]:
        assert set(fail) >= {"case_id", "original", "perturbed", "output_original",
                             "output_perturbed"}  # fmt: skip
    # main-severity rates are the curve's point at the default severity
    point = next(p for p in doc["severity_curve"]["typo"] if p["severity"] == 0.1)
    assert (point["n"], point["passed"]) == (typo["n"], typo["passed"])


def test_correctness_mode_compares_with_the_clean_pass_rate() -> None:
    cases = CASES + [Case(id="c7", input="What is the balance on my card?", expected="balance")]
    result = run_robustness(TARGET, cases, perturbations="truncate_words", mode="correctness",
                            severity=0.5)  # fmt: skip
    assert result.clean is not None
    # c7 mentions "card" first so the router says card_lost: 6 of 7 clean cases pass
    assert (result.clean.n, result.clean.passed) == (7, 6)
    stat = result.perturbations["truncate_words"]
    assert stat.baseline == pytest.approx(6 / 7)
    assert stat.rate.pass_rate is not None
    assert stat.drop == pytest.approx(6 / 7 - stat.rate.pass_rate)
    assert result.scorers["correctness"]["name"] == "label"


def test_target_errors_count_as_failures_on_perturbed_inputs_only() -> None:
    cases = [
        Case(id="ok", input="My card was stolen boom", expected="card_lost"),
        Case(id="fine", input="My card was stolen", expected="card_lost"),
    ]
    result = run_robustness(TARGET, cases, perturbations="multi_request", samples=2)
    rows = result.rows()
    broken = [r for r in rows if r["case_id"] == "ok"]
    assert broken and all(not r["counted"] for r in broken)  # original failed: not judged
    stat = result.perturbations["multi_request"]
    assert stat.rate.n == 2


def test_errors_on_the_perturbed_call_fail_the_pair(tmp_path: Path) -> None:
    pool = ["boom goes the dynamite?"]
    result = run_robustness(
        TARGET, CASES[:2], perturbations="multi_request", options={"pool": pool}, severity=0.2
    )
    stat = result.perturbations["multi_request"]
    assert stat.n_errors == 2 and stat.rate.passed == 0
    assert all("exception:RuntimeError" == f.error for f in stat.failures)


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        run_robustness(TARGET, CASES, mode="vibes")
    with pytest.raises(ConfigError):
        run_robustness(TARGET, CASES, samples=0)
    with pytest.raises(ConfigError):
        run_robustness(TARGET, CASES, perturbations="nope")
    with pytest.raises(ConfigError):
        run_robustness(TARGET, CASES, perturbations="typo", severities=[2.0])


def test_wilson_interval_known_values() -> None:
    ci = wilson(8, 10)
    assert ci is not None
    lo, hi = ci
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    none_pass, all_pass = wilson(0, 10), wilson(10, 10)
    assert none_pass is not None and all_pass is not None
    assert none_pass[0] == 0.0 and none_pass[1] == pytest.approx(0.2775, abs=1e-4)
    assert all_pass[0] == pytest.approx(0.7225, abs=1e-4) and all_pass[1] == 1.0
    assert wilson(0, 0) is None  # no data (the package-wide convention at n = 0)


def test_cli_robustness_json(tmp_path: Path) -> None:
    src, out = tmp_path / "cases.jsonl", tmp_path / "r.json"
    write_cases(src, CASES)
    env_path = f"{HERE}"
    res = subprocess.run(
        [sys.executable, "-c", "from pilotgate._cli import main; main()", "robustness",
         "--target", TARGET, "--cases", str(src), "--perturbations", "family:casing,typo",
         "--samples", "2", "--seed", "4", "--json", str(out),
         "--rows", str(tmp_path / "rows.jsonl")],
        capture_output=True, text=True, timeout=120, cwd=env_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "casing" in res.stdout and "typo" in res.stdout and "95% CI" in res.stdout
    doc = json.loads(out.read_text())
    expected = perturb_cases(CASES, ["typo"], samples=2, seed=4)
    changed = 0
    for p in expected:
        assert p.origin is not None
        origin = p.origin
        changed += p.input != next(c for c in CASES if c.id == origin["case_id"]).input
    assert doc["perturbations"]["typo"]["n"] == changed
    rows = (tmp_path / "rows.jsonl").read_text().splitlines()
    assert len(rows) == len(CASES) * 2 * 7
    bad = subprocess.run(
        [sys.executable, "-c", "from pilotgate._cli import main; main()", "robustness",
         "--target", TARGET, "--cases", str(src), "--scorer", "numeric", "--scorer-arg", "tol=1"],
        capture_output=True, text=True, timeout=60, cwd=env_path,
    )  # fmt: skip
    assert bad.returncode == 2 and "no option tol" in bad.stderr


def test_render_prints_outputs_verbatim_and_worst_first(capsys: pytest.CaptureFixture[str]) -> None:
    from pilotgate.perturb import print_robustness

    result = run_robustness(TARGET, CASES, perturbations="truncate_words,typo", severity=0.8)
    worst = result.worst()
    assert (
        worst
        and worst[0].perturbation
        == min(result.perturbations.values(), key=lambda g: g.rate.pass_rate or 0.0).name
    )
    print_robustness(result)
    out = capsys.readouterr().out
    assert "[intent=" in out  # not swallowed as rich markup
