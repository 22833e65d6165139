"""From raw samples to the numbers of the ``pilotgate.load/1`` document.

``e2e`` counts from the *intended* send time (coordinated omission corrected: a request
that waited for a slot, a late scheduler or a retry backoff waited on the user's clock);
``service`` counts from the final attempt's actual send (what the server took). Latency
percentiles are over successful requests; failures are counted, and count against the SLO.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pilotgate.load._config import LoadConfig, Slo
from pilotgate.load._samples import ERROR_CLASSES, Samples

__all__ = [
    "PERCENTILES",
    "latency_block",
    "ok_mask",
    "rate_windows",
    "request_counts",
    "schedule_block",
    "slo_block",
    "summarize",
    "timeline",
]

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p999", 99.9),
)
_TIMEOUT = ERROR_CLASSES.index("timeout")


def summarize(values_s: np.ndarray) -> dict[str, float | None]:
    """Exact percentiles (numpy's linear interpolation), max and mean, in milliseconds."""
    v = values_s[~np.isnan(values_s)] if len(values_s) else values_s
    if len(v) == 0:
        return {**{k: None for k, _ in PERCENTILES}, "max": None, "mean": None, "n": 0}
    ms = v * 1000.0
    qs = np.percentile(ms, [q for _, q in PERCENTILES])
    out: dict[str, float | None] = {k: _r(q) for (k, _), q in zip(PERCENTILES, qs, strict=True)}
    out["max"] = _r(ms.max())
    out["mean"] = _r(ms.mean())
    out["n"] = len(v)
    return out


def _r(x: float) -> float:
    return round(float(x), 4)


def ok_mask(s: Samples) -> np.ndarray:
    return np.asarray(s["error"] == 0)


def latency_block(s: Samples) -> dict[str, dict[str, float | None]]:
    ok = ok_mask(s)
    end = s["end"][ok]
    itl_ok = s.itl
    if not ok.all() and len(s.itl):
        keep = np.repeat(ok, s["n_itl"])
        itl_ok = s.itl[keep]
    return {
        "e2e": summarize(end - s["intended"][ok]),
        "service": summarize(end - s["last_sent"][ok]),
        "ttft": summarize(s["first_token"][ok] - s["last_sent"][ok]),
        "itl": summarize(itl_ok),
        "queue": summarize(s["sent"][ok] - s["dispatched"][ok]),
    }


def request_counts(s: Samples) -> dict[str, Any]:
    ok = int(ok_mask(s).sum())
    errors: dict[str, int] = {}
    for code, n in zip(*np.unique(s["error"], return_counts=True), strict=True):
        if code:
            errors[ERROR_CLASSES[int(code)]] = int(n)
    return {
        "sent": len(s),
        "ok": ok,
        "failed": len(s) - ok,
        "by_status": dict(s.by_status),
        "errors": errors,
        "retries": int(s["retries"].sum()),
        "retried_requests": int((s["retries"] > 0).sum()),
        "retry_wait_s": _r(float(s["wait"].sum())),
        "timeouts": int((s["error"] == _TIMEOUT).sum()),
        "output_tokens": int(s["tokens"][ok_mask(s)].sum()),
        # Connections opened (warm pool included) and sends repeated on a fresh connection
        # after a reused one was reset unanswered (each also counted in ``retries``).
        "connections_used": s.counters.get("connections_used", 0),
        "resent_after_reset": s.counters.get("resent_after_reset", 0),
    }


def schedule_block(s: Samples, cfg: LoadConfig) -> dict[str, Any]:
    """Target vs achieved send rate, and how late the scheduler released requests."""
    target = None
    if cfg.rate is not None:
        target = cfg.rate if cfg.ramp_to is None else 0.5 * (cfg.rate + cfg.ramp_to)
    sent = np.sort(s["sent"][~np.isnan(s["sent"])])
    intended = np.sort(s["intended"])
    achieved = scheduled = None
    if len(intended) > 1 and intended[-1] > intended[0]:
        gap = float(intended[-1] - intended[0]) / (len(intended) - 1)
        scheduled = 1.0 / gap
        if len(sent):
            # n sends over [first intended, last actual send + one mean gap]: exactly the
            # scheduled rate when every send is on time; lateness can only lower it.
            achieved = len(sent) / (float(sent[-1] - intended[0]) + gap)
    lag = (s["dispatched"] - s["intended"]) * 1000.0 if len(s) else np.zeros(0)
    return {
        "target_rate": target,
        "scheduled_rate": None if scheduled is None else _r(scheduled),
        "achieved_rate": None if achieved is None else _r(achieved),
        "max_lag_ms": _r(float(lag.max())) if len(lag) else 0.0,
        "p99_lag_ms": _r(float(np.percentile(lag, 99))) if len(lag) else 0.0,
        "windows": rate_windows(s) if cfg.rate is not None else None,
    }


WINDOW_S = 1.0
WITHIN = 0.05


def rate_windows(s: Samples, window_s: float = WINDOW_S) -> dict[str, Any] | None:
    """The achieved send rate per ``window_s`` window, against the schedule's own rate there.

    A run-wide average hides a stall followed by a catch-up burst (2 s of nothing, then
    twice the rate, reads ≈ 100 %). Per window it cannot: each full window of the schedule
    compares the requests actually put on the wire in it with the requests scheduled in
    it (a ramp's target changes window by window). Windows are counted from the first
    intended send; the last, partial window is left out.

    Returns ``{window_s, n, target_min, target_max, min, p5, max, within_5pct}`` with the
    rates in requests per second and ``within_5pct`` the share of windows whose achieved
    rate is within 5 % of its scheduled rate; None with no full window.
    """
    intended = s["intended"]
    if len(intended) < 2:
        return None
    t0 = float(intended.min())
    n_win = math.floor((float(intended.max()) - t0) / window_s)
    if n_win < 1:
        return None
    sent = s["sent"][~np.isnan(s["sent"])]
    edges = t0 + window_s * np.arange(n_win + 1)
    end = edges[-1]  # numpy's last bin is closed: keep the windows half-open
    planned = np.histogram(intended[intended < end], bins=edges)[0].astype(np.float64)
    got = np.histogram(sent[sent < end], bins=edges)[0].astype(np.float64)
    rates = got / window_s
    ok = np.abs(got - planned) <= WITHIN * np.maximum(planned, 1.0)
    return {
        "window_s": window_s,
        "n": int(n_win),
        "target_min": _r(float(planned.min()) / window_s),
        "target_max": _r(float(planned.max()) / window_s),
        "min": _r(float(rates.min())),
        "p5": _r(float(np.percentile(rates, 5))),
        "max": _r(float(rates.max())),
        "within_5pct": _r(float(ok.mean())),
        "rates": [_r(float(x)) for x in rates],
    }


def good_mask(s: Samples, slo: Slo) -> np.ndarray:
    good = ok_mask(s)
    if slo.e2e_ms is not None:
        good &= (s["end"] - s["intended"]) * 1000.0 <= slo.e2e_ms
    if slo.ttft_ms is not None:
        ttft = (s["first_token"] - s["last_sent"]) * 1000.0
        good &= np.isnan(ttft) | (ttft <= slo.ttft_ms)
    return good


def slo_block(s: Samples, slo: Slo, window_s: float) -> dict[str, Any]:
    good = int(good_mask(s, slo).sum())
    share = good / len(s) if len(s) else None
    return {
        "e2e_ms": slo.e2e_ms,
        "ttft_ms": slo.ttft_ms,
        "target": slo.target,
        "attainment": None if share is None else _r(share),
        "met": None if not slo.defined or share is None else share >= slo.target,
        "goodput_per_s": _r(good / window_s) if window_s > 0 else None,
    }


def timeline(s: Samples, slo: Slo) -> list[dict[str, Any]]:
    """Per second of the run: requests started and finished, and latency of those finished."""
    if not len(s):
        return []
    ok = ok_mask(s)
    good = good_mask(s, slo)
    end = s["end"]
    last = max(float(end.max()), float(s["intended"].max()))
    n_bins = max(1, math.floor(last) + 1)
    bin_end = np.clip(end.astype(np.int64), 0, n_bins - 1)
    bin_start = np.clip(np.floor(s["intended"]).astype(np.int64), 0, n_bins - 1)
    e2e = (end - s["intended"]) * 1000.0
    started = np.bincount(bin_start, minlength=n_bins)
    done = np.bincount(bin_end, minlength=n_bins)
    n_ok = np.bincount(bin_end, weights=ok, minlength=n_bins)
    n_good = np.bincount(bin_end, weights=good, minlength=n_bins)
    tokens = np.bincount(bin_end, weights=np.where(ok, s["tokens"], 0), minlength=n_bins)
    order = np.argsort(bin_end, kind="stable")
    splits = np.searchsorted(bin_end[order], np.arange(1, n_bins))
    rows = []
    for t, idx in enumerate(np.split(order, splits)):
        sel = idx[ok[idx]]
        p50 = p99 = None
        if len(sel):
            p50, p99 = (_r(x) for x in np.percentile(e2e[sel], [50, 99]))
        rows.append(
            {
                "t": t,
                "started": int(started[t]),
                "completed": int(done[t]),
                "ok": int(n_ok[t]),
                "failed": int(done[t] - n_ok[t]),
                "good": int(n_good[t]),
                "output_tokens": int(tokens[t]),
                "e2e_p50_ms": p50,
                "e2e_p99_ms": p99,
            }
        )
    return rows
