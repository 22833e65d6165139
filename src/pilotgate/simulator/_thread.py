"""Run a simulator on its own event loop in a background thread.

Synchronous tests, the demo and scripts want a provider that is simply *there*
while they run; a thread with a private loop gives them one without making them
async, and keeps the simulator's timers off the caller's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
    """
    sim = Simulator(profile, seed=seed)
    ready = threading.Event()
    failure: list[BaseException] = []
    stop_box: list[asyncio.Event] = []
    loop = new_event_loop()

    async def main() -> None:
        try:
            await sim.start(host, port)
        except BaseException as exc:  # reported to the caller's thread below
            failure.append(exc)
            ready.set()
            return
        stop = asyncio.Event()
        stop_box.append(stop)
        ready.set()
        await stop.wait()
        await sim.stop()

    def runner() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    thread = threading.Thread(target=runner, name="pilotgate-simulator", daemon=True)
    thread.start()
    if not ready.wait(timeout_s):
        raise TimeoutError(f"the simulator did not start within {timeout_s} s")
    if failure:
        thread.join(timeout_s)
        raise failure[0]
    try:
        yield sim
    finally:
        loop.call_soon_threadsafe(stop_box[0].set)
        thread.join(timeout_s)
