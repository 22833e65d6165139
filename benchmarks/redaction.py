"""Redaction in linear time: every pattern on adversarial 1 MB inputs.

Budget (DESIGN.md): <= 50 ms per MB of adversarial input, per pattern. Anchor: the e-mail
pattern of pilotgate 0.x before this benchmark existed took ~23-93 ms on 4,000 crafted
characters, i.e. about an hour for 1 MB (quadratic).

Each built-in detector (and ``scrub``, which clips, then applies its own patterns and the
redactor) is fed 1 MB texts
made of repetitions of its own near-matches: strings that start like a match and fail
late, which is where a backtracking engine spends quadratic time. Two long-run shapes are
added for every pattern (one huge run of its characters, then the character that makes it
fail). The figure is the CPU time of this thread (steadier than wall time on a shared
machine; the least of ``--repeat`` passes, since a loaded machine only ever adds to it)
for the detector's whole pass (search, substitute, validators), worst input per pattern.
The load average is printed before and after.

Also checked: a user pattern with catastrophic backtracking stops at its time limit and is
reported (``NAME:timeout``), never run to completion.

Run: .venv/bin/python benchmarks/redaction.py [--mb 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from _redaction_inputs import NEAR  # this folder (the redaction tests read it too)
from pilotgate import _scrub
from pilotgate.redact import Redactor
from pilotgate.redact._detect import builtin_detectors
from pilotgate.redact._redact import _sub

BUDGET_MS_PER_MB = 50.0


SCRUB_NEAR = NEAR["secret"] + ["api_key=", "password=" + "x" * 40, "2026-01-01T12:00:00+0"]


def fill(piece: str, size: int) -> str:
    return (piece * (size // len(piece) + 1))[:size]


def inputs(kind_chars: str, near: list[str], size: int) -> list[tuple[str, str]]:
    out = [(repr(p if len(p) <= 26 else p[:22] + "…" + p[-1]), fill(p, size)) for p in near]
    out.append(("long run + '!'", kind_chars * (size // len(kind_chars)) + "!"))
    out.append(("long run + '@'", kind_chars * (size // len(kind_chars)) + "@"))
    return out


REPEAT = 3


def cpu_ms(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        t = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t)
    return best * 1000


RUN_CHARS = {"email": "a.", "secret": "a-", "iban": "A1", "card": "1 ", "phone": "1-"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1.0, help="input size in MB (default 1)")
    ap.add_argument("--repeat", type=int, default=3, help="passes per input (least counts)")
    args = ap.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    size = int(args.mb * 1_000_000)
    ok = True
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"budget: <= {BUDGET_MS_PER_MB:.0f} ms per MB per pattern (thread CPU time)")
    print(f"{'pattern':<16} {'worst input (repeated)':<30} {'ms/MB':>8}  verdict")
    for kind, det in builtin_detectors().items():
        worst, name = 0.0, ""
        for label, text in inputs(RUN_CHARS[kind], NEAR[kind], size):
            ms = cpu_ms(lambda d=det, t=text: _sub(d, t)) / args.mb  # type: ignore[misc]
            if ms > worst:
                worst, name = ms, label
        ok &= _line(kind, name, worst)
    # scrub (report, dashboard): its own patterns and the redactor, after clipping
    for label, limit in (("scrub (600)", 600), ("scrub (no limit)", None)):
        worst, name = 0.0, ""
        for lab, text in inputs("a-", SCRUB_NEAR, size):
            ms = cpu_ms(lambda t=text, n=limit: _scrub.scrub(t, n)) / args.mb  # type: ignore[misc]
            if ms > worst:
                worst, name = ms, lab
        ok &= _line(label, name, worst)
    ok &= _user_timeout()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("PASS" if ok else "FAIL: a pattern is over budget")
    return 0 if ok else 1


def _line(kind: str, worst_input: str, ms: float) -> bool:
    good = ms <= BUDGET_MS_PER_MB
    print(f"{kind:<16} {worst_input:<30} {ms:8.1f}  {'ok' if good else 'OVER BUDGET'}")
    return good


def _user_timeout() -> bool:
    red = Redactor(kinds=[], patterns={"evil": r"(a|aa)+$"}, timeout_s=0.1)
    t = time.perf_counter()
    out = red.redact("a" * 5000 + "!")
    wall = time.perf_counter() - t
    good = out.counts.get("evil:timeout") == 1 and out.text == "[EVIL TIMED OUT]" and wall < 1.0
    print(
        f"user pattern (a|aa)+$ on 5,000 chars: stopped after {wall * 1000:.0f} ms "
        f"(limit 100 ms), reported as {out.counts}  {'ok' if good else 'NOT STOPPED'}"
    )
    return good


if __name__ == "__main__":
    sys.exit(main())
