"""What each dashboard page shows, as plain data (the routes in ``pilotgate._web.dashboard``
only authenticate and render). Built from the same section builders as the report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pilotgate.report import _charts as charts
from pilotgate.report._sections import run_ref, scrub
from pilotgate.report._stats import fmt_ms, num, pick

if TYPE_CHECKING:
    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = [
    "api_overview",
    "api_run",
    "api_runs",
    "coverage",
    "overview",
    "review_queue",
    "review_sets",
    "run_detail",
    "runs",
    "usage",
]

RUN_KINDS = ("gate", "eval", "compare", "shift", "robustness", "load")


def _feature(store: Store, plan: Plan | None, feature: str | None) -> tuple[str | None, list[str]]:
    from pilotgate.report._queries import features

    feats = features(store)
    if feature and feature in feats:
        return feature, feats
    if plan is not None and plan.feature.name in feats:
        return plan.feature.name, feats
    return (feats[0] if feats else None), feats


def _scorecard(store: Store, plan: Plan | None, feature: str | None) -> dict[str, Any]:
    """The latest gate verdict of the feature shown (the plan's own gate run when the plan
    is of that feature), without computing anything (the overview must be fast)."""
    from pilotgate.report._sections import verdict_section
    from pilotgate.runs import run_scope

    if plan is not None and feature in (None, plan.feature.name):
        return verdict_section(store, plan, compute=False)
    if feature is not None:  # another feature than the plan's: its newest gate run
        for run in store.list_runs("gate", limit=200):
            if run.get("status") == "ok" and run_scope(run).feature == feature:
                return verdict_section(store, None, run=run)
    return verdict_section(store, None, compute=False)


def overview(store: Store, plan: Plan | None, feature: str | None) -> dict[str, Any]:
    """The scorecard: verdict and criteria, usage KPIs, calls per day, recent runs."""
    from pilotgate.report._queries import usage_overview

    feat, feats = _feature(store, plan, feature)
    ov = usage_overview(store, feature=feat) if feat else None
    figs = []
    if ov and ov["by_day"]:
        figs.append(
            {"id": "ov-usage", "fig": charts.usage_by_day(ov["by_day"], ov["feedback_by_day"])}
        )
    latest = {k: store.latest_run(k) for k in RUN_KINDS}
    return {
        "page": "overview",
        "feature": feat,
        "features": feats,
        "usage": ov,
        "verdict": _scorecard(store, plan, feat),
        "latest": {k: run_ref(r) for k, r in latest.items() if r is not None},
        "recent": [run_ref(r) for r in store.list_runs(limit=8)],
        "figures": figs,
    }


def usage(
    store: Store, plan: Plan | None, feature: str | None, by: str | None = None
) -> dict[str, Any]:
    """Live usage: volume, latency, acceptance, the funnel, by day and by version; tokens
    and cost from the plan's prices; slices by a metadata key (``?by=category``)."""
    from pilotgate.report._sections import usage_section
    from pilotgate.usage import metadata_key, usage_cost, usage_slices

    feat, feats = _feature(store, plan, feature)
    from pilotgate.report._silent import silent_section

    sec = usage_section(store, plan, feat)
    silent = silent_section(store, plan, feat, build=False)
    cost = usage_cost(store, plan.prices if plan is not None else {}, feature=feat).to_json()
    slices: list[dict[str, Any]] = []
    key = None
    if by:
        try:
            key = metadata_key(by)
        except Exception:  # a bad key in the URL: no slices, never a 500
            key = None
    if key is not None:
        slices = [s.to_json() for s in usage_slices(store, key, feature=feat)]
    return {
        "page": "usage", "feature": feat, "features": feats, "s": sec, "silent": silent,
        "figures": sec["charts"] + silent["charts"], "cost": cost, "by": key or "",
        "slices": slices,
    }  # fmt: skip


def runs(store: Store, kind: str | None) -> dict[str, Any]:
    kind = kind if kind in RUN_KINDS else None
    rows = []
    for r in store.list_runs(kind, limit=200):
        ref = run_ref(r)
        ref["headline"] = scrub(_headline(r), 160)
        rows.append(ref)
    return {"page": "runs", "kind": kind, "kinds": RUN_KINDS, "runs": rows}


def _headline(run: Mapping[str, Any]) -> str:
    """One line that says what a run found."""
    s = run.get("summary") or {}
    kind = run.get("kind")
    try:
        if kind == "gate":
            return f"verdict: {s.get('verdict')}"
        if kind == "eval":
            parts = [f"{k} {v.get('mean'):.3f}" for k, v in (s.get("scorers") or {}).items()
                     if isinstance(v, Mapping) and v.get("mean") is not None]  # fmt: skip
            return f"{s.get('n_cases', '?')} cases; " + ", ".join(parts)
        if kind == "compare":
            return str(s.get("verdict") or "")
        if kind == "shift":
            cov = s.get("coverage")
            value = num(cov.get("value") if isinstance(cov, Mapping) else cov)
            if value is None:
                return ""
            return f"coverage {100 * value:.1f} %, {len(s.get('gaps') or [])} gaps"
        if kind == "robustness":
            clean = num((s.get("clean") or {}).get("pass_rate"))
            rate = "—" if clean is None else f"{100 * clean:.1f} %"
            return f"{s.get('n_cases', '?')} cases, clean pass rate {rate}"
        if kind == "load":
            knee = s.get("knee") or {}
            curve = s.get("curve") or [{}]
            p99 = num(pick(s, "latency_ms.e2e.p99") or curve[-1].get("e2e_p99_ms"))
            top = s.get("label") or curve[-1].get("label") or "top level"
            return f"{top}: p99 {fmt_ms(p99)}; knee {knee.get('label') or 'none'}"
    except (TypeError, ValueError, AttributeError):
        return ""
    return ""


def run_detail(store: Store, plan: Plan | None, run_id: str) -> dict[str, Any] | None:
    """One run: its section as in the report, its parameters and first results."""
    from pilotgate.errors import InputError
    from pilotgate.report import _capabilities as cap
    from pilotgate.report._sections import eval_scores

    try:
        run = store.get_run(run_id)
    except InputError:
        return None
    kind = run.get("kind")
    sec: dict[str, Any] | None = None
    if kind == "shift":
        sec = cap.coverage_section(store, run)
    elif kind == "robustness":
        sec = cap.robustness_section(store, run)
    elif kind == "load":
        sec = cap.load_section(store, plan, run)
    elif kind == "compare":
        sec = cap.compare_section(store, run)
    scores = eval_scores(run.get("summary") or {}) if kind == "eval" else []
    if scores:
        fig = charts.bar_with_intervals(
            [{"name": r["name"], "value": r["mean"], "ci95": r["ci95"]} for r in scores],
            title="Mean score per scorer (95 % CI)", y_title="mean",
        )  # fmt: skip
        sec = {"key": "eval", "charts": [{"id": "eval-scores", "fig": fig}]}
    results = store.run_results(run_id)
    return {
        "page": "runs",
        "run": run_ref(run),
        "target": scrub(run.get("target"), 200),
        "params": scrub(_dump(run.get("params")), 4000),
        "summary": scrub(_dump(_trim(run.get("summary"))), 20000),
        "section": sec,
        "scores": scores,
        "results": [scrub(_dump(r), 600) for r in results[:30]],
        "n_results": len(results),
        "figures": (sec or {}).get("charts", []),
    }


def _trim(doc: Any, depth: int = 0) -> Any:
    """The document with long lists shortened (a map has thousands of points)."""
    if isinstance(doc, Mapping):
        return {k: _trim(v, depth + 1) for k, v in doc.items()}
    if isinstance(doc, list) and len(doc) > 20:
        return [_trim(v, depth + 1) for v in doc[:20]] + [f"… {len(doc) - 20} more"]
    if isinstance(doc, list):
        return [_trim(v, depth + 1) for v in doc]
    return doc


def _dump(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str)


def coverage(store: Store) -> dict[str, Any]:
    from pilotgate.report._capabilities import coverage_section

    sec = coverage_section(store)
    return {"page": "coverage", "s": sec, "figures": sec["charts"]}


def review_sets(store: Store) -> dict[str, Any]:
    """Every eval set (its newest version) and how many of its cases were reviewed."""
    from pilotgate.cases import latest_reviews

    newest: dict[str, dict[str, Any]] = {}
    for meta in store.list_eval_sets():
        newest[str(meta["name"])] = meta
    sets = []
    for name, meta in sorted(newest.items()):
        sets.append(
            {
                "name": name,
                "version": meta["version"],
                "n": meta["n_cases"],
                "reviewed": len(latest_reviews(store, name)),
                "created_at": meta["created_at"].isoformat(timespec="seconds"),
                "description": scrub(meta.get("description"), 200)
                if meta.get("description")
                else "",
            }
        )
    return {"page": "review", "sets": sets}


def _output_of(case: Mapping[str, Any]) -> str | None:
    meta = case.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    origin = case.get("origin")
    origin = origin if isinstance(origin, Mapping) else {}
    for v in (case.get("output"), meta.get("output"), origin.get("output")):
        if isinstance(v, str) and v:
            return v
    return None


def review_queue(store: Store, set_name: str, *, page: int, per_page: int) -> dict[str, Any] | None:
    """The cases of the newest version of ``set_name`` with their latest review."""
    from pilotgate.cases import latest_reviews
    from pilotgate.errors import InputError

    try:
        meta, cases = store.get_eval_set(set_name)
    except InputError:
        return None
    reviews = latest_reviews(store, set_name)
    rows = []
    for c in cases[page * per_page : (page + 1) * per_page]:
        cid = str(c.get("id"))
        rev = reviews.get(cid)
        rows.append(
            {
                "id": cid,
                "input": scrub(c.get("input"), 2000),
                "output": scrub(_output_of(c), 2000) if _output_of(c) else "",
                "expected": scrub(c.get("expected"), 2000) if c.get("expected") else "",
                "tags": [scrub(t, 60) for t in c.get("tags") or []],
                "source": scrub(c.get("source"), 60) if c.get("source") else "",
                "review": None
                if rev is None
                else {
                    "action": rev["action"],
                    "reviewer": scrub(rev["reviewer"], 100),
                    "ts": rev["ts"].isoformat(timespec="seconds") if rev["ts"] else "",
                    "reference": scrub(rev["reference"], 400) if rev["reference"] else "",
                    "tags": rev["tags"] or [],
                },
            }
        )
    done = sum(1 for c in cases if str(c.get("id")) in reviews)
    return {
        "page": "review",
        "set": {"name": meta["name"], "version": meta["version"], "n": len(cases),
                "reviewed": done, "description": scrub(meta.get("description"), 300)},
        "cases": rows,
        "page_no": page,
        "pages": max(1, -(-len(cases) // per_page)),
    }  # fmt: skip


# ------------------------------------------------------------------ JSON API
def api_overview(store: Store, plan: Plan | None, feature: str | None) -> dict[str, Any]:
    from pilotgate.report._queries import usage_overview

    feat, feats = _feature(store, plan, feature)
    verdict = _scorecard(store, plan, feat)
    return {
        "feature": feat,
        "features": feats,
        "usage": usage_overview(store, feature=feat) if feat else None,
        "verdict": {k: verdict.get(k) for k in ("available", "verdict", "criteria", "runs")},
    }


def api_runs(store: Store, kind: str | None, limit: int) -> list[dict[str, Any]]:
    return [
        run_ref(r) | {"headline": scrub(_headline(r), 160)}
        for r in store.list_runs(kind, limit=limit)
    ]


def api_run(store: Store, run_id: str) -> dict[str, Any] | None:
    from pilotgate.errors import InputError

    try:
        run = store.get_run(run_id)
    except InputError:
        return None
    # scrubbed like the pages: the API must not hand out what the pages hide
    return run_ref(run) | {"summary": _scrub_tree(run.get("summary"))}


def _scrub_tree(doc: Any) -> Any:
    if isinstance(doc, Mapping):
        # keys too: by_tag and by_cluster are keyed by the cases' own tags and cluster names
        return {scrub(k, None): _scrub_tree(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [_scrub_tree(v) for v in doc]
    if isinstance(doc, str):
        return scrub(doc, None)
    return doc
