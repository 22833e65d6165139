"""Case-sampling strategies load through the shared Registry from the
``pilotgate.case_strategies`` entry-point group: the built-ins are declared there, and a
strategy from an installed distribution (a real ``dist-info`` with ``entry_points.txt`` on
``sys.path``) is accepted by ``BuildSpec`` and ``cases build``'s parser and orders the pool."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from tests._plugin import install_plugin

from pilotgate.cases import CASE_STRATEGIES, STRATEGIES, BuildSpec, parse_strategies
from pilotgate.errors import ConfigError

PLUGIN = """
import numpy as np
from pilotgate.cases import CASE_STRATEGIES


@CASE_STRATEGIES.register("longest")
def longest(inp):
    lengths = np.array([len(t) for t in inp.pool.texts])
    return np.argsort(-lengths, kind="stable")
"""

BUILD = """
from datetime import UTC, datetime, timedelta
from pilotgate.cases import BuildSpec, build_eval_set, parse_strategies
from pilotgate.store import Store

store = Store("sqlite:///" + {db!r})
t0 = datetime(2026, 5, 1, tzinfo=UTC)
letters = "abcdefghijklmnopqrstuvwxyz"
store.add_interactions([
    {{"id": f"i{{k}}", "feature": "f", "version": "v1", "ts": t0 + timedelta(minutes=k),
      "input": letters[k % 26] * (k + 1) + " please", "output": "ok", "latency_ms": 100.0}}
    for k in range(40)
])
spec = BuildSpec(feature="f", size=5, weights=parse_strategies("longest"), seed=3,
                 dedup_threshold=1.0)
res = build_eval_set(store, "long", spec, save=False)
print(sorted(len(c.input) for c in res.cases))
print(res.by_strategy)
"""


def test_builtins_are_declared_as_entry_points_and_registered() -> None:
    declared = {ep.name: ep.value for ep in entry_points(group="pilotgate.case_strategies")}
    for name in STRATEGIES:
        assert declared[name] == f"pilotgate.cases._strategies:{name}_strategy"
        assert name in CASE_STRATEGIES
    assert set(STRATEGIES) <= set(CASE_STRATEGIES.names())


def test_an_unknown_strategy_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'longest'.*uniform"):
        parse_strategies("longest")
    with pytest.raises(ConfigError, match="unknown strategy 'longest'"):
        BuildSpec(weights={"longest": 1.0})


def test_a_plugin_strategy_from_a_distribution_orders_the_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    entry = "longest = pg_longest_plugin:longest"
    install_plugin(site, "pg_longest_plugin", PLUGIN, "pilotgate.case_strategies", entry)
    code = BUILD.format(db=str(tmp_path / "store.db"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    lengths, by_strategy = out.stdout.strip().splitlines()
    # exactly the five longest inputs of the pool (k = 35..39: k + 1 letters + " please")
    assert lengths == str([k + 1 + len(" please") for k in range(35, 40)])
    assert by_strategy == "{'longest': 5}"
