"""A small seeded SQLite store and its plan: what the CLI's start-up is measured and checked on.

``benchmarks/cli_startup.py`` times ``usage`` and ``gate`` on it (2,000 interactions);
``tests/cli/test_cli_import_weight.py`` checks on a smaller one what those commands import.
One feature and version, sessions of four requests from 50 users, about 1 % errors, every
second interaction with feedback; the plan judges acceptance and errors over the pilot with
a minimum sample of a tenth of the interactions, so the gate reaches a verdict at any size.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pilotgate.store import Store

__all__ = ["FEATURE", "small_store"]

FEATURE = "bench-cli"
PLAN = """\
[feature]
name = "{feature}"
version = "v1"

[pilot]
start = 2026-06-01
end = 2026-06-30

[[criteria]]
name = "users accept answers"
metric = "usage.acceptance_rate"
op = ">="
threshold = 0.7
min_samples = {min_samples}
window = "pilot"

[[criteria]]
name = "few errors"
metric = "usage.error_rate"
op = "<="
threshold = 0.02
min_samples = {min_samples}
window = "pilot"
"""


def small_store(folder: Path, interactions: int, seed: int) -> str:
    """Write ``pilotgate.toml`` and a store of ``interactions`` interactions (half of them
    with feedback) into ``folder``; return the store's URL."""
    plan = PLAN.format(feature=FEATURE, min_samples=max(interactions // 10, 1))
    (folder / "pilotgate.toml").write_text(plan, encoding="utf-8")
    rng = random.Random(seed)
    start = datetime(2026, 6, 2, tzinfo=UTC)
    inter: list[dict[str, object]] = []
    fb: list[dict[str, object]] = []
    for i in range(interactions):
        ts = start + timedelta(seconds=i * 97)
        inter.append({"id": f"i{i}", "ts": ts, "feature": FEATURE, "version": "v1",
                      "session_id": f"s{i // 4}", "user_id": f"u{i % 50}",
                      "input": f"question {i % 37} about my card", "output": "an answer",
                      "latency_ms": rng.lognormvariate(7, 0.5),
                      "error": "timeout" if rng.random() < 0.01 else None})  # fmt: skip
        if i % 2 == 0:
            fb.append({"interaction_id": f"i{i}", "ts": ts + timedelta(seconds=9),
                       "accepted": rng.random() < 0.8, "dwell_ms": 4000.0})  # fmt: skip
    url = f"sqlite:///{folder / 'small.db'}"
    with Store(url) as store:
        store.add_interactions(inter)
        store.add_feedback(fb)
    return url
