"""Run a simulator on its own event loop in a background thread.

Synchronous tests, the demo and scripts want a provider that is simply *there*
while they run; a thread with a private loop gives them one without making them
async, and keeps the simulator's timers off the caller's loop. The thread itself is
:func:`pilotgate._thread.serve_in_thread`, shared with the demo feature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from pilotgate._thread import serve_in_thread
from pilotgate.simulator._profile import SimulatorProfile
from pilotgate.simulator._sim import Simulator

__all__ = ["new_event_loop", "run_in_thread"]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed (faster timers and sockets), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


@contextmanager
def run_in_thread(
    profile: SimulatorProfile | None = None,
    *,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout_s: float = 10.0,
) -> Iterator[Simulator]:
    """Start a :class:`Simulator` in a daemon thread; stop it when the block exits.

    Yields:
        The running simulator (``sim.url`` is set; ``sim.stats`` is readable).

    Raises:
        ConfigError: the address cannot be bound.
        TimeoutError: the simulator did not start within ``timeout_s``.
    """
    sim = Simulator(profile, seed=seed)

    async def start() -> Simulator:
        await sim.start(host, port)
        return sim

    with serve_in_thread(
        start,
        name="pilotgate-simulator",
        what="the simulator",
        timeout_s=timeout_s,
        loop_factory=new_event_loop,
    ) as running:
        yield running
