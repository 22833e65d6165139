"""A shared pause for all workers of a run when 429s pile up.

Each call already retries a 429 on its own, waiting as long as the server asked (the
target's retry policy). That is not enough with eight workers: each backs off alone
and the other seven keep hitting the limit. When several rate-limit signals arrive
close together, the gate stops *every* worker for a while, doubling the pause on each
strike and relaxing after calls succeed again.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from pilotgate.targets import TargetResult, retry_after_s

__all__ = ["RateGate"]


class RateGate:
    """Pause all callers when ``pile_up`` rate-limit signals arrive within ``window_s``.

    A signal is a retry a call needed (the target retries only 429, 503 and refused
    connections) or a call that still ended rate-limited.

    Args:
        window_s: how close together signals must be to count as piling up.
        pile_up: how many signals within the window trigger a shared pause.
        base_pause_s: the first pause; it doubles with each strike.
        max_pause_s: the longest pause.
    """

    def __init__(
        self,
        *,
        window_s: float = 5.0,
        pile_up: int = 3,
        base_pause_s: float = 1.0,
        max_pause_s: float = 30.0,
    ) -> None:
        self.window_s = window_s
        self.pile_up = pile_up
        self.base_pause_s = base_pause_s
        self.max_pause_s = max_pause_s
        self._signals: deque[float] = deque()
        self._until = 0.0
        self._strikes = 0
        self.pauses = 0
        self.paused_s = 0.0
        self.signals = 0

    async def wait(self) -> None:
        """Return once no shared pause is in force."""
        while True:
            left = self._until - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(left)

    def record(self, result: TargetResult) -> None:
        """Count the rate-limit signals in one finished call and pause if they pile up."""
        # retries only happen on 429, 503 and refused connections: all mean "slow down"
        n = result.retries + (1 if result.error == "rate_limited" else 0)
        if n == 0:
            if result.ok and self._strikes:
                self._strikes -= 1
            return
        now = time.monotonic()
        self.signals += n
        self._signals.extend([now] * n)
        while self._signals and now - self._signals[0] > self.window_s:
            self._signals.popleft()
        if len(self._signals) < self.pile_up:
            return
        hint = retry_after_s(result.headers) or 0.0
        pause = min(self.max_pause_s, max(hint, self.base_pause_s * 2.0**self._strikes))
        if now + pause > self._until:
            self.pauses += 1
            self.paused_s += pause if self._until <= now else now + pause - self._until
            self._until = now + pause
        self._strikes += 1
        self._signals.clear()
