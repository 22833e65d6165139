"""Gathering what the report shows: the verdict, demo vs production, and usage.

Each builder reads stored runs (their summaries are the commands' ``--json`` documents)
and returns a plain dict for the template. A section without data says which command
produces it instead of failing: a report is useful from the first command onwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pilotgate._scrub import clip, scrub
from pilotgate.report import _charts as charts
from pilotgate.report._stats import num, pick

if TYPE_CHECKING:
    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = [
    "clip",
    "eval_scores",
    "scored_text",
    "find_eval_run",
    "run_ref",
    "scrub",
    "section",
    "usage_section",
    "verdict_section",
    "demo_vs_production",
]


def section(key: str, title: str, command: str, **data: Any) -> dict[str, Any]:
    """The common shape: ``available`` False means ``missing`` says what to run."""
    return {
        "key": key,
        "title": title,
        "available": False,
        "missing": f"No data yet. Produce it with: {command}",
        "commands": [command],
        "runs": [],
        "charts": [],
        **data,
    }


def run_ref(run: Mapping[str, Any]) -> dict[str, Any]:
    created = run.get("created_at")
    return {
        "id": str(run.get("id")),
        "kind": run.get("kind"),
        "name": run.get("name"),
        "created_at": created.isoformat(timespec="seconds") if created else None,
        "status": run.get("status"),
        "feature": run.get("feature"),
        "version": run.get("version"),
        "eval_set": run.get("eval_set"),
    }


# ------------------------------------------------------------------ verdict
def verdict_section(
    store: Store,
    plan: Plan | None,
    *,
    compute: bool = True,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The gate verdict shown: ``run`` when given, else the latest stored gate run (with a
    plan: of its feature and version), else one computed now when ``compute`` is set."""
    sec = section("verdict", "Verdict", "pilotgate gate --plan pilotgate.toml --json gate.json")
    if run is None:
        run = _plan_run(store, plan, "gate") if plan is not None else store.latest_run("gate")
    doc: Mapping[str, Any] | None = None
    if run is not None:
        doc = run.get("summary") or {}
        sec["runs"] = [run_ref(run)]
        sec["source"] = f"gate run {run['id']}"
    elif compute and plan is not None and plan.criteria:
        doc = _compute_gate(store, plan)
        sec["source"] = "computed now from the stored results (not a recorded gate run)"
    if not doc:
        return sec
    criteria = []
    for c in pick(doc, "criteria", default=[]) or []:
        if not isinstance(c, Mapping):
            continue
        criteria.append(
            {
                "name": scrub(c.get("name"), 120),
                "metric": scrub(c.get("metric"), 120),
                "op": c.get("op"),
                "threshold": c.get("threshold"),
                "value": c.get("value"),
                "ci95": c.get("ci95"),
                "n": c.get("n"),
                "status": str(c.get("status") or "unknown"),
                "evidence": scrub(_evidence_text(c.get("evidence")), 200),
                **_judged(c.get("evidence")),
                "reason": scrub(c.get("reason"), 200) if c.get("reason") else "",
                "changed": bool(c.get("changed") or c.get("changed_after_start")),
                "original": scrub(_evidence_text(c.get("original")), 200)
                if c.get("original")
                else "",
            }
        )
    sec.update(
        available=True,
        verdict=str(doc.get("verdict") or "unknown"),
        plan_hash=doc.get("plan_hash"),
        criteria=criteria,
        counts={s: sum(1 for c in criteria if c["status"] == s) for s in
                ("pass", "fail", "insufficient_data")},
    )  # fmt: skip
    return sec


def _evidence_text(ev: Any) -> str:
    if ev is None:
        return ""
    if isinstance(ev, Mapping):
        return ", ".join(
            f"{k}: {v}"
            for k, v in ev.items()
            if v not in (None, "", [], {}) and k not in ("selection", "run_id")
        )
    return str(ev)


def _judged(ev: Any) -> dict[str, str]:
    """The run a criterion was judged on, and its scope (feature, version, eval set)."""
    from pilotgate.runs import describe_selection

    if not isinstance(ev, Mapping):
        return {"run_id": "", "version": "", "scope": ""}
    sel = ev.get("selection") if isinstance(ev.get("selection"), Mapping) else None
    run_id = str(ev.get("run_id") or ("live usage" if ev.get("kind") == "usage" else "none"))
    version = str((sel or {}).get("version") or ("all" if sel else "unknown"))
    scope = describe_selection(sel) if sel else "selection not recorded (gate run before 0.5)"
    return {
        "run_id": scrub(run_id, 80),
        "version": scrub(version, 80),
        "scope": scrub(scope, 200),
    }


def _compute_gate(store: Store, plan: Plan) -> Mapping[str, Any] | None:
    """Call ``pilotgate.gate.evaluate_gate`` if that capability is installed."""
    try:
        from pilotgate import gate as gate_mod  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    fn = getattr(gate_mod, "evaluate_gate", None)
    if fn is None:
        return None
    try:
        result = fn(plan, store, save=False)
    except Exception:  # a gate that cannot judge must not break the report
        return None
    doc = result.to_json() if hasattr(result, "to_json") else result
    return doc if isinstance(doc, Mapping) else None


# ----------------------------------------------------------- demo vs production
def _plan_run(
    store: Store, plan: Plan, kind: str, eval_set: str | None = None
) -> dict[str, Any] | None:
    """The newest finished ``kind`` run of the plan's feature and version (on ``eval_set``),
    selected as the gate selects: never another feature's or version's run."""
    from pilotgate.runs import Selection, pick_run

    sel = Selection(kind, plan.feature.name, plan.feature.version, eval_set)
    return pick_run(store, sel).run


def _plan_eval_set(plan: Plan | None, name: str) -> str:
    """The eval set an ``eval.*`` criterion of the plan names for ``name`` (its version pin
    included), else ``name``: so the section reads the run the verdict judged."""
    for c in plan.criteria if plan is not None else []:
        if c.metric.startswith("eval.") and c.eval_set and c.eval_set.partition("@")[0] == name:
            return str(c.eval_set)
    return name


def find_eval_run(store: Store, name: str, *, version: str | None = None) -> dict[str, Any] | None:
    """The newest finished eval run named ``name``, or over an eval set named ``name``.

    With ``version``, a run of that feature version is preferred, so demo and production
    are compared on the same version when both were measured.
    """
    runs = [r for r in store.list_runs("eval", limit=200) if r.get("status") == "ok"]

    def over_set(run: Mapping[str, Any]) -> bool:
        ref = str(pick(run, "summary.cases.ref", "params.cases.ref", default="") or "")
        base = re.split(r"[@/\\]", ref.rsplit("/", 1)[-1])[0]
        return base == name or base.startswith(f"{name}.")

    for match in (lambda r: r.get("name") == name, over_set):
        found = [r for r in runs if match(r)]
        if found:
            same = [r for r in found if version is not None and r.get("version") == version]
            return (same or found)[0]
    return None


def scored_text(doc: Mapping[str, Any]) -> str | None:
    """ "280 of 300 scored (20 have no reference)" from a scorer block, None for old runs."""
    from pilotgate.scoring import scored_phrase

    n_scored = doc.get("n_scored")
    reasons = doc.get("unscored_reasons")
    if not isinstance(n_scored, int) or not isinstance(reasons, Mapping):
        return None
    return scrub(scored_phrase(n_scored, {str(k): int(v) for k, v in reasons.items()}), 300)


def eval_scores(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-scorer rows ``{name, mean, ci95, n, pass_rate, scored}`` from an eval document."""
    scorers = summary.get("scorers") or {}
    rows = []
    if isinstance(scorers, Mapping):
        for key, doc in scorers.items():
            if isinstance(doc, Mapping):
                rows.append(
                    {
                        "name": str(key),
                        "mean": num(doc.get("mean")),
                        "ci95": doc.get("ci95"),
                        "n": doc.get("n"),
                        "pass_rate": num(doc.get("pass_rate")),
                        "scored": scored_text(doc),
                    }
                )
    return rows


def demo_vs_production(
    store: Store,
    *,
    demo: str,
    production: str,
    usage: Mapping[str, Any] | None,
    load_doc: Mapping[str, Any] | None,
    multiplier: float,
    plan: Plan | None = None,
) -> dict[str, Any]:
    """Quality on the demo set vs the production-derived set, and latency three ways.

    With a plan, both runs are the plan's feature and version on each eval set, the
    selection the gate makes, so the production figure is the verdict's; without one (or
    when the plan's scope has no such run), the newest runs by name, as before.
    """
    sec = section(
        "demo_vs_production",
        "Demo vs production",
        f"pilotgate eval run --target T --eval-set {demo} --name {demo} ; "
        f"pilotgate eval run --target T --eval-set {production} --name {production}",
    )
    runs: dict[str, dict[str, Any] | None] = {"demo": None, "production": None}
    if plan is not None:
        runs = {
            "demo": _plan_run(store, plan, "eval", _plan_eval_set(plan, demo)),
            "production": _plan_run(store, plan, "eval", _plan_eval_set(plan, production)),
        }
    if runs["demo"] is None and runs["production"] is None:
        demo_run = find_eval_run(store, demo)
        version = demo_run.get("version") if demo_run else None
        runs = {"demo": demo_run, "production": find_eval_run(store, production, version=version)}
    sec["names"] = {"demo": demo, "production": production}
    quality: list[dict[str, Any]] = []
    found = {k: v for k, v in runs.items() if v is not None}
    if found:
        scores = {k: {r["name"]: r for r in eval_scores(v.get("summary") or {})}
                  for k, v in found.items()}  # fmt: skip
        names = sorted(set().union(*[set(s) for s in scores.values()]))
        for scorer in names:
            row: dict[str, Any] = {"scorer": scorer}
            for label in ("demo", "production"):
                r = scores.get(label, {}).get(scorer)
                row[label] = r
            d, p = row.get("demo"), row.get("production")
            if d and p and d["mean"] is not None and p["mean"] is not None:
                row["gap"] = p["mean"] - d["mean"]
            quality.append(row)
        sec["runs"] = [run_ref(r) for r in found.values()]
        sec["charts"].append(
            {
                "id": "demo-quality",
                "fig": charts.grouped_bars(
                    [q["scorer"] for q in quality],
                    {label: [(q.get(label) or {}).get("mean") for q in quality]
                     for label in ("demo", "production") if label in found},
                    errors={label: [_ci((q.get(label) or {}).get("ci95")) for q in quality]
                            for label in ("demo", "production") if label in found},
                    title="Quality: demo set vs production-derived set (mean, 95 % CI)",
                    percent=True,
                ),
            }
        )  # fmt: skip
    sec["quality"] = quality
    latency = _latency_rows(found.get("demo"), usage, load_doc, multiplier)
    sec["latency"] = latency
    if any(r["p50"] is not None for r in latency):
        sec["charts"].append(
            {
                "id": "demo-latency",
                "fig": charts.grouped_bars(
                    [r["label"] for r in latency],
                    {"p50": [r["p50"] for r in latency], "p99": [r["p99"] for r in latency]},
                    title="Latency: a single call vs production vs load (ms)",
                    y_title="ms",
                ),
            }
        )
        base = latency[0]["p50"]
        sec["slowdown"] = [
            {"label": r["label"], "factor": r["p50"] / base}
            for r in latency[1:]
            if base and r["p50"] is not None
        ]
    sec["available"] = bool(quality) or any(r["p50"] is not None for r in latency)
    return sec


def _ci(v: Any) -> tuple[float, float] | None:
    if isinstance(v, Sequence) and len(v) == 2 and num(v[0]) is not None and num(v[1]) is not None:
        return (float(v[0]), float(v[1]))
    return None


def load_level(load_doc: Mapping[str, Any] | None, label: str) -> Mapping[str, Any] | None:
    """The level of a load document with this label (``3x``), else None."""
    if not load_doc:
        return None
    for lvl in load_doc.get("levels") or []:
        if isinstance(lvl, Mapping) and str(lvl.get("label")) == label:
            return lvl
    return load_doc if str(load_doc.get("label")) == label else None


def _latency_rows(
    demo_run: Mapping[str, Any] | None,
    usage: Mapping[str, Any] | None,
    load_doc: Mapping[str, Any] | None,
    multiplier: float,
) -> list[dict[str, Any]]:
    single = pick(demo_run or {}, "summary.latency_ms", default={}) or {}
    prod = pick(usage or {}, "latency_ms", default={}) or {}
    label = f"{multiplier:g}x"
    lvl = load_level(load_doc, label)
    if lvl is None and load_doc:
        lvl, label = load_doc, str(load_doc.get("label") or "top level")
    e2e = pick(lvl or {}, "latency_ms.e2e", default={}) or {}
    return [
        {"label": "single call (demo eval run)", "p50": num(single.get("p50")),
         "p99": num(single.get("p99", single.get("p95"))),
         "note": "p95 shown as p99" if single.get("p99") is None and single.get("p95") else ""},
        {"label": "production usage", "p50": num(prod.get("p50")), "p99": num(prod.get("p99")),
         "note": ""},
        {"label": f"load test at {label}", "p50": num(e2e.get("p50")), "p99": num(e2e.get("p99")),
         "note": ""},
    ]  # fmt: skip


# -------------------------------------------------------------------- usage
def usage_section(store: Store, plan: Plan | None, feature: str | None) -> dict[str, Any]:
    """Volume, latency, acceptance and the funnel, by day and by version."""
    from pilotgate.report._queries import features, usage_overview

    steps = list(plan.pilot.steps) if plan is not None else []
    feat = feature or (plan.feature.name if plan is not None else None)
    if feat is None:
        feats = features(store)
        feat = feats[0] if len(feats) == 1 else None
    cmd = f"pilotgate usage{f' --feature {feat}' if feat else ''} --json usage.json"
    sec = section("usage", "Usage and funnel", cmd, feature=feat)
    ov = usage_overview(store, feature=feat)
    sec["overview"] = ov
    if not ov["n"]:
        sec["missing"] = (
            "No interactions stored yet. Record them with the SDK (pilotgate.track), the "
            "collector (pilotgate serve) or `pilotgate ingest FILE`."
        )
        return sec
    detail = _usage_detail(store, feat, steps)
    sec.update(available=True, detail=detail)
    sec["charts"].append(
        {"id": "usage-by-day", "fig": charts.usage_by_day(ov["by_day"], ov["feedback_by_day"])}
    )
    funnel = pick(detail or {}, "overall.funnel", default=[]) or []
    if funnel:
        rows = [{"step": f["step"], "sessions": f["sessions"]} for f in funnel]
        sec["charts"].append({"id": "usage-funnel", "fig": charts.funnel_chart(rows)})
    sec["steps"] = steps
    return sec


def _usage_detail(store: Store, feature: str | None, steps: list[str]) -> dict[str, Any] | None:
    """The behaviour-analytics document (``pilotgate.usage``), when that module is present."""
    try:
        from pilotgate.usage import usage_report
    except ImportError:
        return None
    doc = usage_report(store, feature=feature, steps=steps or None).to_json()
    return doc if isinstance(doc, dict) else None
