"""``benchmarks/ingest.py --store postgresql://…``: the floor, the import beside it, the collector
with 1 and 2 workers and its exactly-once check, printed and in the JSON document, and the exit
status that follows the budgets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import PG_ENV

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "ingest.py"
N = 3000


def test_the_postgresql_mode_reports_floor_import_workers_and_exactly_once(
    tmp_path: Path,
) -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL benchmark skipped: {PG_ENV} is not set")
    doc_path = tmp_path / "pg.json"
    cmd = [sys.executable, str(BENCH), "--store", base, "--n", str(N), "--rounds", "1",
           "--json", str(doc_path)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert doc_path.exists(), out.stdout + out.stderr
    doc = json.loads(doc_path.read_text())
    assert doc["store"] == "postgresql" and doc["n"] == N

    assert doc["floor"]["rows_per_s"] > 0
    imp = doc["import"]
    assert imp["rows_per_s"] == pytest.approx(N / imp["wall_s"])
    assert imp["cpu_s"] == pytest.approx(sum(imp["cpu_split_s"].values()))
    assert imp["cpu_split_s"]["client"] > 0 and imp["cpu_split_s"]["backends"] > 0
    assert 0 < imp["ratio_to_floor"] and 1 <= imp["tries"] <= 3

    coll = doc["collector"]
    assert set(coll["workers"]) == {"1", "2"} and coll["clients"] == 2
    sent = N // 2  # the collector is fed half the records, in batches of 1,000
    for workers, fig in coll["workers"].items():
        assert fig["rows_per_s"] > 0 and fig["server_cpu_s"] > 0
        assert len(fig["worker_cpu_s"]) == int(workers)
        # each keep-alive connection on its own worker: two workers both serve
        assert fig["connections_by_worker"] == ([2] if workers == "1" else [1, 1])
        once = fig["exactly_once"]
        assert once == {"acknowledged": sent, "rows": sent, "distinct_ids": sent,
                        "resent": 1000, "resent_stored_new": 0, "rows_after_resend": sent,
                        "exactly_once": True}  # fmt: skip
    w1, w2 = (coll["workers"][w]["rows_per_s"] for w in ("1", "2"))
    assert coll["ratio_2_to_1"] == pytest.approx(w2 / w1)
    assert coll["exactly_once_checked"] is True

    met = doc["met"]
    assert met == {
        "pg_import": imp["rows_per_s"] >= doc["budgets"]["import_per_s"],
        "pg_import_vs_floor": imp["ratio_to_floor"] >= doc["budgets"]["import_vs_floor"],
        "pg_workers": coll["ratio_2_to_1"] >= doc["budgets"]["workers_2_vs_1"],
    }
    assert out.returncode == (0 if all(met.values()) else 1), out.stdout + out.stderr

    text = out.stdout
    assert "floor (bare COPY of the same rows" in text
    assert "pilotgate ingest FILE --store URL" in text and "of the floor" in text
    assert "serve --workers 1" in text and "serve --workers 2" in text
    assert text.count("a batch sent again stored nothing new") == 2
    assert "(load " in text and f"result: {doc['result']}" in text


def test_store_takes_only_a_postgresql_url() -> None:
    cmd = [sys.executable, str(BENCH), "--store", "sqlite:///x.db", "--n", "10"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2 and "PostgreSQL URL" in out.stderr
