"""The command line this process was started with, safe to store with a run.

A stored run's "Reproduce" command must carry every option that produced its number, so
the CLI records its own invocation here and whoever records a run (the CLI's
``record_run``, ``run_eval``) stores it as ``params.command``. Credentials in URLs and
the values of secret-looking options never reach the store.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

__all__ = ["current_command", "set_invocation"]

_SECRET_OPT = re.compile(r"^--?[\w-]*(key|token|secret|passw)[\w-]*$", re.IGNORECASE)
_URL_CREDS = re.compile(r"(\w+://)[^/@\s]*@")

_argv: list[str] | None = None


def set_invocation(argv: Sequence[str] | None) -> None:
    """Remember the CLI arguments (without the program name); None forgets them."""
    global _argv
    _argv = None if argv is None else [str(a) for a in argv]


def _scrub(args: Sequence[str]) -> list[str]:
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if _SECRET_OPT.match(name):
            if eq:
                out.append(f"{name}=***")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(_URL_CREDS.sub(r"\1", arg))
    return out


def current_command() -> str | None:
    """``pilotgate …`` as invoked (secrets masked), or None outside the CLI."""
    if _argv is None:
        return None
    return shlex.join(["pilotgate", *_scrub(_argv)])
