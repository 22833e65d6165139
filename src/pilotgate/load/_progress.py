"""Live progress of a load level: one row a second while it runs.

A load test that prints nothing for minutes and then a table gives no chance to stop a run
that went wrong in its first seconds. Once a second this reads the recorder's columns
(append-only lists, read on the loop's own thread) for the requests that ended in that
second and hands a small dict to a callback; the CLI prints it as a table row.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["ProgressPrinter", "progress_row", "start_progress"]


class _Started(Protocol):
    started: int


def progress_row(
    rec: Any, start: int, second: int, started: int, elapsed_s: float
) -> dict[str, Any]:
    """The figures of the requests recorded from index ``start`` on (the last second)."""
    ends = rec.end[start:]
    intended = rec.intended[start:]
    errors = rec.error[start:]
    e2e = sorted(
        (e - i) * 1000.0 for e, i, err in zip(ends, intended, errors, strict=True) if not err
    )
    done = len(rec.end)

    def q(p: float) -> float | None:
        if not e2e:
            return None
        return round(float(e2e[min(len(e2e) - 1, math.ceil(p * len(e2e)) - 1)]), 1)

    return {
        "second": second,
        "elapsed_s": round(elapsed_s, 2),
        "done": done,
        "ok": len(e2e),
        "failed": len(ends) - len(e2e),
        "in_flight": max(0, started - done),
        "e2e_p50_ms": q(0.5),
        "e2e_p99_ms": q(0.99),
    }


def start_progress(
    callback: Callable[[dict[str, Any]], None],
    rec: Any,
    sender: _Started,
    t0: float,
    stop: asyncio.Event,
) -> asyncio.Task[None]:
    """Call ``callback`` once a second with the last second's row until cancelled."""

    async def tick() -> None:
        seen = 0
        second = 0
        while True:
            second += 1
            delay = t0 + second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            row = progress_row(rec, seen, second, sender.started, time.perf_counter() - t0)
            row["stopping"] = stop.is_set()
            seen = row["done"]
            try:
                callback(row)
            except Exception:  # noqa: BLE001 - a broken display never stops the run
                return

    return asyncio.get_running_loop().create_task(tick())


class ProgressPrinter:
    """Prints progress rows as an aligned table on a text stream (stderr in the CLI)."""

    _HEAD = f"{'level':>8} {'s':>4} {'done':>8} {'ok/s':>7} {'fail/s':>7} "
    _HEAD += f"{'in flight':>9} {'e2e p50':>9} {'e2e p99':>9}"

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._label = ""
        self._header = False

    def level(self, label: str) -> Callable[[dict[str, Any]], None]:
        """A callback for one level's rows, labelled ``label``."""
        self._label = label
        return self

    def __call__(self, row: dict[str, Any]) -> None:
        if not self._header:
            self._write(self._HEAD)
            self._header = True

        def ms(x: float | None) -> str:
            return "–" if x is None else f"{x:,.0f}"

        self._write(
            f"{self._label[:8]:>8} {row['second']:>4} {row['done']:>8,} {row['ok']:>7,} "
            f"{row['failed']:>7,} {row['in_flight']:>9,} {ms(row['e2e_p50_ms']):>9} "
            f"{ms(row['e2e_p99_ms']):>9}" + ("  stopping" if row.get("stopping") else "")
        )
