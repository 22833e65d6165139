"""Call a target for many inputs with bounded concurrency, results in input order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from pilotgate.errors import ConfigError
from pilotgate.targets._base import Input, Target
from pilotgate.targets._result import TargetResult

__all__ = ["run_many"]


async def run_many(
    target: Target,
    inputs: Iterable[Input],
    concurrency: int = 8,
    progress: Callable[[int, TargetResult], None] | None = None,
) -> list[TargetResult]:
    """Call ``target`` once per input, at most ``concurrency`` calls in flight.

    A fixed pool of workers pulls from one iterator, so memory stays flat however
    many inputs there are and no input waits behind a task it does not need.

    Args:
        target: what to call.
        inputs: texts or message lists.
        concurrency: calls in flight at once (>= 1).
        progress: called as ``progress(index, result)`` after each call completes.

    Returns:
        One result per input, in input order.
    """
    if concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1, got {concurrency}", fix="pass 1 or more")
    items = list(inputs)
    results: list[TargetResult | None] = [None] * len(items)
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:
            result = await target.call(item)
            results[index] = result
            if progress is not None:
                progress(index, result)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(items))):
            group.create_task(worker())
    return [r for r in results if r is not None]
