"""ensure_reachable: the synchronous reachability check the command line runs before a run."""

from __future__ import annotations

import pytest
from tests.conftest import free_port

from pilotgate.errors import TargetError
from pilotgate.simulator import SimulatorProfile, run_in_thread
from pilotgate.targets import ensure_reachable, parse_target


def test_a_listening_simulator_passes_and_python_targets_are_not_probed() -> None:
    with run_in_thread(SimulatorProfile(), seed=0) as sim:
        ensure_reachable(parse_target(f"openai:{sim.url}/v1").model_copy(update={"model": "m"}))
    ensure_reachable(parse_target("python:no_such_module_anywhere:fn"))


def test_a_closed_port_is_one_target_error_naming_it() -> None:
    port = free_port()
    cfg = parse_target(f"openai:http://127.0.0.1:{port}/v1").model_copy(update={"model": "m"})
    with pytest.raises(TargetError, match=str(port)):
        ensure_reachable(cfg)
