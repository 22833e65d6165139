"""The HTML report: sections, embedded charts, escaping, redaction, and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.report._report_fixture import HOSTILE, Filled, fill

from pilotgate.report import plotly_js_path, write_report
from pilotgate.store import Store

SECTIONS = [
    "verdict",
    "demo_vs_production",
    "usage",
    "silent",
    "coverage",
    "robustness",
    "load",
    "compare",
]


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('rep') / 'store.db'}")
    try:
        yield fill(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def html(filled: Filled, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = write_report(filled.store, filled.plan, tmp_path_factory.mktemp("out") / "r.html")
    return out.read_text(encoding="utf-8")


def test_every_section_is_there_in_order(html: str) -> None:
    found = re.findall(r'data-section="([a-z_]+)"', html)
    assert found == SECTIONS
    # the verdict comes first, and says fail with its criteria
    assert html.index('id="verdict"') < html.index('id="demo_vs_production"')
    assert '<div class="word">fail</div>' in html
    assert "latency.e2e.p99@3x" in html


def test_charts_are_embedded_once_and_offline(html: str) -> None:
    js = plotly_js_path().read_text(encoding="utf-8")
    assert html.count(js[:200]) == 1  # plotly.js inlined exactly once
    assert "<script src=" not in html
    figures = re.findall(r'<script type="application/json" id="fig-([a-z-]+)">', html)
    charts = re.findall(r'<div class="chart" id="([a-z-]+)"', html)
    assert sorted(figures) == sorted(charts)
    assert {"demo-quality", "demo-latency", "usage-by-day", "usage-funnel", "coverage-map",
            "robustness-families", "load-curve", "compare-diff"} <= set(charts)  # fmt: skip
    for fig_id in figures:
        blob = re.search(rf'id="fig-{fig_id}">(.*?)</script>', html, re.S)
        assert blob is not None
        fig = json.loads(blob.group(1))
        assert fig["data"], fig_id


def test_demo_vs_production_states_the_gap_and_the_slowdown(html: str) -> None:
    sec = html[html.index('id="demo_vs_production"') : html.index('id="usage"')]
    assert "94.0 % on the demo set vs 71.0 %" in sec
    assert "-23.0 points" in sec
    assert "load test at 3x" in sec and "1,300 ms" in sec and "4,200 ms" in sec


def test_every_section_says_how_to_reproduce(html: str) -> None:
    assert html.count("Reproduce these numbers") == len(SECTIONS)
    assert "pilotgate eval compare eval-a eval-b" in html
    assert "pilotgate load --target demo" in html  # the recorded command, key masked


def test_user_text_is_escaped_and_redacted(html: str, filled: Filled) -> None:
    for planted in filled.planted:
        assert planted not in html
    assert HOSTILE not in html
    assert "<script>window.__xss" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=&#34;" in html
    assert "[EMAIL]" in html
    assert "[SECRET]" in html


def test_an_empty_store_names_the_commands(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'empty.db'}") as store:
        out = write_report(store, None, tmp_path / "empty.html", title="Nothing yet")
    text = out.read_text(encoding="utf-8")
    assert "<title>Nothing yet</title>" in text
    assert text.count('class="missing"') >= len(SECTIONS)
    for cmd in ("pilotgate gate", "pilotgate usage", "pilotgate shift", "pilotgate robustness",
                "pilotgate load", "pilotgate eval compare", "pilotgate eval run"):  # fmt: skip
        assert cmd in text, cmd
    assert '<div class="chart"' not in text


def test_cli_writes_the_report_and_its_json(filled: Filled, tmp_path: Path) -> None:
    from pilotgate._cli import main

    out, doc_path = tmp_path / "sub" / "report.html", tmp_path / "report.json"
    main(["report", "--store", filled.store.url, "--out", str(out), "--json", str(doc_path),
          "--title", "CLI report"])  # fmt: skip
    doc = json.loads(doc_path.read_text())
    assert doc["schema"] == "pilotgate.report/1"
    assert Path(doc["path"]) == out.resolve() and out.exists()
    assert doc["verdict"] == "fail"
    assert list(doc["sections"]) == SECTIONS
    assert all(s["available"] for s in doc["sections"].values())
    assert doc["sections"]["coverage"]["charts"] == ["coverage-map", "coverage-by-day"]


def test_cli_bad_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pilotgate._cli import main

    with pytest.raises(SystemExit) as exc:
        main(
            ["report", "--plan", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "r.html")]
        )
    assert exc.value.code == 2
    assert "plan file not found" in capsys.readouterr().err


def test_demo_and_production_runs_are_matched_by_version(tmp_path: Path) -> None:
    from pilotgate.report._sections import find_eval_run

    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        ids = {}
        runs = [("demo-v1", "demo@1", "v1"), ("production-v1", "production@1", "v1"),
                ("production-v2", "production@1", "v2")]  # fmt: skip
        for name, ref, version in runs:
            ids[name] = store.save_run(
                "eval", {"cases": {"kind": "eval_set", "ref": ref}, "scorers": {}},
                name=name, version=version,
            )  # fmt: skip
        for query, pinned, want in [
            ("demo", None, "demo-v1"),
            ("production", None, "production-v2"),
            ("production", "v1", "production-v1"),
            ("production-v1", None, "production-v1"),
        ]:
            got = find_eval_run(store, query, version=pinned)
            assert got is not None and got["id"] == ids[want], (query, pinned)
        assert find_eval_run(store, "staging") is None


def test_without_a_gate_run_the_verdict_is_computed_and_says_so(tmp_path: Path) -> None:
    from tests.report._report_fixture import _usage, make_plan

    from pilotgate.report import build_report

    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        _usage(store, n=200, seed=1)
        ctx = build_report(store, make_plan())
        assert store.list_runs("gate") == []  # computing it did not record a run
    v = ctx["verdict"]
    assert v["available"] and v["source"].startswith("computed now")
    by_name = {c["name"]: c for c in v["criteria"]}
    assert by_name["acceptance"]["status"] in ("pass", "fail")
    assert by_name["acceptance"]["n"] > 0
    assert by_name["p99 at 3x"]["status"] == "insufficient_data"  # no load run stored
