"""One exception hierarchy, rooted at :class:`PilotgateError`.

Every message says what went wrong, where (file, line, key, URL) and how to fix it,
so the CLI can print it as one line and exit 2.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "MissingDependencyError",
    "PilotgateError",
    "StoreError",
    "TargetError",
]


class PilotgateError(Exception):
    """Base of every error pilotgate raises on purpose.

    Args:
        what: what went wrong.
        where: the file, line, key path or URL it happened at.
        fix: what the user should do about it.
    """

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [self.what]
        if self.where:
            parts[0] = f"{self.where}: {self.what}"
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return " — ".join(parts)


class ConfigError(PilotgateError):
    """The pilot plan, a setting or a command-line option is invalid."""


class InputError(PilotgateError):
    """An input file or record is malformed."""


class StoreError(PilotgateError):
    """The store cannot be opened, migrated or written.

    ``retryable`` is True when the store itself was away (a lost connection, a locked
    database): the same write may work later. False when the data was refused.
    """

    retryable: bool = True


class TargetError(PilotgateError):
    """A target string or definition is invalid, or the target cannot be reached."""


class MissingDependencyError(PilotgateError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}",
            fix=f"pip install 'pilotgate[{extra}]'",
        )
