"""The small things of issue 18, item 14, each pinned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pilotgate._cli import main
from pilotgate.cases._synthetic import synthetic_production
from pilotgate.errors import ConfigError
from pilotgate.evaluate._render import _fmt_p
from pilotgate.plan import validate_plan_text
from pilotgate.records import json_error_text
from pilotgate.report._charts import usage_by_day
from pilotgate.report.pages import _headline
from pilotgate.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_usage_funnel_title_keeps_its_brackets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    syn = synthetic_production(200, seed=1)
    sessions = sorted({str(r.get("session_id")) for r in syn.interactions if r.get("session_id")})
    ts = "2026-05-01T12:00:00Z"
    with Store(url) as st:
        st.add_interactions(syn.interactions)
        st.add_steps([{"session_id": sid, "ts": ts, "name": "opened"} for sid in sessions[:20]])
    steps = ["opened", "asked"]
    plan = tmp_path / "pilotgate.toml"
    plan.write_text(f'[feature]\nname = "x"\n\n[pilot]\nsteps = {json.dumps(steps)}\n', "utf-8")
    monkeypatch.setenv("COLUMNS", "200")
    try:
        main(["usage", "--plan", str(plan), "--store", url, "--feature",
              syn.interactions[0]["feature"]])  # fmt: skip
    except SystemExit as exc:
        assert exc.code in (0, None)
    assert "funnel (plan [pilot] steps)" in capsys.readouterr().out


def test_robustness_headline_is_a_percentage() -> None:
    run = {"kind": "robustness", "summary": {"n_cases": 5, "clean": {"pass_rate": 0.875}}}
    assert _headline(run) == "5 cases, clean pass rate 87.5 %"
    run = {"kind": "robustness", "summary": {"n_cases": 5, "clean": {}}}
    assert "None" not in _headline(run)


def test_a_one_day_chart_has_a_day_axis() -> None:
    fig = usage_by_day([{"day": "2026-05-01", "version": "v1", "n": 10}], [])
    assert fig["layout"]["xaxis"]["tickformat"] == "%b %d"


def test_p_values_below_the_floor_read_as_such() -> None:
    assert _fmt_p(0.0) == "< 0.001" and _fmt_p(0.0004) == "< 0.001"
    assert _fmt_p(0.042) == "0.042"


def test_plural_criteria_and_disabled_buttons_in_templates() -> None:
    tpl = (ROOT / "src/pilotgate/report/templates/report.html.j2").read_text("utf-8")
    assert "criterion passes" in tpl
    css = (ROOT / "src/pilotgate/report/templates/_style.css.j2").read_text("utf-8")
    assert "button:disabled" in css


def test_json_errors_do_not_say_at_at() -> None:
    try:
        json.loads('{"a": "unterminated')
    except json.JSONDecodeError as exc:
        text = json_error_text(exc)
    assert "at at" not in text and "column" in text


def test_every_plan_problem_is_listed() -> None:
    bad = '[feature]\nname = "x"\nbogus = 1\n\n[load]\nexpected_concurrency = "many"\nnope = 2\n'
    with pytest.raises(ConfigError) as exc:
        validate_plan_text(bad)
    msg = exc.value.one_line()
    assert "2 more:" in msg and "load.nope" in msg and "expected_concurrency" in msg


def test_favicon_is_served(tmp_path: Path) -> None:
    from pilotgate._web import create_app

    with Store(f"sqlite:///{tmp_path / 's.db'}") as st:
        resp = TestClient(create_app(st), base_url="http://127.0.0.1").get("/favicon.ico")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg")
