"""Silent users where people read them: `pilotgate usage` (table and --json), the report's
"Silent users" section (retention curves, rephrases side by side, escaped)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from pilotgate._cli import cli
from pilotgate.report import write_report
from pilotgate.store import Store

T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> lost card"


def _fill(store: Store) -> None:
    rows = []
    for u in range(40):
        base = T0 + timedelta(hours=u)
        first = HOSTILE if u % 2 else f"what are the fees for plan {u}"
        rows.append({"id": f"a{u}", "ts": base.isoformat(), "feature": "f", "version": "v1",
                     "session_id": f"s{u}", "user_id": f"u{u}", "input": first, "output": "ok",
                     "latency_ms": 300.0})  # fmt: skip
        if u % 2:  # asks again at once: a rephrase; and never comes back
            rows.append({"id": f"b{u}", "ts": (base + timedelta(seconds=20)).isoformat(),
                         "feature": "f", "version": "v1", "session_id": f"s{u}",
                         "user_id": f"u{u}", "input": HOSTILE + "!!", "output": "ok",
                         "latency_ms": 300.0})  # fmt: skip
        else:  # comes back two days later
            rows.append({"id": f"c{u}", "ts": (base + timedelta(days=2)).isoformat(),
                         "feature": "f", "version": "v1", "session_id": f"t{u}",
                         "user_id": f"u{u}", "input": "balance", "output": "ok",
                         "latency_ms": 300.0})  # fmt: skip
    rows.append({"id": "z", "ts": (T0 + timedelta(days=20)).isoformat(), "feature": "f",
                 "version": "v1", "session_id": "z", "user_id": "z", "input": "hi",
                 "output": "ok"})  # fmt: skip
    store.add_interactions(rows)


def test_usage_cli_json_has_the_silent_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url) as store:
        _fill(store)
    out = tmp_path / "usage.json"
    res = CliRunner().invoke(cli, ["usage", "--feature", "f", "--store", url, "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "silent churn" in res.output
    doc = json.loads(out.read_text())["silent_users"]
    assert doc["overall"]["rephrase_rate"]["k"] == 20
    churn = doc["churn"]["overall"]
    assert churn["bad"]["never_returned"]["value"] == 1.0  # every rephraser stayed away
    assert churn["bad"]["judged"] == 20
    assert doc["metrics"]["silent_churn"]["n"] == 20
    assert doc["metrics"]["return_rate"]["value"] == 0.5  # "z" came too late to be judged
    assert doc["rephrase_examples"][0]["then"].endswith("!!")


def test_report_shows_retention_and_rephrases_escaped(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        _fill(store)
        html = write_report(store, None, tmp_path / "r.html", feature="f").read_text()
    assert 'id="silent"' in html and 'id="fig-silent-retention"' in html
    assert "Asked again in other words" in html
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
