"""Sections over the pre-launch capabilities' runs: coverage, robustness, load, comparison."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pilotgate._stats import wilson
from pilotgate._textdiff import diff_excerpts
from pilotgate.report import _charts as charts
from pilotgate.report._sections import run_ref, scored_text, scrub, section
from pilotgate.report._stats import num, pick

if TYPE_CHECKING:
    from pilotgate.plan import Plan
    from pilotgate.store import Store

__all__ = ["compare_section", "coverage_section", "load_section", "robustness_section"]

MAX_GAPS = 8
MAX_PAIRS = 8


def _latest(store: Store, kind: str, plan: Plan | None = None) -> Mapping[str, Any] | None:
    """The run a section shows: with a plan, the newest of the plan's feature and version
    (and the eval set its criterion of that kind names), as the gate selects; else, or
    when none matches, the newest run of the kind."""
    if plan is not None:
        from pilotgate.runs import Selection, pick_run

        metric = {"shift": "shift.", "robustness": "robustness.", "compare": "compare."}
        sets = [
            c.eval_set
            for c in plan.criteria
            if c.metric.startswith(metric.get(kind, "-")) and c.eval_set and kind != "compare"
        ]
        sel = Selection(kind, plan.feature.name, plan.feature.version, sets[0] if sets else None)
        found = pick_run(store, sel).run
        if found is not None:
            return found
    return store.latest_run(kind)


def _command(run: Mapping[str, Any], fallback: str) -> str:
    """The command that produced a run when it was recorded, else the generic one."""
    params = run.get("params") or {}
    for key in ("command", "argv", "cli"):
        cmd = params.get(key) if isinstance(params, Mapping) else None
        if isinstance(cmd, list):
            cmd = " ".join(str(x) for x in cmd)
        if isinstance(cmd, str) and cmd:
            return scrub(cmd, 400)
    if run.get("kind") == "load":  # recorded through the API: rebuilt from its parameters
        from pilotgate._reproduce import load_command

        return scrub(load_command(run, 1, 3.0), 400)
    return fallback


# ----------------------------------------------------------------- coverage
def coverage_section(
    store: Store, run: Mapping[str, Any] | None = None, *, plan: Plan | None = None
) -> dict[str, Any]:
    """Coverage of production by the eval set, the map, and the gaps with examples."""
    generic = "pilotgate shift --eval CASES.jsonl --production PROD.jsonl --json shift.json"
    sec = section("coverage", "Coverage and gaps", generic)
    run = run or _latest(store, "shift", plan)
    if run is None:
        return sec
    doc = run.get("summary") or {}
    cov = doc.get("coverage")
    value = num(cov.get("value")) if isinstance(cov, Mapping) else num(cov)
    gaps = []
    for g in (doc.get("gaps") or [])[:MAX_GAPS]:
        if not isinstance(g, Mapping):
            continue
        gaps.append(
            {
                "id": str(g.get("id")),
                "label": scrub(g.get("label"), 120),
                "size": g.get("size"),
                "share": num(g.get("share")),
                "keywords": [scrub(k, 40) for k in (g.get("keywords") or [])[:8]],
                "examples": [scrub(_text(e), 240) for e in (g.get("examples") or [])[:4]],
                "nearest_eval": [scrub(_text(e), 160) for e in (g.get("nearest_eval") or [])[:2]],
            }
        )
    drift = pick(doc, "drift.flagged", default=[]) or []
    sec.update(
        available=True,
        runs=[run_ref(run)],
        commands=[_command(run, generic)],
        coverage=value,
        coverage_ci95=(cov.get("ci95") if isinstance(cov, Mapping) else doc.get("coverage_ci95")),
        n_eval=doc.get("n_eval"),
        n_production=doc.get("n_production"),
        gaps=gaps,
        n_gaps=len(doc.get("gaps") or []),
        drift_flagged=[scrub(d, 80) for d in drift],
    )
    points = pick(doc, "map.points", default=[]) or []
    if points:
        labels: dict[str, str] = {str(g["id"]): str(g["label"]) for g in gaps}
        labels.update(
            {str(g.get("id")): scrub(g.get("label"), 60) for g in doc.get("gaps") or []
             if isinstance(g, Mapping) and str(g.get("id")) not in labels}
        )  # fmt: skip
        sec["charts"].append({"id": "coverage-map", "fig": charts.coverage_map(points, labels)})
    by_day = doc.get("coverage_by_day") or []
    if by_day:
        sec["charts"].append(
            {
                "id": "coverage-by-day",
                "fig": charts.bar_with_intervals(
                    [{"name": d.get("day"), "value": d.get("coverage"), "ci95": d.get("ci95")}
                     for d in by_day if isinstance(d, Mapping)],
                    title="Coverage of production inputs by day (95 % CI)",
                    y_title="covered",
                ),
            }
        )  # fmt: skip
    return sec


def _text(e: Any) -> Any:
    if isinstance(e, Mapping):
        return e.get("text") or e.get("input") or e.get("id")
    return e


# --------------------------------------------------------------- robustness
def robustness_section(
    store: Store, run: Mapping[str, Any] | None = None, *, plan: Plan | None = None
) -> dict[str, Any]:
    """Pass rate per perturbation family with intervals, and failing pairs side by side."""
    generic = "pilotgate robustness --target T --cases CASES.jsonl --perturbations all --seed 0"
    sec = section("robustness", "Robustness by family", generic)
    run = run or _latest(store, "robustness", plan)
    if run is None:
        return sec
    doc = run.get("summary") or {}
    families = _family_rows(doc)
    perts: list[dict[str, Any]] = []
    for name, p in sorted((doc.get("perturbations") or {}).items()):
        if isinstance(p, Mapping):
            perts.append(
                {"name": name, "family": p.get("family", ""), "value": num(p.get("pass_rate")),
                 "ci95": p.get("ci95"), "n": p.get("n")}
            )  # fmt: skip
    pairs = []
    source = doc.get("worst") or [
        dict(f, perturbation=name)
        for name, p in (doc.get("perturbations") or {}).items()
        if isinstance(p, Mapping)
        for f in (p.get("failures") or [])[:2]
    ]
    for f in source[:MAX_PAIRS]:
        if isinstance(f, Mapping):
            out_a, out_b = diff_excerpts(
                str(f.get("output_original") or ""), str(f.get("output_perturbed") or ""), 300
            )
            pairs.append(
                {
                    "perturbation": scrub(f.get("perturbation"), 60),
                    "case_id": scrub(f.get("case_id"), 80),
                    "original": scrub(f.get("original"), 300),
                    "perturbed": scrub(f.get("perturbed"), 300),
                    "output_original": scrub(out_a, 302),
                    "output_perturbed": scrub(out_b, 302),
                }
            )
    clean = doc.get("clean") if isinstance(doc.get("clean"), Mapping) else None
    sec.update(
        available=bool(families or perts),
        runs=[run_ref(run)],
        commands=[_command(run, generic)],
        mode=doc.get("mode"),
        n_cases=doc.get("n_cases"),
        families=families,
        perturbations=perts,
        pairs=pairs,
        clean=num(clean.get("pass_rate")) if clean else None,
    )
    if families:
        sec["charts"].append(
            {
                "id": "robustness-families",
                "fig": charts.bar_with_intervals(
                    families, title="Pass rate by perturbation family (95 % CI; red < 80 %, "
                    "amber < 90 %)", y_title="pass rate", threshold=sec["clean"],
                    colors=charts.rate_colors([f["value"] for f in families]),
                ),
            }
        )  # fmt: skip
    if perts:
        perts.sort(key=lambda p: (p["value"] is None, p["value"] or 0.0, p["name"]))
        fig = charts.bar_with_intervals(
            perts, title="Pass rate by perturbation, weakest first (95 % CI)",
            y_title="pass rate", colors=charts.rate_colors([p["value"] for p in perts]),
        )  # fmt: skip
        fig["layout"]["height"] = 380
        fig["layout"]["xaxis"] = {"tickangle": -30, "automargin": True}
        sec["charts"].append({"id": "robustness-perturbations", "fig": fig})
    return sec


def _family_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    fams = doc.get("families")
    rows = []
    if isinstance(fams, Mapping) and fams:
        for name, f in sorted(fams.items()):
            if isinstance(f, Mapping):
                rows.append({"name": name, "value": num(f.get("pass_rate")),
                             "ci95": f.get("ci95"), "n": f.get("n")})  # fmt: skip
        return rows
    # older documents: sum the perturbations of each family
    sums: dict[str, list[int]] = {}
    for p in (doc.get("perturbations") or {}).values():
        if isinstance(p, Mapping) and p.get("n"):
            acc = sums.setdefault(str(p.get("family") or "other"), [0, 0])
            acc[0] += int(p.get("passed") or 0)
            acc[1] += int(p["n"])
    for name, (k, n) in sorted(sums.items()):
        rows.append({"name": name, "value": k / n, "ci95": wilson(k, n), "n": n})
    return rows


# --------------------------------------------------------------------- load
def load_section(
    store: Store, plan: Plan | None, run: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Latency vs load with the SLO and the knee, from the latest load run."""
    generic = "pilotgate load --target T --expected N --duration 60 --json load.json"
    sec = section("load", "Latency under load", generic)
    run = run or _latest(store, "load", plan)
    if run is None:
        return sec
    doc = run.get("summary") or {}
    curve = doc.get("curve") or [
        {
            "label": lv.get("label"),
            "load": lv.get("label"),
            "e2e_p50_ms": pick(lv, "latency_ms.e2e.p50"),
            "e2e_p99_ms": pick(lv, "latency_ms.e2e.p99"),
            "requests_per_s": pick(lv, "throughput.requests_per_s"),
            "attainment": pick(lv, "slo.attainment"),
        }
        for lv in (doc.get("levels") or [doc])
        if isinstance(lv, Mapping)
    ]
    slo = num(pick(doc, "slo.e2e_ms", "config.slo.e2e_ms"))
    if slo is None and plan is not None and plan.load.slo_p99_ms:
        slo = float(plan.load.slo_p99_ms)
    knee = doc.get("knee") if isinstance(doc.get("knee"), Mapping) else None
    sec.update(
        available=bool(curve),
        runs=[run_ref(run)],
        commands=[_command(run, generic)],
        curve=curve,
        knee=knee,
        slo_ms=slo,
        requests=doc.get("requests"),
        target=scrub(doc.get("target") or run.get("target"), 200),
        costs=[
            {"label": lv.get("label"), **lv["cost"]}
            for lv in (doc.get("levels") or [doc])
            if isinstance(lv, Mapping) and isinstance(lv.get("cost"), Mapping)
        ],
    )
    if curve:
        sec["charts"].append({"id": "load-curve", "fig": charts.latency_vs_load(curve, knee, slo)})
    return sec


# ------------------------------------------------------------------ compare
def compare_section(
    store: Store, run: Mapping[str, Any] | None = None, *, plan: Plan | None = None
) -> dict[str, Any]:
    """The latest version comparison: paired difference, interval, p-value, flipped cases."""
    generic = "pilotgate eval compare RUN_A RUN_B"
    sec = section("compare", "Version comparison", generic)
    run = run or _latest(store, "compare", plan)
    if run is None:
        return sec
    doc = run.get("summary") or {}
    rows = []
    flips: list[dict[str, Any]] = []
    for key, s in (doc.get("scorers") or {}).items():
        if not isinstance(s, Mapping):
            continue
        rows.append(
            {"name": str(key), "value": num(s.get("diff")), "ci95": s.get("ci95"),
             "p_value": num(s.get("p_value")), "mean_a": num(s.get("mean_a")),
             "mean_b": num(s.get("mean_b")), "improved": s.get("improved"),
             "regressed": s.get("regressed"), "outcome": s.get("outcome"),
             "verdict": scrub(s.get("verdict"), 300), "scored": scored_text(s)}
        )  # fmt: skip
        if key == doc.get("primary") or not flips:
            flips = [
                {
                    "direction": direction,
                    "case_id": scrub(f.get("case_id"), 80),
                    "input": scrub(f.get("input"), 240),
                    "output_a": scrub(f.get("output_a"), 240),
                    "output_b": scrub(f.get("output_b"), 240),
                }
                for direction in ("regressed", "improved")
                for f in (pick(s, f"flipped.{direction}", default=[]) or [])[:4]
                if isinstance(f, Mapping)
            ]
    labels = doc.get("labels") or {}
    params = run.get("params") or {}
    sec.update(
        available=bool(rows),
        runs=[run_ref(run)],
        commands=[
            f"pilotgate eval compare {params.get('run_a', 'RUN_A')} {params.get('run_b', 'RUN_B')}"
        ],
        verdict=scrub(doc.get("verdict"), 300),
        outcome=doc.get("outcome"),
        labels={"a": scrub(labels.get("a", "A"), 60), "b": scrub(labels.get("b", "B"), 60)},
        rows=rows,
        flips=flips,
        n_shared=doc.get("n_shared"),
        scope=scrub(doc.get("scope"), 300),
    )
    if rows:
        fig = charts.bar_with_intervals(
            rows, title=f"Difference {sec['labels']['b']} − {sec['labels']['a']} per scorer "
            "(paired, 95 % CI)", y_title="difference", percent=False, threshold=0.0,
        )  # fmt: skip
        sec["charts"].append({"id": "compare-diff", "fig": fig})
    return sec
