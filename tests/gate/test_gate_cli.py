"""`pilotgate gate` end to end on a tmp store: exit codes 0 / 1 / 3, the locking flow with
and without sign-off, and outputs (JSON, JUnit validated against the JUnit XSD, Markdown)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.gate.gate_fixtures import add_usage, load_doc

from pilotgate._cli import main
from pilotgate.store import Store

XSD = Path(__file__).with_name("junit.xsd")
FEATURE, VERSION = "support-router", "v1"  # the plan below names no version: v1

P99: dict[str, Any] = {"name": "tail latency at 3x", "metric": "latency.e2e.p99@3x", "op": "<=",
                       "threshold": 4000, "min_samples": 100}  # fmt: skip
ACC: dict[str, Any] = {"name": "users accept answers", "metric": "usage.acceptance_rate",
                       "op": ">=", "threshold": 0.8, "min_samples": 100}  # fmt: skip


def toml_value(v: Any) -> str:
    return json.dumps(v) if isinstance(v, str) else str(v)


def write_plan(path: Path, criteria: list[dict[str, Any]]) -> Path:
    lines = ["[feature]", 'name = "support-router"', "", "[load]", "expected_concurrency = 10", ""]
    for c in criteria:
        lines.append("[[criteria]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in c.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def cli(*args: str) -> int:
    """Run the CLI in-process; its exit code (0 when it returns normally)."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    return 0


class Env:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.url = f"sqlite:///{tmp}/store.db"
        self.plan = tmp / "pilotgate.toml"

    def load(self, p99: float, n: int = 500) -> None:
        with Store(self.url) as st:
            st.save_run(
                "load",
                load_doc({"1x": p99 / 3, "2x": p99 / 2, "3x": p99}, n=n),
                feature=FEATURE,
                version=VERSION,
            )

    def usage(self, n: int, accepted: int) -> None:
        from datetime import UTC, datetime, timedelta

        with Store(self.url) as st:
            add_usage(st, n=n, accepted=accepted, start=datetime.now(UTC) - timedelta(days=1))

    def set_plan(self, *criteria: dict[str, Any]) -> None:
        write_plan(self.plan, list(criteria))

    def pilot(self, *args: str) -> int:
        return cli("pilot", *args, "--plan", str(self.plan), "--store", self.url)

    def gate(self, *extra: str) -> tuple[int, dict[str, Any]]:
        out = self.tmp / "gate.json"
        code = cli("gate", "--plan", str(self.plan), "--store", self.url, "--json", str(out),
                   *extra)  # fmt: skip
        return code, json.loads(out.read_text(encoding="utf-8"))


def _changed(c: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {**c, **kw}


Scenario = Callable[[Env], None]


def s_pass(e: Env) -> None:
    e.load(3000)
    e.set_plan(P99)


def s_fail(e: Env) -> None:
    e.load(4500)
    e.set_plan(P99)


def s_no_data(e: Env) -> None:
    Store(e.url).close()  # an existing, empty store (a missing one is a usage error, exit 2)
    e.set_plan(P99)


def s_too_few(e: Env) -> None:
    e.load(3000, n=50)
    e.set_plan(P99)


def s_bound_fails(e: Env) -> None:
    e.usage(n=150, accepted=126)  # 0.84 >= 0.8, but the Wilson lower bound is ~0.77
    e.set_plan(_changed(ACC, judge_on="bound"))


def s_estimate_passes(e: Env) -> None:
    e.usage(n=150, accepted=126)
    e.set_plan(ACC)


def s_changed_unsigned(e: Env) -> None:
    e.load(4500)
    e.set_plan(P99)
    assert e.pilot("start") == 0
    e.set_plan(_changed(P99, threshold=5000))  # moving the goalposts after the start


def s_changed_signed(e: Env) -> None:
    s_changed_unsigned(e)
    assert e.pilot("signoff", P99["name"], "--reason", "3x is 90 users; SLO agreed at 5 s",
                   "--who", "pm@example.com") == 0  # fmt: skip


def s_signed_then_edited(e: Env) -> None:
    s_changed_signed(e)
    e.set_plan(_changed(P99, threshold=6000))  # the sign-off was for 5000, not 6000


def s_added_unsigned(e: Env) -> None:
    e.load(3000)
    e.set_plan(P99)
    assert e.pilot("start") == 0
    e.set_plan(P99, ACC)  # added after start, no usage data, failing/insufficient: not counted


def s_removed_unsigned(e: Env) -> None:
    e.load(4500)
    e.usage(n=200, accepted=190)
    e.set_plan(P99, ACC)
    assert e.pilot("start") == 0
    e.set_plan(ACC)  # the failing criterion dropped: still judged on the original


def s_removed_signed(e: Env) -> None:
    s_removed_unsigned(e)
    assert e.pilot("signoff", P99["name"], "--reason", "latency moved to a separate SLO") == 0


SCENARIOS: list[tuple[str, Scenario, int, str]] = [
    ("pass", s_pass, 0, "pass"),
    ("fail", s_fail, 1, "fail"),
    ("no data", s_no_data, 3, "insufficient_data"),
    ("n below min_samples", s_too_few, 3, "insufficient_data"),
    ("interval bound fails", s_bound_fails, 1, "fail"),
    ("same data on the estimate passes", s_estimate_passes, 0, "pass"),
    ("changed after start, not signed off", s_changed_unsigned, 1, "fail"),
    ("changed after start, signed off", s_changed_signed, 0, "pass"),
    ("signed off, then edited again", s_signed_then_edited, 1, "fail"),
    ("added after start, not signed off", s_added_unsigned, 0, "pass"),
    ("removed after start, not signed off", s_removed_unsigned, 1, "fail"),
    ("removed after start, signed off", s_removed_signed, 0, "pass"),
]


@pytest.mark.parametrize(
    ("scenario", "code", "verdict"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_exit_codes(tmp_path: Path, scenario: Scenario, code: int, verdict: str) -> None:
    env = Env(tmp_path)
    scenario(env)
    got, doc = env.gate("--junit", str(tmp_path / "g.xml"), "--markdown", str(tmp_path / "g.md"))
    assert (got, doc["verdict"]) == (code, verdict)
    assert doc["schema"] == "pilotgate.gate/1"
    for c in doc["criteria"]:
        assert {"name", "metric", "op", "threshold", "value", "ci95", "n", "status",
                "evidence"} <= set(c)  # fmt: skip
    validate_junit(tmp_path / "g.xml")


def test_changed_criterion_shows_original_and_judges_it(tmp_path: Path) -> None:
    env = Env(tmp_path)
    s_changed_unsigned(env)
    _, doc = env.gate()
    (c,) = doc["criteria"]
    assert c["changed_after_start"] and c["change"] == "changed"
    assert c["judged_definition"] == "original" and c["threshold"] == 4000
    assert c["original"]["threshold"] == 4000 and c["current"]["threshold"] == 5000
    assert c["signoff"] is None and c["status"] == "fail"
    assert doc["locked"]["plan_changed"] and doc["locked"]["changed_criteria"] == [P99["name"]]


def test_signed_off_change_is_judged_as_changed_with_its_reason(tmp_path: Path) -> None:
    env = Env(tmp_path)
    s_changed_signed(env)
    _, doc = env.gate("--markdown", str(tmp_path / "g.md"))
    (c,) = doc["criteria"]
    assert c["judged_definition"] == "current" and c["threshold"] == 5000
    assert c["signoff"]["who"] == "pm@example.com"
    assert c["signoff"]["reason"] == "3x is 90 users; SLO agreed at 5 s"
    md = (tmp_path / "g.md").read_text(encoding="utf-8")
    assert "signed off by pm@example.com" in md and "3x is 90 users" in md
    assert "latency.e2e.p99@3x <= 4000" in md and "latency.e2e.p99@3x <= 5000" in md


def test_removed_signed_off_is_listed(tmp_path: Path) -> None:
    env = Env(tmp_path)
    s_removed_signed(env)
    _, doc = env.gate()
    assert [c["name"] for c in doc["criteria"]] == [ACC["name"]]
    assert doc["removed"][0]["name"] == P99["name"]
    assert doc["removed"][0]["signoff"]["reason"] == "latency moved to a separate SLO"


def test_pilot_start_twice_and_signoff_errors(tmp_path: Path, capsys: Any) -> None:
    env = Env(tmp_path)
    env.set_plan(P99)
    assert env.pilot("signoff", P99["name"], "--reason", "x") == 2  # nothing started
    assert env.pilot("start") == 0
    assert env.pilot("start") == 2  # already started
    assert env.pilot("signoff", P99["name"], "--reason", "x") == 2  # unchanged
    err = capsys.readouterr().err
    assert "already started" in err and "unchanged since the pilot started" in err
    assert env.pilot("start", "--restart") == 0
    assert env.pilot("status") == 0
    assert "no criterion changed" in capsys.readouterr().out


def test_unknown_metric_exits_2(tmp_path: Path, capsys: Any) -> None:
    env = Env(tmp_path)
    env.set_plan(_changed(P99, metric="latency.e2e.p98@3x"))
    assert cli("gate", "--plan", str(env.plan), "--store", env.url) == 2
    assert "unknown metric" in capsys.readouterr().err


def test_terminal_table(tmp_path: Path, capsys: Any) -> None:
    env = Env(tmp_path)
    s_fail(env)
    assert cli("gate", "--plan", str(env.plan), "--store", env.url) == 1
    out = capsys.readouterr().out
    assert "tail latency at 3x" in out and "4500" in out and "verdict: FAIL" in out


def validate_junit(path: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(str(path))


def test_junit_content(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    env = Env(tmp_path)
    env.load(4500)
    env.set_plan(P99, ACC, _changed(P99, name="loose latency", threshold=9000))
    code, _ = env.gate("--junit", str(tmp_path / "g.xml"))
    assert code == 1
    validate_junit(tmp_path / "g.xml")
    suite = ET.parse(tmp_path / "g.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["tail latency at 3x"].find("failure") is not None
    assert cases["users accept answers"].find("skipped") is not None
    assert cases["loose latency"].find("failure") is None
    assert cases["loose latency"].find("skipped") is None


def test_junit_schema_rejects_a_broken_file(tmp_path: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="x" tests="one" failures="0" errors="0"/>'
                   "</testsuites>", encoding="utf-8")  # fmt: skip
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(str(XSD)).validate(str(bad))


@pytest.mark.parametrize(("p99", "code"), [(3000, 0), (4500, 1), (None, 3)])
def test_exit_code_of_the_real_process(tmp_path: Path, p99: float | None, code: int) -> None:
    import os
    import subprocess
    import sys

    env = Env(tmp_path)
    if p99 is not None:
        env.load(p99)
    else:
        Store(env.url).close()  # an empty store (a missing one is exit 2)
    env.set_plan(P99)
    res = subprocess.run(
        [sys.executable, "-m", "pilotgate", "gate", "--plan", str(env.plan), "--store", env.url],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip
    assert res.returncode == code, res.stderr


def test_pilot_status_lists_changes(tmp_path: Path, capsys: Any) -> None:
    env = Env(tmp_path)
    s_changed_unsigned(env)
    capsys.readouterr()
    assert env.pilot("status") == 0
    out = capsys.readouterr().out
    assert "(changed)" in out and "NOT signed off" in out and "<= 4000" in out
    assert env.pilot("signoff", P99["name"], "--reason", "ok", "--who", "ana") == 0
    assert env.pilot("status") == 0
    out = capsys.readouterr().out
    assert "signed off" in out and "NOT signed off" not in out and "ana" in out


def test_now_replays_a_past_verdict(tmp_path: Path) -> None:
    env = Env(tmp_path)
    s_pass(env)
    code, doc = env.gate("--now", "2020-01-01T00:00:00Z", "--no-store")
    assert code == 3 and doc["run_id"] is None  # the load run did not exist yet
    assert cli("gate", "--plan", str(env.plan), "--store", env.url, "--now", "yesterday") == 2
