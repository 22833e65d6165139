"""Plotly figure specs as plain dicts (``{"data": [...], "layout": {...}}``).

Building the JSON directly, rather than through ``plotly.graph_objects``, keeps the report
and the dashboard free of plotly's slow import and makes every figure deterministic. The
page draws them with the one plotly.min.js it embeds (report) or serves (dashboard).
Only SVG trace types are used (no WebGL), so headless browsers without a GPU draw them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pilotgate.report._stats import num

__all__ = [
    "PALETTE",
    "bar_with_intervals",
    "coverage_map",
    "funnel_chart",
    "grouped_bars",
    "latency_vs_load",
    "rate_colors",
    "usage_by_day",
]

PALETTE = [
    "#2563eb",
    "#f59e0b",
    "#10b981",
    "#ef4444",
    "#8b5cf6",
    "#06b6d4",
    "#ec4899",
    "#84cc16",
    "#f97316",
    "#64748b",
]
#: Well-separated hues for the gaps of the coverage map (no greys: those mean "covered").
GAP_PALETTE = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#808000",
    "#800000",
]
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
        "font": _FONT,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "height": 320,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
    }
    base.update(extra)
    return base


def usage_by_day(by_day: Sequence[Mapping[str, Any]], fb_days: Sequence[Mapping[str, Any]]) -> Any:
    """Stacked daily volume per version, with the daily acceptance rate on a second axis."""
    versions = sorted({str(r["version"]) for r in by_day})
    data: list[dict[str, Any]] = []
    for k, v in enumerate(versions):
        rows = [r for r in by_day if str(r["version"]) == v]
        data.append(
            {
                "type": "bar",
                "name": f"calls {v}",
                "x": [r["day"] for r in rows],
                "y": [r["n"] for r in rows],
                "marker": {"color": PALETTE[k % len(PALETTE)]},
            }
        )
    if fb_days:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "acceptance rate",
                "x": [d["day"] for d in fb_days],
                "y": [d["acceptance_rate"] for d in fb_days],
                "yaxis": "y2",
                "line": {"color": "#111827", "width": 2},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            "Calls per day by version, and acceptance",
            barmode="stack",
            legend={"orientation": "h", "y": -0.2, "traceorder": "normal"},
            margin={"l": 60, "r": 70, "t": 40, "b": 50},
            yaxis={"title": {"text": "calls"}},
            # whole days: without it one day's bar gets an axis of hours ("23:59:59.9996")
            xaxis={"type": "date", "tickformat": "%b %d", "dtick": 86_400_000},
            yaxis2={
                "title": {"text": "accepted"},
                "overlaying": "y",
                "side": "right",
                "range": [0, 1],
                "dtick": 0.2,
                "tickformat": ".0%",
                "showgrid": False,
            },
        ),
    }


def bar_with_intervals(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    x: str = "name",
    y: str = "value",
    ci: str = "ci95",
    y_title: str = "",
    percent: bool = True,
    threshold: float | None = None,
    color_by: str | None = None,
    colors: Sequence[str] | None = None,
) -> Any:
    """One bar per row with its 95 % interval as an asymmetric error bar."""
    xs = [str(r.get(x)) for r in rows]
    ys = [num(r.get(y)) for r in rows]
    lo_err: list[float] = []
    hi_err: list[float] = []
    for r, v in zip(rows, ys, strict=True):
        bounds = r.get(ci)
        if v is not None and isinstance(bounds, Sequence) and len(bounds) == 2:
            lo, hi = num(bounds[0]), num(bounds[1])
            lo_err.append(max(0.0, v - lo) if lo is not None else 0.0)
            hi_err.append(max(0.0, hi - v) if hi is not None else 0.0)
        else:
            lo_err.append(0.0)
            hi_err.append(0.0)
    marker: Any = list(colors) if colors else PALETTE[0]
    if color_by and not colors:
        groups = sorted({str(r.get(color_by)) for r in rows})
        marker = [PALETTE[groups.index(str(r.get(color_by))) % len(PALETTE)] for r in rows]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": xs,
            "y": ys,
            "name": y_title or y,
            "marker": {"color": marker},
            "error_y": {
                "type": "data",
                "symmetric": False,
                "array": hi_err,
                "arrayminus": lo_err,
                "color": "#374151",
            },
        }
    ]
    layout = _layout(title, yaxis={"title": {"text": y_title}}, showlegend=False)
    if percent:
        layout["yaxis"].update({"tickformat": ".0%", "range": [0, 1.05]})
    if threshold is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": threshold,
                "y1": threshold,
                "line": {"color": "#dc2626", "dash": "dash", "width": 1.5},
            }
        ]
    return {"data": data, "layout": layout}


def rate_colors(values: Sequence[float | None], bad: float = 0.8, weak: float = 0.9) -> list[str]:
    """Red below ``bad``, amber below ``weak``, blue otherwise: the weak spots stand out."""
    out = []
    for v in values:
        if v is None:
            out.append("#94a3b8")
        elif v < bad:
            out.append("#dc2626")
        elif v < weak:
            out.append("#f59e0b")
        else:
            out.append(PALETTE[0])
    return out


def grouped_bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    y_title: str = "",
    errors: Mapping[str, Sequence[tuple[float, float] | None]] | None = None,
    percent: bool = False,
) -> Any:
    """Side-by-side bars: one group per category, one bar per series."""
    data = []
    for k, (name, ys) in enumerate(series.items()):
        trace: dict[str, Any] = {
            "type": "bar",
            "name": name,
            "x": list(categories),
            "y": list(ys),
            "marker": {"color": PALETTE[k % len(PALETTE)]},
            "text": [_label(v, percent) for v in ys],
            # inside the bar, mid-height: clear of the error bar that sits on its top
            "textposition": "inside" if errors else "outside",
            "insidetextanchor": "middle",
            "cliponaxis": False,
        }
        errs = (errors or {}).get(name)
        if errs:
            trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": [
                    (e[1] - v) if e and v is not None else 0 for e, v in zip(errs, ys, strict=False)
                ],
                "arrayminus": [
                    (v - e[0]) if e and v is not None else 0 for e, v in zip(errs, ys, strict=False)
                ],
                "color": "#374151",
            }
        data.append(trace)
    layout = _layout(title, barmode="group", yaxis={"title": {"text": y_title}})
    if percent:
        layout["yaxis"].update({"tickformat": ".0%", "range": [0, 1.1]})
    return {"data": data, "layout": layout}


def _label(v: float | None, percent: bool) -> str:
    if v is None:
        return ""
    return f"{100 * v:.0f}%" if percent else f"{v:,.0f}"


def coverage_map(points: Sequence[Mapping[str, Any]], gap_labels: Mapping[str, str]) -> Any:
    """2-D map: eval cases, covered production inputs, and each gap in its own colour."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for p in points:
        if p.get("set") == "eval":
            key = "eval"
        elif p.get("gap"):
            key = f"gap:{p['gap']}"
        else:
            key = "production"
        groups.setdefault(key, []).append(p)
    data = []
    style = {
        "production": ("production (covered or scattered)", "#cbd5e1", 5, "circle"),
        "eval": ("eval set", "#111827", 7, "diamond"),
    }
    gap_keys = sorted(k for k in groups if k.startswith("gap:"))
    order = ["production", *gap_keys, "eval"]
    for key in (k for k in order if k in groups):
        pts = groups[key]
        if key in style:
            name, color, size, symbol = style[key]
        else:
            gid = key[4:]
            head = gid if gid.lower().startswith("gap") else f"gap {gid}"
            name = f"{head}: {gap_labels.get(gid, '')}"[:60]
            color = GAP_PALETTE[gap_keys.index(key) % len(GAP_PALETTE)]
            size, symbol = 6, "circle"
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [p.get("x") for p in pts],
                "y": [p.get("y") for p in pts],
                "text": [str(p.get("id", "")) for p in pts],
                "hovertemplate": "%{text}<extra>" + name.replace("<", "&lt;") + "</extra>",
                "marker": {"color": color, "size": size, "symbol": symbol, "opacity": 0.8},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            "Coverage map: eval cases vs production inputs (2-D projection)",
            height=460,
            xaxis={"zeroline": False, "showticklabels": False},
            yaxis={"zeroline": False, "showticklabels": False},
            legend={"orientation": "v", "x": 1.02, "y": 1},
            margin={"l": 20, "r": 20, "t": 40, "b": 20},
        ),
    }


def latency_vs_load(
    curve: Sequence[Mapping[str, Any]], knee: Mapping[str, Any] | None, slo_ms: float | None
) -> Any:
    """p50 and p99 end-to-end latency at each load level, the SLO line and the knee."""
    xs = [str(c.get("label") or c.get("load")) for c in curve]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": xs,
            "y": [num(c.get(key)) for c in curve],
            "line": {"color": color, "width": 2},
        }
        for name, key, color in (
            ("p50", "e2e_p50_ms", PALETTE[0]),
            ("p99", "e2e_p99_ms", PALETTE[3]),
        )
    ]
    layout = _layout(
        "End-to-end latency vs load", yaxis={"title": {"text": "ms"}, "rangemode": "tozero"}
    )
    shapes = []
    annotations = []
    if slo_ms:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": slo_ms,
                "y1": slo_ms,
                "line": {"color": "#dc2626", "dash": "dash"},
            }
        )
        annotations.append(
            {"xref": "paper", "x": 1, "y": slo_ms, "text": f"SLO {slo_ms:g} ms", "showarrow": False,
             "xanchor": "right", "yanchor": "bottom", "font": {"color": "#dc2626"}}
        )  # fmt: skip
    if knee:
        label = str(knee.get("label") or knee.get("load"))
        if label in xs:
            annotations.append(
                {"x": label, "y": num(curve[xs.index(label)].get("e2e_p99_ms")), "text": "knee",
                 "showarrow": True, "arrowhead": 2, "ax": 0, "ay": -40}
            )  # fmt: skip
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def funnel_chart(
    rows: Sequence[Mapping[str, Any]], title: str = "Funnel: sessions per step"
) -> Any:
    """Sessions reaching each step, in the plan's order."""
    return {
        "data": [
            {
                "type": "funnel",
                "y": [str(r["step"]) for r in rows],
                "x": [r["sessions"] for r in rows],
                "textinfo": "value+percent initial",
                "marker": {"color": PALETTE[0]},
            }
        ],
        "layout": _layout(title, margin={"l": 140, "r": 20, "t": 40, "b": 30}),
    }
