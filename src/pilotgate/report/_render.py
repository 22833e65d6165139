"""Rendering: one Jinja2 environment (autoescaping on) shared by the report and dashboard."""

from __future__ import annotations

import functools
import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotgate._version import __version__
from pilotgate.errors import InputError, MissingDependencyError
from pilotgate.report import _stats

if TYPE_CHECKING:
    import jinja2

    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = [
    "build_report",
    "environment",
    "figure_json",
    "plotly_js",
    "plotly_js_path",
    "render_report",
    "write_report",
]

TEMPLATES = Path(__file__).parent / "templates"


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the plotly PyPI package (no CDN, works offline).

    Found without importing plotly (its Python side is not used: the charts are JSON).
    """
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise MissingDependencyError("plotly", "all", "The report's charts")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not path.exists():
        raise MissingDependencyError("plotly", "all", "The report's charts (plotly.min.js)")
    return path


@functools.cache
def plotly_js() -> str:
    text = plotly_js_path().read_text(encoding="utf-8")
    # it is inlined in a <script> element: nothing in it may close that element early
    return text.replace("</script", "<\\/script")


def _status_class(status: Any) -> str:
    s = str(status or "").lower()
    if s in ("pass", "passed", "ok", "better", "go"):
        return "ok"
    if s in ("fail", "failed", "worse", "no-go", "no_go"):
        return "bad"
    return "warn"


def _pval(p: Any) -> str:
    f = _stats.num(p)
    if f is None:
        return "—"
    return "< 0.001" if f < 0.001 else f"{f:.3f}"


def _when(iso: Any) -> str:
    """``2026-03-04T09:30:12+00:00`` as ``2026-03-04 09:30 UTC``."""
    if not iso:
        return "—"
    text = str(iso)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def environment(*extra_dirs: Path) -> jinja2.Environment:
    """A Jinja2 environment that escapes everything unless a template says otherwise."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*map(str, extra_dirs), str(TEMPLATES)]),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=_stats.fmt_pct,
        ms=_stats.fmt_ms,
        n=_stats.fmt_num,
        status_class=_status_class,
        when=_when,
        pval=_pval,
    )
    env.globals["version"] = __version__
    return env


def build_report(
    store: Store,
    plan: Plan | None,
    *,
    title: str | None = None,
    demo: str = "demo",
    production: str = "production",
    feature: str | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as plain data (the template only lays it out)."""
    from pilotgate.report._capabilities import (
        compare_section,
        coverage_section,
        load_section,
        robustness_section,
    )
    from pilotgate.report._sections import demo_vs_production, usage_section, verdict_section
    from pilotgate.store import safe_url

    verdict = verdict_section(store, plan)
    usage = usage_section(store, plan, feature)
    load = load_section(store, plan)
    # the run the load section shows (the plan's feature and version when it has one)
    load_run = store.get_run(load["runs"][0]["id"]) if load.get("runs") else None
    multiplier = plan.load.multiplier if plan is not None else 3.0
    dvp = demo_vs_production(
        store,
        demo=demo,
        production=production,
        usage=usage.get("overview"),
        load_doc=(load_run or {}).get("summary"),
        multiplier=multiplier,
        plan=plan,
    )
    from pilotgate.report._silent import silent_section

    capabilities = [
        usage,
        silent_section(store, plan, usage.get("feature")),
        coverage_section(store, plan=plan),
        robustness_section(store, plan=plan),
        load,
        compare_section(store, plan=plan),
    ]
    feat = feature or (plan.feature.name if plan is not None else usage.get("feature"))
    return {
        "title": title or f"Pilot report{f': {feat}' if feat else ''}",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": safe_url(store.url),
        "feature": feat,
        "plan": None
        if plan is None
        else {
            "feature": plan.feature.name,
            "version": plan.feature.version,
            "start": plan.pilot.start,
            "end": plan.pilot.end,
        },  # fmt: skip
        "verdict": verdict,
        "demo_vs_production": dvp,
        "sections": capabilities,
    }


def _figures(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    secs = [ctx["demo_vs_production"], *ctx["sections"]]
    return [c for s in secs for c in s.get("charts", [])]


def render_report(ctx: dict[str, Any], *, embed_plotly: bool = True) -> str:
    """The HTML text: one file, plotly.js inlined once, every figure as escaped JSON."""
    env = environment()
    tpl = env.get_template("report.html.j2")
    return tpl.render(
        **ctx,
        figures=_figures(ctx),
        plotly_js=plotly_js() if embed_plotly else "",
        fig_json=figure_json,
    )


def figure_json(fig: Any) -> str:
    """Figure JSON safe inside ``<script type="application/json">`` (``<``, ``>``, ``&``)."""
    text = json.dumps(fig, ensure_ascii=False, allow_nan=False, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_report(
    store: Store,
    plan: Plan | None,
    out_path: str | Path,
    *,
    title: str | None = None,
    demo: str = "demo",
    production: str = "production",
    feature: str | None = None,
) -> Path:
    """Write the self-contained offline HTML report; returns its path.

    Args:
        store: where the runs and interactions are.
        plan: the pilot plan (feature, funnel steps, load multiplier, criteria), or None.
        out_path: the HTML file to write (its directory is created).
        title: the page title (default: "Pilot report: FEATURE").
        demo: name of the eval run (or eval set) measured on the demo set.
        production: name of the eval run (or eval set) built from production.
        feature: the feature whose usage is shown (default: the plan's).
    """
    ctx = build_report(store, plan, title=title, demo=demo, production=production, feature=feature)
    html = render_report(ctx)
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise InputError(
            f"cannot write the report: {exc.strerror}", where=str(out), fix="choose another --out"
        ) from None
    return out
