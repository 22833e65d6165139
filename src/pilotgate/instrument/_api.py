"""``configure``, ``stats``, ``flush``, ``shutdown``: the process-wide SDK state.

One exporter at a time. ``configure()`` replaces it (the old one flushes under its exit
deadline first); an ``atexit`` hook flushes the current one with a bounded deadline; a
forked child gets fresh ids and its own exporter instead of sharing the parent's.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from pilotgate.instrument import _state as st
from pilotgate.instrument._config import build_settings
from pilotgate.instrument._exporter import Exporter

__all__ = ["configure", "flush", "shutdown", "stats"]

_log = logging.getLogger("pilotgate.instrument")
_lock = threading.Lock()
_exporter: Exporter | None = None
_hooks_installed = False


def configure(*, strict: bool = False, **settings: Any) -> dict[str, Any]:
    """Start recording: ``configure(store=URL)`` (local) or ``configure(collector=URL, api_key=…)``.

    Never raises into the application unless ``strict=True``: problems are logged once,
    listed in ``stats()["config_problems"]``, and a bad value falls back to its default.
    Settings (all keyword): store, collector, api_key, sample_rate, redact, spill_dir,
    spill_max_bytes, buffer_size, batch_size, flush_interval_s, exit_deadline_s, timeout_s,
    retry_initial_s, retry_max_s, feature, version, enabled (see ``SDKSettings``).

    Returns:
        ``stats()`` right after configuring (handy to check ``config_problems``).
    """
    global _exporter
    try:
        conf, problems = build_settings(settings)
    except Exception as exc:  # defensive: validation itself must not take the app down
        conf, problems = build_settings({"enabled": False})
        problems.insert(0, f"configure failed: {type(exc).__name__}: {exc}")
    if strict and problems:
        from pilotgate.errors import ConfigError

        raise ConfigError("; ".join(problems), where="pilotgate.configure()", fix="see docs/sdk.md")
    for problem in problems:
        _log.warning("pilotgate.configure: %s", problem)
    try:
        with _lock:
            old = _exporter
            if old is not None:
                old.shutdown()
            _exporter = Exporter(conf, problems)
            st.install(_exporter.sink)
            _install_hooks()
        return _exporter.stats()
    except Exception as exc:
        _log.warning("pilotgate.configure failed: %s: %s", type(exc).__name__, exc)
        return {"errors": 1, "last_error": f"{type(exc).__name__}: {exc}"}


def stats() -> dict[str, Any]:
    """Counters of what the SDK did: captured, sent, spilled, replayed, dropped, errors…

    ``dropped`` is the sum of every way a record was lost (buffer full, spill cap reached,
    rejected by the backend, could not be built); each also has its own key.
    """
    exp = _exporter
    if exp is None:
        return {
            "backend": None,
            "enabled": False,
            "captured": 0,
            "sent": 0,
            "spilled": 0,
            "replayed": 0,
            "dropped": 0,
            "errors": st.counter_value(st.HOT_ERRORS),
            "sampled_out": 0,
            "last_error": "not configured: call pilotgate.configure(store=… or collector=…)",
        }
    try:
        return exp.stats()
    except Exception as exc:
        return {"errors": 1, "last_error": f"stats: {type(exc).__name__}: {exc}"}


def flush(timeout: float = 5.0) -> bool:
    """Block up to ``timeout`` s until what was captured so far went out; True if it did.

    False means some records are still pending or were spilled to disk (the backend was
    away); they are not lost and go out when it returns.
    """
    exp = _exporter
    if exp is None:
        return True
    try:
        return exp.flush(timeout)
    except Exception:
        return False


def shutdown(timeout: float | None = None) -> bool:
    """Flush within ``timeout`` (default ``exit_deadline_s``) and stop; spills the rest.

    Runs automatically at interpreter exit. Capture stays off until ``configure()`` again.
    """
    global _exporter
    with _lock:
        exp, _exporter = _exporter, None
    if exp is None:
        return True
    try:
        return exp.shutdown(timeout)
    except Exception:
        return False


def _at_exit() -> None:
    global _exporter
    with _lock:  # detached first: a hand-off child must not restart it
        exp, _exporter = _exporter, None
    if exp is not None:
        try:
            exp.shutdown(exiting=True)
        except Exception:
            pass


_FORK_WAIT_S = 2.0
_held_for_fork: threading.Lock | None = None


def _before_fork() -> None:
    """Let an in-flight store write finish before the process forks (bounded wait).

    SQLite keeps its file locks per process: a child forked while the exporter thread holds
    the store open mid-write believes it holds locks the kernel never gave it, and its own
    connection then waits forever. Forks are rare and store writes short; the wait is
    bounded so a stuck store cannot hold the application's fork.
    """
    global _held_for_fork
    exp = _exporter
    lock = getattr(getattr(exp, "transport", None), "io_lock", None)
    if isinstance(lock, type(_lock)) and lock.acquire(timeout=_FORK_WAIT_S):
        _held_for_fork = lock


def _release_fork_hold() -> None:
    global _held_for_fork
    lock, _held_for_fork = _held_for_fork, None
    if lock is not None:
        try:
            lock.release()
        except RuntimeError:
            pass


def _after_fork_in_child() -> None:
    global _exporter, _lock
    _release_fork_hold()
    _lock = threading.Lock()
    st.IDS.reseed()
    old = _exporter
    if old is None:
        return
    try:
        old.abandon()
        _exporter = Exporter(old.settings, old.problems)
        st.install(_exporter.sink)
    except Exception:
        _exporter = None


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_before_fork,
            after_in_parent=_release_fork_hold,
            after_in_child=_after_fork_in_child,
        )
