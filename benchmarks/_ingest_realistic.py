"""Realistic ingest records and the minimal floor they are judged against (benchmarks/ingest.py).

Real chat logs are kilobytes per record, not a sentence: here a prompt is a system message
and a user message of 1-3 KB together, a reply 0.5-1.5 KB, ~5 % of prompts carry an
e-mail address, a phone or a card number, and about every second interaction gets a
feedback record. The floor is what any importer must at least do with such a file, measured
in the same run on the same machine: ``json.loads`` of each line and ``executemany`` of
both kinds into plain SQLite tables, one transaction per 2,000 lines. Whatever the machine
is doing to both, the ratio of the two rates is the figure.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

WORDS = (
    "account balance transfer card payment loan interest statement branch mortgage fee "
    "limit savings deposit overdraft pin online banking app login password verify identity "
    "address direct debit standing order refund dispute merchant currency exchange rate "
    "the a to of and for my is was on in with please could you help me why when how what"
).split()
SYSTEM = (
    "You are the Northwind Bank assistant. Answer briefly and accurately, cite the relevant "
    "section of the terms, never ask for a full card number or a password, and hand over "
    "to a human agent when the customer asks for one or is upset. "
)
PII = (
    "You can reach me at ann.lee@example.co.uk",
    "call me back on +44 20 7946 0958 after 5pm",
    "my card 4111 1111 1111 1111 was charged twice",
)


def _text(rng: random.Random, size: int) -> str:
    out: list[str] = []
    n = 0
    while n < size:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(8, 20)))
        out.append(sentence.capitalize() + ".")
        n += len(sentence) + 2
    return " ".join(out)[:size]


def make_realistic(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` interactions (1-3 KB prompts, 0.5-1.5 KB replies) and ~n/2 feedback records."""
    rng = random.Random(seed)
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for i in range(n):
        user = _text(rng, rng.randrange(1000, 3000) - len(SYSTEM))
        if rng.random() < 0.05:
            user = f"{user} {rng.choice(PII)}."
        ts = t0 + timedelta(seconds=i * 14 * 86400 / n)
        iid = f"r{seed}-{i:08d}"
        out.append(
            {
                "kind": "interaction",
                "id": iid,
                "ts": ts.isoformat().replace("+00:00", "Z"),
                "feature": "support-chat",
                "version": "v3" if rng.random() < 0.5 else "v4",
                "session_id": f"s{seed}-{i // 4:07d}",
                "user_id": f"u{rng.randrange(5000)}",
                "input": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": user},
                ],
                "output": _text(rng, rng.randrange(500, 1500)),
                "latency_ms": round(rng.lognormvariate(7.0, 0.4), 1),
                "tokens_in": rng.randrange(250, 800),
                "tokens_out": rng.randrange(120, 400),
                "metadata": {"route": rng.choice(["faq", "cards", "loans"])},
            }
        )
        if rng.random() < 0.5:
            out.append(
                {
                    "kind": "feedback",
                    "interaction_id": iid,
                    "ts": (ts + timedelta(seconds=20)).isoformat().replace("+00:00", "Z"),
                    "accepted": rng.random() < 0.7,
                    "dwell_ms": round(rng.uniform(500, 30_000), 1),
                }
            )
    return out


def sizes(records: list[dict[str, Any]]) -> dict[str, float]:
    """Mean prompt and reply sizes in bytes, and the share of feedback lines."""
    ints = [r for r in records if r["kind"] == "interaction"]
    prompt = sum(len(json.dumps(r["input"])) for r in ints) / len(ints)
    reply = sum(len(r["output"]) for r in ints) / len(ints)
    return {"prompt_b": prompt, "reply_b": reply, "feedback": 1 - len(ints) / len(records)}


_INTERACTION_COLS = (
    "id", "ts", "feature", "version", "session_id", "user_id", "input", "output",
    "latency_ms", "tokens_in", "tokens_out", "metadata",
)  # fmt: skip
_FEEDBACK_COLS = ("interaction_id", "ts", "accepted", "dwell_ms")


def floor_import(path: Path, db: Path, batch: int = 2000) -> float:
    """Seconds to json.loads every line and executemany both kinds into SQLite."""
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE interactions ({', '.join(_INTERACTION_COLS)})")
    con.execute(f"CREATE TABLE feedback ({', '.join(_FEEDBACK_COLS)})")
    qi = f"INSERT INTO interactions VALUES ({', '.join('?' * len(_INTERACTION_COLS))})"
    qf = f"INSERT INTO feedback VALUES ({', '.join('?' * len(_FEEDBACK_COLS))})"

    def flush(ints: list[tuple[Any, ...]], fbs: list[tuple[Any, ...]]) -> None:
        with con:
            con.executemany(qi, ints)
            con.executemany(qf, fbs)

    ints: list[tuple[Any, ...]] = []
    fbs: list[tuple[Any, ...]] = []
    with path.open("rb") as fh:
        for raw in fh:
            r = json.loads(raw)
            if r["kind"] == "interaction":
                row = [r.get(c) for c in _INTERACTION_COLS]
                row[6], row[11] = json.dumps(row[6]), json.dumps(row[11])
                ints.append(tuple(row))
            else:
                fbs.append(tuple(r.get(c) for c in _FEEDBACK_COLS))
            if len(ints) + len(fbs) >= batch:
                flush(ints, fbs)
                ints, fbs = [], []
    flush(ints, fbs)
    con.close()
    return time.perf_counter() - t0
