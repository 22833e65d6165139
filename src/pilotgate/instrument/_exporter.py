"""The background exporter: one daemon thread that batches, sends, spills and replays.

Life of a captured call: the hot path appends a tuple to ``sink.buf``; this thread drains
the buffer (every ``flush_interval_s``, or as soon as a batch is waiting), builds records,
redacts them, and sends them. If the backend is away, the batch goes to the spill file
and the backend is retried after a capped, jittered exponential delay; once a retry
works, the spill files are replayed (a few batches per tick, interleaved with live
traffic). At exit the same loop runs once more under a deadline, spilling whatever it
cannot send in time.
"""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
from collections import deque
from typing import Any

from pilotgate.instrument import _state as st
from pilotgate.instrument._config import SDKSettings
from pilotgate.instrument._handoff import drain_to, spill_in_child
from pilotgate.instrument._otlp import OtlpTransport
from pilotgate.instrument._records import expand, freeze, resolve_redactor
from pilotgate.instrument._spill import Spill
from pilotgate.instrument._state import Sink
from pilotgate.instrument._transport import (
    CollectorTransport,
    Reject,
    Retry,
    StoreTransport,
    TooLarge,
    Transport,
    Unauthorized,
)

__all__ = ["Exporter"]

Record = dict[str, Any]
COUNTERS = (
    "drained",
    "sent",
    "spilled",
    "replayed",
    "rejected",
    "invalid",
    "dropped_spill_full",
    "errors",
    "send_failures",
    "otlp_sent",
    "otlp_failed",
    "handed_off",
)


class Exporter:
    """Owns the sink, the transport, the spill directory and the thread for one configuration."""

    def __init__(self, settings: SDKSettings, problems: list[str]) -> None:
        self.settings = settings
        self.problems = list(problems)
        active = settings.enabled and settings.backend is not None
        threshold = None if settings.sample_rate >= 1 else int(settings.sample_rate * 2**32)
        self.sink = Sink(
            enabled=active,
            cap=settings.buffer_size,
            wake_at=settings.batch_size,
            threshold=threshold,
        )
        self.redact, self.redaction = resolve_redactor(settings.redact)
        self.transport: Transport | None = None
        if settings.collector:
            self.transport = CollectorTransport(
                settings.collector, settings.api_key, settings.max_batch_bytes
            )
        elif settings.store:
            self.transport = StoreTransport(
                settings.store, pseudonymise=bool(settings.redact) and settings.pseudonymise_ids
            )
        self.otlp: OtlpTransport | None = None
        if settings.otlp_endpoint:
            service = settings.feature or "pilotgate-app"
            self.otlp = OtlpTransport(settings.otlp_endpoint, settings.otlp_headers, service)
        self._otlp_delay = 0.0
        self._otlp_next_try = 0.0
        self.spill = Spill(settings.spill_path(), settings.spill_max_bytes, st.IDS.prefix[:-1])
        self.counts = dict.fromkeys(COUNTERS, 0)
        self._base = self._hot_counters()  # the hot path's counters are process-wide
        self.last_error: str | None = self.problems[-1] if self.problems else None
        self.backend_up: bool | None = None
        self._rng = random.Random(st.IDS.prefix)
        self._delay = 0.0
        self._next_try = 0.0
        self._stop = threading.Event()
        self._park = threading.Event()
        self._deadline: float | None = None
        self._waiters: list[threading.Event] = []
        self._abandoned = False
        self._auth_warned = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if active:
            try:  # files left by an earlier run: a directory scan, before the thread starts
                self.spill.claim_orphans()
            except Exception as exc:
                self._error(f"spill directory: {type(exc).__name__}: {exc}")
            self._thread = threading.Thread(
                target=self._run, name="pilotgate-exporter", daemon=True
            )
            self._thread.start()

    # --------------------------------------------------------------- control
    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until everything captured so far (and everything spilled)
        was delivered; False if some is still pending or waiting in the spill file."""
        end = time.monotonic() + timeout
        while True:
            if self._thread is None or not self._thread.is_alive():
                return not self.sink.buf
            ev = threading.Event()
            with self._lock:
                self._waiters.append(ev)
            self.sink.wake.set()
            if not ev.wait(max(0.0, end - time.monotonic())):
                return False
            if self.backend_up is not False and not self.spill.has_pending():
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, max(0.01, self._next_try - time.monotonic())))

    def shutdown(self, timeout: float | None = None, *, exiting: bool = False) -> bool:
        """Final flush within ``timeout`` (default ``exit_deadline_s``); True if all went out.

        With ``exiting`` (the interpreter is exiting), returns by the deadline whatever is
        queued: what the thread has not sent or spilled by then is handed to a child
        process that spills it (see ``_handoff``). Otherwise what is left is spilled here.
        """
        budget = self.settings.exit_deadline_s if timeout is None else timeout
        self.sink.enabled = False
        thread = self._thread
        if thread is None or not thread.is_alive():
            self.spill.close()
            return not self.sink.buf
        start = time.monotonic()
        self._deadline = start + budget
        self._stop.set()
        self.sink.wake.set()
        # at exit, keep half the budget (at most 0.5 s) to park the thread, hand off and let
        # the interpreter finish (measured on a loaded machine: the batch in hand up to
        # ~0.1 s, fork ~0.1 s, teardown ~0.05 s)
        thread.join(max(0.0, budget - min(0.5, budget * 0.5)) if exiting else budget)
        if thread.is_alive() and exiting:
            self._park.set()  # the thread stops between two batches
            thread.join(max(0.02, min(0.1, self._deadline - time.monotonic() - 0.1)))
            if self._hand_off():
                self._close_backends(thread)
                return False
        # Past the deadline the thread only writes what is left to the spill file (local
        # disk, no network): let it finish while it makes progress, so nothing is lost.
        last, stalled_since = -1, time.monotonic()
        while thread.is_alive():
            thread.join(0.05)
            now = time.monotonic()
            if self.counts["drained"] != last:
                last, stalled_since = self.counts["drained"], now
            elif now - stalled_since > 0.2:
                self._rescue()  # the thread is stuck (a store that will not open, a hung write)
                return False
        self._close_backends(thread)
        return not self.sink.buf and self.backend_up is not False

    def _close_backends(self, thread: threading.Thread) -> None:
        if not thread.is_alive():  # a thread stuck in a call keeps its connection
            if self.transport is not None:
                self.transport.close()
            if self.otlp is not None:
                self.otlp.close()
        self.spill.close()

    def _hand_off(self) -> bool:
        """Give what is still in memory to a child process that spills it; False if the
        platform cannot fork (the caller then spills it itself)."""
        left = self.sink.buf
        if not left:
            return not self._thread or not self._thread.is_alive()
        self._abandoned = True  # from here the thread touches neither buffer nor spill
        self.sink.buf = deque()  # the child's copy is the only one written
        # The process is exiting: keep the items alive (a frozen reference cycle) so that
        # neither freeing them nor the final garbage collection touches their memory, which
        # the child shares copy-on-write (that costs ~1 s for 300k calls, past the deadline).
        keep: list[Any] = [left]
        keep.append(keep)
        gc.freeze()
        tag = self.spill.tag + "h"
        cap_bytes = max(0, self.settings.spill_max_bytes - self.spill.total_bytes)
        feature, version, redact = self.settings.feature, self.settings.version, self.redact
        directory = self.spill.dir

        def work() -> None:
            spill = Spill(directory, cap_bytes, tag)

            def write(items: list[tuple[Any, ...]]) -> None:
                rows, _ = freeze(items, feature=feature, version=version)
                _spill_rows(spill, rows, redact)

            drain_to(left, write)
            spill.close()

        if spill_in_child(work):
            self.counts["handed_off"] += len(left)
            return True
        gc.unfreeze()
        keep.clear()
        self._abandoned = False
        self.sink.buf = left
        return False

    def _rescue(self) -> None:
        """On the caller's thread: spill what is still in memory, in a file of its own.

        The exporter thread is stuck in a backend call; from now on it touches neither the
        buffer nor the spill (``_abandoned``). Only a batch it holds in flight can be lost.
        """
        self._abandoned = True
        try:
            rescue = Spill(
                self.spill.dir,
                max(0, self.settings.spill_max_bytes - self.spill.total_bytes),
                self.spill.tag + "r",
            )
            buf, size = self.sink.buf, self.settings.batch_size
            while buf:
                items = [buf.popleft() for _ in range(min(len(buf), size))]
                rows, _ = freeze(
                    items, feature=self.settings.feature, version=self.settings.version
                )
                _spill_rows(rescue, rows, self.redact)
            rescue.close()
        except Exception:
            pass

    def abandon(self) -> None:
        """In a forked child: drop the parent's state without touching its files' contents."""
        self.sink.enabled = False
        self.sink.buf.clear()
        self.spill.close()

    # ----------------------------------------------------------------- stats
    @staticmethod
    def _hot_counters() -> dict[str, int]:
        return {
            "dropped_full": st.counter_value(st.DROPPED_FULL),
            "sampled_out": st.counter_value(st.SAMPLED_OUT),
            "hot_errors": st.counter_value(st.HOT_ERRORS),
            "annotate_ignored": st.counter_value(st.ANNOTATE_IGNORED),
        }

    def stats(self) -> dict[str, Any]:
        c = self.counts
        pending = len(self.sink.buf)
        hot = {k: v - self._base[k] for k, v in self._hot_counters().items()}
        dropped_full = hot["dropped_full"]
        return {
            "backend": self.settings.backend,
            "backend_up": self.backend_up,
            "enabled": self.sink.enabled,
            "captured": c["drained"] + pending,
            "pending": pending,
            "sent": c["sent"],
            "spilled": c["spilled"],
            "handed_off": c["handed_off"],
            "replayed": c["replayed"],
            "dropped": dropped_full + c["dropped_spill_full"] + c["rejected"] + c["invalid"],
            "dropped_buffer_full": dropped_full,
            "dropped_spill_full": c["dropped_spill_full"],
            "rejected": c["rejected"],
            "invalid": c["invalid"],
            "sampled_out": hot["sampled_out"],
            "errors": c["errors"] + c["send_failures"] + hot["hot_errors"],
            "send_failures": c["send_failures"],
            "otlp_sent": c["otlp_sent"],
            "otlp_failed": c["otlp_failed"],
            "spill_bytes": self.spill.total_bytes,
            "spill_files": len(self.spill.files),
            "spill_corrupt_lines": self.spill.corrupt_lines,
            "annotate_ignored": hot["annotate_ignored"],
            "redaction": self.redaction,
            "normalised": getattr(self.transport, "normalised", 0),
            "last_error": self.last_error,
            "config_problems": list(self.problems),
        }

    # ---------------------------------------------------------------- thread
    def _run(self) -> None:
        assert self.transport is not None
        try:  # before taking anything from the buffer: a slow open holds no records
            self.transport.open()
        except Retry as exc:
            self._down(str(exc), None)
        except Exception as exc:
            self._error(f"open: {type(exc).__name__}: {exc}")
        while not self._abandoned:
            wait = self.settings.flush_interval_s
            if self.backend_up is False:
                wait = max(0.01, min(wait, self._next_try - time.monotonic()))
            elif self.spill.has_pending():
                wait = 0.002  # replaying: keep going, a few batches per tick between live ones
            self.sink.wake.wait(wait)
            self.sink.wake.clear()
            final = self._stop.is_set()
            try:
                self._cycle(final)
            except Exception as exc:  # the thread must survive anything
                self._error(f"exporter: {type(exc).__name__}: {exc}")
            if final:
                return

    def _cycle(self, final: bool) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        buf = self.sink.buf
        size = self.settings.batch_size
        while buf and not self._abandoned:
            if self._park.is_set():
                return  # at exit, past the deadline: what is left is handed off
            final = final or self._stop.is_set()
            n = min(len(buf), size)
            items = [buf.popleft() for _ in range(n)]
            self.counts["drained"] += n
            rows, failed = _sliced(
                freeze, items, feature=self.settings.feature, version=self.settings.version
            )
            del items
            self.counts["invalid"] += failed
            if self.otlp is not None:
                self._export_otlp(rows, final)
            self._deliver(rows, final)
            if not final and not waiters and len(buf) < size:
                break  # fresh records can wait for the next tick; keep the GIL free
        if not final:
            self._replay(all_of_it=bool(waiters))
        for ev in waiters:
            ev.set()

    def _time_left(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _deliver(self, rows: list[list[Any]], final: bool) -> None:
        """Send a batch of frozen rows, or spill them (as rows: cheap) if that fails."""
        if not rows:
            return
        can_try = self.backend_up is not False or time.monotonic() >= self._next_try
        if final:
            # at exit: one failure is enough, and keep time to spill everything left
            left = self._time_left() or 0.0
            reserve = 0.1 + 20e-6 * (len(self.sink.buf) + len(rows))
            can_try = self.backend_up is not False and left > reserve
        if can_try:
            records, bad = _sliced(expand, rows, redact=self.redact)
            self.counts["invalid"] += bad
            if self._send(records):
                return
        self._to_spill(rows)

    def _export_otlp(self, rows: list[list[Any]], final: bool) -> None:
        """Best-effort copy to the OTLP endpoint, with its own backoff."""
        assert self.otlp is not None
        now = time.monotonic()
        if now < self._otlp_next_try or (final and (self._time_left() or 0.0) < 0.3):
            self.counts["otlp_failed"] += sum(1 for r in rows if r[0] == 0)
            return
        records, _ = expand(rows, redact=self.redact)
        try:
            self.counts["otlp_sent"] += self.otlp.export(records, min(self.settings.timeout_s, 2.0))
            self._otlp_delay = 0.0
        except Exception as exc:
            self.counts["otlp_failed"] += sum(1 for r in records if r.get("kind") == "interaction")
            self.last_error = f"OTLP export: {exc}"
            s = self.settings
            self._otlp_delay = min(s.retry_max_s, max(s.retry_initial_s, self._otlp_delay * 2))
            self._otlp_next_try = now + self._rng.uniform(self._otlp_delay / 2, self._otlp_delay)

    def _to_spill(self, rows: list[list[Any]]) -> None:
        if self._abandoned:
            return
        try:
            written, dropped, bad = _spill_rows(self.spill, rows, self.redact)
            self.counts["invalid"] += bad
        except Exception as exc:
            self._error(f"spill write: {type(exc).__name__}: {exc}")
            written, dropped = 0, len(rows)
        self.counts["spilled"] += written
        self.counts["dropped_spill_full"] += dropped

    def _send(self, records: list[Record]) -> bool:
        """Deliver one batch; False if the backend is away (the caller keeps the records)."""
        assert self.transport is not None
        timeout = self.settings.timeout_s
        left = self._time_left()
        if left is not None:
            timeout = max(0.05, min(timeout, left * 0.8))
        try:
            ok, rejected = self.transport.send(records, timeout)
        except TooLarge:
            if len(records) == 1:
                self.counts["rejected"] += 1
                self.last_error = "a single record is over the collector's size limit"
                return True
            mid = len(records) // 2
            return self._send(records[:mid]) and self._send(records[mid:])
        except Reject as exc:
            self.counts["rejected"] += len(records)
            self.last_error = str(exc)
            return True
        except Retry as exc:
            if isinstance(exc, Unauthorized) and not self._auth_warned:
                # Once per process: records are kept (spilled) and retried, but a wrong key
                # would otherwise only show in stats()["last_error"].
                self._auth_warned = True
                logging.getLogger("pilotgate.instrument").warning(
                    "pilotgate: %s; records are kept on disk and retried", exc
                )
            self._down(str(exc), exc.after)
            return False
        except Exception as exc:
            self._error(f"send: {type(exc).__name__}: {exc}")
            self._down(str(exc), None)
            return False
        self.counts["sent"] += ok
        self.counts["rejected"] += rejected
        if self.backend_up is not True:
            self.backend_up = True
            self._delay = 0.0
        return True

    def _down(self, reason: str, after: float | None) -> None:
        self.counts["send_failures"] += 1
        self.last_error = reason
        self.backend_up = False
        s = self.settings
        self._delay = min(s.retry_max_s, max(s.retry_initial_s, self._delay * 2))
        delay = self._rng.uniform(self._delay / 2, self._delay)
        if after is not None:
            delay = max(delay, min(after, s.retry_max_s))
        self._next_try = time.monotonic() + delay

    def _replay(self, *, all_of_it: bool) -> None:
        """Send spilled batches while the backend takes them (a few per tick, or all)."""
        if self.backend_up is False and time.monotonic() < self._next_try:
            return
        budget = 1_000_000 if all_of_it else 5
        while budget > 0:
            batch = self.spill.next_batch()
            if batch is None:
                return
            records = batch.rows
            if batch.kind == "items":
                records, bad = expand(batch.rows, redact=self.redact)
                self.counts["invalid"] += bad
            if not self._send(records):
                return
            self.spill.commit(batch)
            self.counts["replayed"] += len(records)
            budget -= 1
            if not all_of_it and len(self.sink.buf) >= self.settings.batch_size:
                return  # live traffic first

    def _error(self, message: str) -> None:
        self.counts["errors"] += 1
        self.last_error = message


def _spill_rows(spill: Spill, rows: list[list[Any]], redact: Any) -> tuple[int, int, int]:
    """Spill frozen rows: as redacted records when redaction is on (nothing unredacted
    touches the disk), else as the compact rows. Returns (written, dropped, invalid)."""
    if redact is None:
        return (*spill.append(rows), 0)
    records, bad = _sliced(expand, rows, redact=redact)
    return (*spill.append_records(records), bad)


SLICE = 100
"""Records built between two yields of the GIL: ~0.5 ms of work, so the application's
thread never waits a whole switch interval (5 ms) behind the exporter."""


def _sliced(fn: Any, items: list[Any], **kwargs: Any) -> tuple[list[Any], int]:
    """``fn(items, **kwargs)`` (freeze or expand) in slices, yielding the GIL between them."""
    if len(items) <= SLICE:
        out: tuple[list[Any], int] = fn(items, **kwargs)
        return out
    rows: list[Any] = []
    failed = 0
    for i in range(0, len(items), SLICE):
        part, bad = fn(items[i : i + SLICE], **kwargs)
        rows.extend(part)
        failed += bad
        time.sleep(0)  # let the application's thread run
    return rows, failed
