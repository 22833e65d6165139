"""The command that reproduces a stored run's number, with the options that produced it.

A "Reproduce" line that drops ``:extractor=prefix`` from a scorer, or says ``--duration 60``
where the run sent for 15 s, reproduces another number. The command line a run was
recorded with (``params.command``) is used as is; runs recorded through the Python API
(the demo, scripts) get one rebuilt from their stored parameters. Shared by the gate's
evidence and the report's capability pages.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

__all__ = ["eval_command", "load_command", "recorded_command", "scorer_spec"]


def recorded_command(run: Mapping[str, Any]) -> str | None:
    """The command line the run was recorded with, when the CLI recorded it."""
    params = run.get("params")
    cmd = params.get("command") if isinstance(params, Mapping) else None
    return cmd if isinstance(cmd, str) and cmd.startswith("pilotgate ") else None


def scorer_spec(desc: Any) -> str | None:
    """``{"name": "label", "kwargs": {"extractor": "prefix"}}`` -> ``label:extractor=prefix``."""
    if not isinstance(desc, Mapping) or not isinstance(desc.get("name"), str):
        return None
    kwargs = desc.get("kwargs") or {}
    if not isinstance(kwargs, Mapping) or not kwargs:
        return str(desc["name"])
    opts = ",".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v, separators=(',', ':'))}"
        for k, v in kwargs.items()
    )
    return f"{desc['name']}:{opts}"


def eval_command(run: Mapping[str, Any] | None, scorer: str, eval_set: str | None) -> str:
    """``pilotgate eval run`` with the run's target, cases and every scorer's options."""
    if run is not None and (cmd := recorded_command(run)):
        return cmd
    params = (run or {}).get("params") or {}
    target = str((run or {}).get("target") or "TARGET")
    cases = params.get("cases") if isinstance(params, Mapping) else None
    argv = ["pilotgate", "eval", "run", "--target", target]
    if isinstance(cases, Mapping) and cases.get("kind") == "eval_set" and cases.get("ref"):
        argv += ["--eval-set", str(cases["ref"])]
    elif isinstance(cases, Mapping) and cases.get("kind") == "file" and cases.get("ref"):
        argv += ["--cases", str(cases["ref"])]
    elif eval_set:
        argv += ["--eval-set", eval_set]
    else:
        argv += ["--cases", "CASES.jsonl"]
    scorers = params.get("scorers") if isinstance(params, Mapping) else None
    specs = [s for s in (scorer_spec(d) for d in (scorers or {}).values()) if s]
    for spec in specs or [scorer]:
        argv += ["--scorer", spec]
    return shlex.join(argv)


def load_command(run: Mapping[str, Any] | None, expected: int, multiplier: float) -> str:
    """``pilotgate load`` with the run's target, levels and real duration."""
    if run is not None and (cmd := recorded_command(run)):
        return cmd
    params = (run or {}).get("params") or {}
    config = params.get("config") if isinstance(params, Mapping) else None
    duration = config.get("duration_s") if isinstance(config, Mapping) else None
    target = str((run or {}).get("target") or "TARGET")
    exp = params.get("expected") if isinstance(params, Mapping) else None
    argv = ["pilotgate", "load", "--target", target, "--expected", f"{exp or expected:g}"]
    labels = params.get("labels") if isinstance(params, Mapping) else None
    mult = multiplier
    if isinstance(labels, list) and labels and str(labels[-1]).endswith("x"):
        try:
            mult = float(str(labels[-1])[:-1])
        except ValueError:
            pass
    argv += ["--multiplier", f"{mult:g}", "--duration", f"{float(duration or 60):g}"]
    return shlex.join(argv)
