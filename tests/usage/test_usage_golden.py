"""The ``pilotgate usage --json`` document of a seeded store is byte-identical to the one the
code before the report's speed-ups wrote: ``tests/usage/golden/usage_NAME.json``, the same
bytes on both stores, written by ``render`` with ``PYTHONPATH`` at a ``git archive`` of
c38cd0f. A change to how the report reads or merges its rows (SQL day strings, the
version/day slices folded into ``overall``) must not move one figure. Both stores
(``store_url``); the window has ragged edges so the daily rollups, the hourly rollups and the
raw rows at either end all contribute; ``exact`` reads raw rows only. The signals are off:
their document carries the time of the refresh."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pilotgate.store import Store

GOLDEN = Path(__file__).with_name("golden")
FEATURE = "golden"
START = datetime(2026, 3, 2, tzinfo=UTC)
#: (name, extra ``pilotgate usage`` arguments): a window with part-hours and part-days at
#: either end, the whole store, and one version
CASES: list[tuple[str, list[str]]] = [
    ("window", ["--since", "2026-03-02T05:17:00Z", "--until", "2026-03-07T20:41:30Z"]),
    ("all", []),
    ("v2", ["--version", "v2", "--since", "2026-03-03T00:00:00Z"]),
    ("exact", ["--exact", "--since", "2026-03-02T05:17:00Z", "--until", "2026-03-07T20:41:30Z"]),
]


def seed(store: Store) -> None:
    """Seven days, three versions, errors, missing latencies, feedback with dwell."""
    rng = random.Random(17)
    inter: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []
    for i in range(3_000):
        ts = START + timedelta(seconds=i * 203 + rng.randrange(60))
        inter.append({
            "id": f"g{i}", "ts": ts, "feature": FEATURE if i % 11 else "other",
            "version": ("v1", "v2", "v3")[(i // 700 + i % 2) % 3],
            "session_id": f"s{i // 5}", "user_id": f"u{i % 97}", "input": f"q{i % 31}",
            "output": "a", "latency_ms": None if i % 17 == 0 else rng.lognormvariate(6.8, 0.9),
            "error": "timeout" if rng.random() < 0.03 else None,
        })  # fmt: skip
        if i % 3:
            fb.append({
                "interaction_id": f"g{i}", "ts": ts + timedelta(seconds=5),
                "accepted": rng.random() < 0.7,
                "edited_output": "b" if rng.random() < 0.1 else None,
                "dwell_ms": None if i % 7 == 0 else rng.lognormvariate(8, 1.2),
            })  # fmt: skip
    store.add_interactions(inter)
    store.add_feedback(fb)


def render(url: str, args: list[str], out: Path) -> bytes:
    """The document ``pilotgate usage --no-signals --json`` writes for the store at ``url``."""
    from pilotgate._cli import main

    main(["usage", "--store", url, "--feature", FEATURE, "--no-signals", *args, "--json", str(out)])
    return out.read_bytes()


@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_usage_json_is_byte_identical_to_the_golden_document(
    store: Store, store_url: str, tmp_path: Path, name: str, args: list[str]
) -> None:
    seed(store)
    got = render(store_url, args, tmp_path / "usage.json")
    want = (GOLDEN / f"usage_{name}.json").read_bytes()  # the same on both stores
    doc = json.loads(got)
    assert doc["overall"]["n"] > 100  # the seeded rows were read (not an empty document)
    assert got == want
