"""The public API of pilotgate.evaluate is small and deliberate: pin it."""

from __future__ import annotations

import subprocess
import sys

import pilotgate.evaluate as ev


def test_public_names_are_pinned() -> None:
    assert sorted(ev.__all__) == sorted(
        [
            "COMPARE_SCHEMA", "EVAL_SCHEMA", "CaseSource", "CompareResult", "EvalResult",
            "Interval", "RateGate", "arun_eval", "case_cluster",
            "compare_rows", "compare_runs", "compare_scores", "is_binary", "judge_agreement",
            "load_cases", "mean_ci", "parse_scorer_spec", "render_eval",
            "resolve_scorers",
            "response_cache_key", "run_eval", "summarize", "verdict_line",
        ]
    )  # fmt: skip
    assert all(hasattr(ev, name) for name in ev.__all__)
    assert ev.EVAL_SCHEMA == "pilotgate.eval/1" and ev.COMPARE_SCHEMA == "pilotgate.compare/1"


def test_scorer_specs_parse_commas_and_colons() -> None:
    name, kw = ev.parse_scorer_spec(
        "judge:target=openai:http://127.0.0.1:9/v1,rubric=Short, polite, correct.,repeats=3"
    )
    assert name == "judge"
    assert kw == {
        "target": "openai:http://127.0.0.1:9/v1",
        "rubric": "Short, polite, correct.",
        "repeats": 3,
    }
    assert ev.parse_scorer_spec("numeric:tolerance=0.5,relative=0") == (
        "numeric",
        {"tolerance": 0.5, "relative": 0},
    )
    assert ev.parse_scorer_spec("label") == ("label", {})


def test_importing_evaluate_does_not_import_numpy_or_aiohttp() -> None:
    code = (
        "import sys, pilotgate.evaluate\n"
        "print(sorted(m for m in ('numpy', 'aiohttp', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
