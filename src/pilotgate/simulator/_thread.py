"""Run a simulator on its own event loop in a background thread.

Synchronous tests, the demo and scripts want a provider that is simply *there*
while they run; a thread with a private loop gives them one without making them
async, and keeps the simulator's timers off the caller's loop. The thread itself is
:func:`pilotgate._thread.serve_in_thread`, shared with the demo feature.
:func:`serve_forever` is the foreground form (``pilotgate simulate``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pilotgate._thread import serve_in_thread
from pilotgate.simulator._profile import SimulatorProfile
from pilotgate.simulator._sim import Simulator, SimulatorStats

__all__ = ["new_event_loop", "run_in_thread", "serve_forever"]


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


def serve_forever(
    profile: SimulatorProfile,
    *,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_start: Callable[[Simulator], None] | None = None,
) -> SimulatorStats:
    """Serve a simulator in the foreground until SIGINT or SIGTERM; its final stats.

    The loop is uvloop's when installed; ``on_start(sim)`` is called once it listens
    (``sim.base_url`` then has the real port when ``port`` is 0).
    """
    sim = Simulator(profile, seed=seed)

    async def main() -> None:
        await sim.start(host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if on_start is not None:
            on_start(sim)
        await stop.wait()
        await sim.stop()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
    return sim.stats
