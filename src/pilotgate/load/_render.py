"""A load document as a terminal table: one column per level, a row per figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_load"]


def _fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


_ROWS: tuple[tuple[str, str, str, str], ...] = (
    # label, block, key, sub-key
    ("requests sent", "requests", "sent", ""),
    ("ok / failed", "requests", "ok", "failed"),
    ("429 answers", "requests", "by_status", "429"),
    ("retries (wait s)", "requests", "retries", "retry_wait_s"),
    ("e2e p50 ms", "latency_ms", "e2e", "p50"),
    ("e2e p90 ms", "latency_ms", "e2e", "p90"),
    ("e2e p99 ms", "latency_ms", "e2e", "p99"),
    ("e2e p99.9 ms", "latency_ms", "e2e", "p999"),
    ("e2e max ms", "latency_ms", "e2e", "max"),
    ("service p50 ms", "latency_ms", "service", "p50"),
    ("service p99 ms", "latency_ms", "service", "p99"),
    ("ttft p50 / p99 ms", "latency_ms", "ttft", "p50"),
    ("itl p50 / p99 ms", "latency_ms", "itl", "p50"),
    ("ok requests/s", "throughput", "requests_per_s", ""),
    ("output tokens/s", "throughput", "output_tokens_per_s", ""),
    ("send rate target / achieved", "schedule", "target_rate", "achieved_rate"),
    ("per 1 s: min / p5 / max, within 5 %", "schedule", "windows", ""),
    ("scheduler lag max ms", "schedule", "max_lag_ms", ""),
    ("SLO attainment", "slo", "attainment", ""),
)


def _cell(lv: dict[str, Any], block: str, key: str, sub: str) -> str:
    b = lv[block]
    if block == "latency_ms":
        stats = b[key]
        if key in ("ttft", "itl"):
            return f"{_fmt(stats['p50'])} / {_fmt(stats['p99'])}"
        return _fmt(stats[sub])
    if key == "by_status":
        return _fmt(b[key].get(sub, 0))
    if key == "windows":
        w = b.get(key)
        if not w:
            return "–"
        share = f"{100 * w['within_5pct']:.0f} % of {w['n']}"
        return f"{_fmt(w['min'])} / {_fmt(w['p5'])} / {_fmt(w['max'])}, {share}"
    if key == "attainment":
        return (
            "–"
            if b[key] is None
            else f"{100 * b[key]:.2f} %"
            + ("" if b["met"] is None else (" met" if b["met"] else " missed"))
        )
    if sub:
        return f"{_fmt(b[key])} / {_fmt(b[sub])}"
    return _fmt(b[key])


def render_load(doc: dict[str, Any], console: Console | None = None) -> None:
    """Print a ``pilotgate.load/1`` document: one column per level, then the knee and warnings.

    e2e latency counts from each request's intended send time, and the table says so.
    """
    from rich.console import Console
    from rich.table import Table

    levels = doc.get("levels") or [doc]
    table = Table(title=f"load · {doc['profile']} · {doc['target']}")
    table.add_column("")
    for lv in levels:
        load_txt = lv["load"]["rate"] or lv["load"]["concurrency"]
        unit = "req/s" if lv["load"]["rate"] else "users"
        name = f"{lv['label']} · " if lv.get("label") else ""
        table.add_column(f"{name}{_fmt(load_txt)} {unit}", justify="right")
    for label, block, key, sub in _ROWS:
        table.add_row(label, *(_cell(lv, block, key, sub) for lv in levels))
    if any(lv.get("cost") for lv in levels):
        table.add_row(
            "cost per call", *(_money((lv.get("cost") or {}).get("per_call")) for lv in levels)
        )
        table.add_row(
            "cost of the level", *(_money((lv.get("cost") or {}).get("total")) for lv in levels)
        )
    console = console or Console()
    console.print(table)
    console.print("e2e counts from the intended send time (queueing, retries included)")
    _footer(console, doc, levels)


def _footer(console: Console, doc: dict[str, Any], levels: list[dict[str, Any]]) -> None:
    """The knee, each level's harness and warnings, and the last rate-limit headers."""
    knee = doc.get("knee")
    if "knee" in doc:
        console.print(
            f"knee (highest load meeting the SLO): {knee['label']} "
            f"({knee['load']:g} {knee['unit']})"
            if knee
            else "knee: no level met the SLO (or no SLO given)"
        )
    for lv in levels:
        harness = lv.get("harness")
        if harness:
            console.print(
                f"{lv.get('label') or 'level'}: python {harness['pool']} pool of "
                f"{harness['workers']}, peak {harness['peak_running']} running / "
                f"{harness['peak_inflight']} in flight",
                markup=False,
            )
        for warning in lv.get("warnings") or []:
            console.print(f"warning: {warning}", style="yellow", markup=False)
    rl = doc.get("ratelimit", {}).get("last")
    if rl:
        console.print("rate-limit headers: " + ", ".join(f"{k}={v}" for k, v in rl.items()))


def _money(x: Any) -> str:
    return "–" if x is None else f"{x:,.6f}".rstrip("0").rstrip(".") if x < 1 else f"{x:,.2f}"
