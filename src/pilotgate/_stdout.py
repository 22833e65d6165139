"""Standard output that survives ``| head`` and tables that are not cut when piped.

When the reader of a pipe exits early (``pilotgate eval run … --json X | head``), the
next write raises ``BrokenPipeError``; left alone it kills the command before it writes
``--json X`` or stores its run. Here the first broken write silently sends the rest of
stdout to ``/dev/null`` and the command finishes its work. And Rich draws tables 80
columns wide when stdout is not a terminal, cutting cells to "…": a pipe or a file gets a
wide console instead (``COLUMNS`` still wins when set).
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

__all__ = ["PipeSafeStdout", "install"]

_PIPED_COLUMNS = "200"


class PipeSafeStdout:
    """A text stream proxy: writes go to ``inner`` until the pipe breaks, then nowhere."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.broken = False

    def write(self, s: str) -> int:
        if self.broken:
            return len(s)
        try:
            return self._inner.write(s)
        except BrokenPipeError:
            self._break()
            return len(s)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self._inner.flush()
        except BrokenPipeError:
            self._break()

    def _break(self) -> None:
        self.broken = True
        try:  # the interpreter's final flush must not raise either
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._inner.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def install() -> PipeSafeStdout | None:
    """Wrap ``sys.stdout`` (once) and widen Rich's console when stdout is not a terminal."""
    out = sys.stdout
    if out is None or isinstance(out, PipeSafeStdout):
        return None
    try:
        tty = out.isatty()
    except (ValueError, OSError):
        tty = False
    if not tty and "COLUMNS" not in os.environ:
        os.environ["COLUMNS"] = _PIPED_COLUMNS
    safe = PipeSafeStdout(out)
    sys.stdout = safe
    return safe
