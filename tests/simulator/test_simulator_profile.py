"""Profiles and distributions: validation with key-named errors, seeded sampling, the CLI, docs."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pilotgate.errors import ConfigError
from pilotgate.simulator import Dist, SimulatorProfile, load_profile

ROOT = Path(__file__).resolve().parents[2]


def test_dist_constructors_parse_and_reject_wrong_params() -> None:
    assert Dist.parse("300") == Dist.constant(300)
    assert Dist.parse("lognormal:median=300,sigma=0.5") == Dist.lognormal(300, 0.5)
    assert Dist.parse("uniform: low=1, high=2") == Dist.uniform(1, 2)
    assert Dist.model_validate(42) == Dist.constant(42)
    with pytest.raises(ValidationError, match="needs 'high'"):
        Dist(kind="uniform", low=1)
    with pytest.raises(ValidationError, match="not 'mean'"):
        Dist(kind="constant", value=1, mean=2)
    with pytest.raises(ValidationError, match="high >= low"):
        Dist.uniform(5, 1)
    with pytest.raises(ValidationError):
        Dist.model_validate({"kind": "gamma", "value": 1})
    with pytest.raises(ValueError, match="kind:name=value"):
        Dist.parse("fast")


def test_sampling_is_seeded_and_clamped() -> None:
    d = Dist.lognormal(300, 0.8, max=1000)
    a = [d.sample(random.Random(1)) for _ in range(3)]
    b = [d.sample(random.Random(1)) for _ in range(3)]
    assert a == b
    xs = [d.sample(rng) for rng in [random.Random(2)] for _ in range(2000)]
    assert max(xs) == 1000  # the clamp bit, sigma 0.8 has a long tail
    assert 250 < sorted(xs)[1000] < 350  # median near 300
    assert Dist.normal(-50, 1).sample(random.Random(0)) == 0.0  # never negative
    assert Dist.constant(0).is_zero and not Dist.constant(1).is_zero


@given(
    low=st.floats(0, 1e4),
    width=st.floats(0, 1e4),
    seed=st.integers(0, 2**32),
)
def test_uniform_samples_stay_in_bounds(low: float, width: float, seed: int) -> None:
    x = Dist.uniform(low, low + width).sample(random.Random(seed))
    assert low <= x <= low + width


def test_load_profile_accepts_top_level_and_simulator_table(tmp_path: Path) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text(
        'ttft_ms = {kind = "lognormal", median = 400, sigma = 0.4}\n'
        "token_ms = 25\noutput_tokens = { kind = 'uniform', low = 20, high = 80 }\n"
        "capacity = 8\nrpm = 500\ntpm = 90000\nerror_rate = 0.01\n"
        "stall_at_s = 30\nstall_ms = 2000\napi_key = 'sk-local'\nmodels = ['m1']\n"
    )
    p = load_profile(flat)
    assert p.ttft_ms == Dist.lognormal(400, 0.4)
    assert p.token_ms == Dist.constant(25)
    assert (p.capacity, p.rpm, p.tpm, p.stall_ms, p.models) == (8, 500, 90000, 2000, ["m1"])
    nested = tmp_path / "nested.toml"
    nested.write_text("[simulator]\ncapacity = 2\n")
    assert load_profile(nested).capacity == 2


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("ttft_mss = 5\n", "'ttft_mss'", "did you mean 'ttft_ms'"),
        ("ttft_ms = { kind = 'uniform', low = 1 }\n", "'ttft_ms'", "needs 'high'"),
        ("capacity = 0\n", "'capacity'", "greater than or equal to 1"),
        ("error_rate = 1.5\n", "'error_rate'", "less than or equal to 1"),
        ("stall_ms = 100\n", "'stall_ms'", "needs stall_at_s"),
        ("rpm = 'many'\n", "'rpm'", "number"),
        ("capacity = \n", "not valid TOML", "line 1"),
    ],
)
def test_bad_profiles_name_the_key(tmp_path: Path, text: str, key: str, hint: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    message = info.value.one_line()
    assert key in message and hint in message and str(path) in message


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_profile(tmp_path / "absent.toml")


def test_every_profile_field_is_documented() -> None:
    doc = (ROOT / "docs" / "simulator.md").read_text()
    for name in SimulatorProfile.model_fields:
        assert f"`{name}`" in doc, f"docs/simulator.md does not document {name}"
        assert f"--{name.replace('_', '-')}" in doc or name == "models"
    for header in ("retry-after-ms", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests"):
        assert header in doc


def _pilotgate(*args: str) -> list[str]:
    return [sys.executable, "-c", "from pilotgate._cli import main; main()", *args]


def test_cli_bad_profile_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("capacty = 3\n")
    out = subprocess.run(
        _pilotgate("simulate", "--profile", str(path)), capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 2
    assert "unknown key 'capacty'" in out.stderr and "did you mean 'capacity'" in out.stderr


def test_cli_serves_until_sigint_with_flags_over_profile(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("output_tokens = 50\ncapacity = 4\nttft_ms = 0\ntoken_ms = 0\n")
    cmd = _pilotgate("simulate", "--port", "0", "--profile", str(path), "--output-tokens", "7")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", banner)
        assert match, banner
        req = urllib.request.Request(
            match.group(1) + "/chat/completions",
            data=json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            doc = json.loads(resp.read())
        assert "capacity=4" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert doc["usage"]["completion_tokens"] == 7  # the flag beat the file's 50
    assert "stopped after 1 requests (200: 1)" in err
