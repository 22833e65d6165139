"""The capability steps of ``pilotgate demo``, one function per capability.

Each step reads what earlier steps left in the store or in files and calls the
capability's entry point with ``store=``, so the run is recorded (with its feature,
version and eval set) by the capability itself, exactly as for the CLI; it returns a
one-line summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pilotgate.demo._orchestrate import DemoContext
from pilotgate.store import Store

__all__ = ["capability_steps", "ROBUSTNESS_PERTURBATIONS"]

Step = tuple[str, Callable[[DemoContext], str]]

#: One or two perturbations per family: broad enough to show which families break the
#: feature, small enough for the demo's time budget.
ROBUSTNESS_PERTURBATIONS = [
    "typo_keyboard",
    "ocr_confusion",
    "all_caps",
    "strip_punctuation",
    "truncate_words",
    "markdown",
    "email_thread",
    "texting_slang",
    "jargon",
    "multi_request",
    "code_switch_es",
    "translate_es",
    "out_of_scope_task",
    "injection_suffix",
    "zero_width",
]


def _summary(ctx: DemoContext) -> dict[str, Any]:
    out: dict[str, Any] = ctx.results.setdefault("summary", {})
    return out


def _feature_target(ctx: DemoContext, version: str) -> str:
    return f"openai:{ctx.feature_urls[version]}/v1"


def _piloted_version(ctx: DemoContext) -> str:
    """The version the plan pilots (``[feature] version``): the runs the gate judges."""
    from pilotgate.plan import load_plan

    return load_plan(ctx.files["plan"]).feature.version


def step_eval_sets(ctx: DemoContext) -> str:
    """The demo set as it was, and an eval set built from production and labelled.

    ``cases build`` samples the stored interactions (stratified by cluster, weighted to
    failures, deduplicated, redacted); a reviewer then writes each case's reference label
    (here the simulation's ground truth stands in for the reviewer) and the reviews are
    applied as a new version: production@2.
    """
    from pilotgate.cases import BuildSpec, apply_reviews, build_eval_set, record_review
    from pilotgate.demo import FEATURE_NAME
    from pilotgate.demo.data import demo_set

    demo = demo_set(seed=ctx.config.seed)
    with Store(ctx.store_url) as store:
        store.save_eval_set("demo", demo, description="the 50 hand-picked demo requests")
        built = build_eval_set(
            store,
            "production",
            BuildSpec(feature=FEATURE_NAME, size=300, seed=ctx.config.seed),
        )
        cases = built.cases
        ids = [str((c.origin or {}).get("interaction_id")) for c in cases]
        meta = {
            r["id"]: r.get("metadata") or {}
            for r in store.iter_interactions(ids=ids, columns=["id", "metadata"])
        }
        truth = {k: (m.get("truth") or {}).get("intent") for k, m in meta.items()}
        labelled = 0
        for case, iid in zip(cases, ids, strict=True):
            label = truth.get(iid)
            if label:
                record_review(
                    store, "production", case.id, "reference", reference=label, reviewer="demo"
                )
                labelled += 1
        applied = apply_reviews(store, "production", description="reviewer labels")
        split = _split_by_template(store, f"production@{applied.version}", meta)
    ctx.results["production_eval_set"] = f"production@{applied.version}"
    return (
        f"demo@1 ({len(demo)} cases); production@1 built from the store ({len(cases)} cases), "
        f"{labelled} labelled → production@{applied.version}; by template: "
        f"{split['held_out']} held out from the fix, {split['seen']} seen by it"
    )


#: The production-derived cases split by whether the fix (v2) saw their template.
SPLIT_SETS = {"held_out": "production-held-out", "seen": "production-seen"}
SPLIT_LABELS = {
    "held_out": "held out: production cases from templates v2's fix never saw",
    "seen": "seen by the fix: production cases from templates v2 was written from (in sample)",
}


def _split_by_template(store: Store, ref: str, meta: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Save the labelled production cases as two eval sets, by template (see _phrases.py)."""
    _, cases = store.get_eval_set(ref)
    counts = {}
    for part, name in SPLIT_SETS.items():
        tag = f"template:{part}"
        chosen = [
            {**c, "tags": [*(c.get("tags") or []), tag]}
            for c in cases
            if tag
            in (meta.get(str((c.get("origin") or {}).get("interaction_id"))) or {}).get("tags", [])
        ]
        store.save_eval_set(name, chosen, description=SPLIT_LABELS[part])
        counts[part] = len(chosen)
    return counts


def step_eval(ctx: DemoContext) -> str:
    """Score v1 on the demo set and v1/v2 on the production-derived set; compare v1 vs v2."""
    from pilotgate.demo import FEATURE_NAME
    from pilotgate.evaluate import compare_runs, run_eval

    runs: dict[str, str] = {}
    means: dict[str, float] = {}
    sets = [("demo", "v1"), ("production", "v1"), ("production", "v2")]
    sets += [(name, v) for name in SPLIT_SETS.values() for v in ("v1", "v2")]
    with Store(ctx.store_url) as store:
        for set_name, version in sets:
            res = run_eval(
                _feature_target(ctx, version),
                None,
                ["label"],
                eval_set=set_name,
                store=store,
                concurrency=16,
                name=f"{set_name}-{version}",
                feature=FEATURE_NAME,
                version=version,
                model="northwind",
            )
            runs[f"{set_name}-{version}"] = res.run_id
            means[f"{set_name}-{version}"] = float(res.to_json()["scorers"]["label"]["mean"])
        verdicts = {}
        # seen first, held out last: the report shows the latest comparison, the held-out one
        for part in ("seen", "held_out"):
            name = SPLIT_SETS[part]
            cmp = compare_runs(
                runs[f"{name}-v1"],
                runs[f"{name}-v2"],
                store=store,
                name=f"v1-vs-v2 ({part.replace('_', ' ')})",
                scope=SPLIT_LABELS[part],
            )
            verdicts[part] = str(cmp.to_json().get("verdict", ""))
    ctx.results["eval_runs"] = runs
    s = _summary(ctx)
    s["accuracy on the demo set (v1)"] = f"{means['demo-v1']:.0%}"
    s["accuracy on production-derived set (v1)"] = f"{means['production-v1']:.0%}"
    s["accuracy on production-derived set (v2)"] = f"{means['production-v2']:.0%}"
    s["v2 vs v1 (held out)"] = verdicts["held_out"]
    s["v2 vs v1 (seen by the fix, in sample)"] = verdicts["seen"]
    return (
        f"demo v1 {means['demo-v1']:.0%}, production v1 {means['production-v1']:.0%}, "
        f"v2 {means['production-v2']:.0%}; held out from the fix: v1 "
        f"{means['production-held-out-v1']:.0%} → v2 {means['production-held-out-v2']:.0%}"
    )


def step_shift(ctx: DemoContext) -> str:
    """Coverage of the piloted version's production by the demo set and by the
    production-derived set: the gaps, and drift. Both runs are recorded (feature, version,
    eval set); the gate's coverage criterion names the production-derived set."""
    from pilotgate.demo import FEATURE_NAME
    from pilotgate.shift import (
        StoreEmbeddingCache,
        analyze_shift,
        eval_set_inputs,
        production_inputs,
    )

    version = _piloted_version(ctx)
    docs = {}
    with Store(ctx.store_url) as store:
        prod = production_inputs(store, FEATURE_NAME, version=version)
        cache = StoreEmbeddingCache(store)  # the second run re-uses the production vectors
        for name, ref in (
            ("demo-set-vs-production", "demo"),
            ("production-set-vs-production", ctx.results["production_eval_set"]),
        ):
            ev = eval_set_inputs(store, ref)
            result = analyze_shift(
                ev.texts,
                prod.texts,
                embedder="minilm",
                seed=ctx.config.seed,
                eval_ids=ev.ids,
                production_ids=prod.ids,
                production_ts=prod.ts,
                cache=cache,
                progress=False,
                store=store,
                feature=FEATURE_NAME,
                version=version,
                eval_set=ev.ref,
                inputs={
                    "eval": f"store:eval-set:{ev.ref}",
                    "production": f"store:feature:{FEATURE_NAME} version {version}",
                },
                name=name,
            )
            docs[name] = result.to_json()
    doc = docs["demo-set-vs-production"]
    gaps = doc.get("gaps", [])
    cov = float(doc["coverage"])
    cov_prod = float(docs["production-set-vs-production"]["coverage"])
    _summary(ctx)["production covered by the demo set"] = f"{cov:.0%}"
    _summary(ctx)["production covered by the production-derived set"] = f"{cov_prod:.0%}"
    top = ", ".join(g["label"] for g in gaps[:3])
    return (
        f"{version} traffic: demo set covers {cov:.0%}, {len(gaps)} gaps (largest: {top}); "
        f"production-derived set covers {cov_prod:.0%}"
    )


def step_robustness(ctx: DemoContext) -> str:
    """The version the plan pilots under perturbations of the demo set."""
    from pilotgate.demo import FEATURE_NAME
    from pilotgate.demo.data import demo_set
    from pilotgate.perturb import perturb_options, run_robustness
    from pilotgate.plan import load_plan
    from pilotgate.records import Case
    from pilotgate.targets import resolve_target

    version = _piloted_version(ctx)
    cases = [Case.model_validate(c) for c in demo_set(seed=ctx.config.seed)]
    with Store(ctx.store_url) as store:
        demo_ref = "demo@{}".format(store.get_eval_set("demo")[0]["version"])
        result = run_robustness(
            resolve_target(_feature_target(ctx, version), model="northwind"),
            cases,
            perturbations=ROBUSTNESS_PERTURBATIONS,
            seed=ctx.config.seed,
            concurrency=16,
            options=perturb_options(load_plan(ctx.files["plan"])),
            store=store,
            feature=FEATURE_NAME,
            version=version,
            eval_set=demo_ref,
            name=f"demo-{version}",
            target_label=_feature_target(ctx, version),
        )
    doc = result.to_json()
    fams = doc.get("families", {})
    worst = sorted(fams.items(), key=lambda kv: kv[1].get("pass_rate") or 0)[:2]
    weakest = ", ".join(f"{k} {v.get('pass_rate', 0):.0%}" for k, v in worst)
    _summary(ctx)["weakest perturbation families"] = f"{weakest} ({version})"
    return f"{version}: {len(result.rows())} pairs; weakest: {weakest}"


def step_load(ctx: DemoContext) -> str:
    """1x, 2x, 3x the expected users against the feature on a provider with real limits."""
    from pilotgate.load import LoadConfig, Slo, Workload, expected_levels, run_levels

    expected = ctx.config.expected_users
    levels, labels = expected_levels(expected, 3.0)
    cfg = LoadConfig(
        concurrency=expected,
        duration_s=ctx.config.load_seconds,
        think_time_s=3.0,
        think="exponential",
        max_requests=5000,
        slo=Slo(e2e_ms=ctx.config.slo_p99_ms),
        seed=ctx.config.seed,
    )
    texts = [r.text for r in ctx.results.get("production", [])[:500]] or ["hello"]
    from pilotgate.demo import FEATURE_NAME
    from pilotgate.targets import TargetConfig

    # the load service runs the piloted version (v2) against the rate-limited provider
    target = TargetConfig(kind="openai", url=f"{ctx.feature_urls['load']}/v1", model="northwind")
    result = run_levels(
        cfg,
        target,
        [int(x) for x in levels],
        labels=labels,
        workload=Workload.from_texts(texts),
        store=ctx.store_url,
        feature=FEATURE_NAME,
        version=_piloted_version(ctx),
        name="expected-1x-2x-3x",
    )
    doc = result.to_json()
    rows = []
    s = _summary(ctx)
    for lvl in doc.get("levels", []):
        e2e = lvl["latency_ms"]["e2e"]
        if e2e["p50"] is None:  # no request of this level succeeded
            figure = f"no successful request ({lvl['requests']['failed']} failed)"
        else:
            figure = f"p50 {e2e['p50']:.0f} / p99 {e2e['p99']:.0f} ms"
        rows.append(f"{lvl.get('label')}: {figure}")
        s[f"latency at {lvl.get('label')}"] = figure
    return "; ".join(rows)


def step_gate(ctx: DemoContext) -> str:
    """Judge the plan's criteria from everything the store now holds."""
    from pilotgate.gate import evaluate_gate
    from pilotgate.plan import load_plan

    plan = load_plan(ctx.files["plan"])
    with Store(ctx.store_url) as store:
        result = evaluate_gate(plan, store)
    doc = result.to_json()
    ctx.results["gate"] = doc
    counts = result.counts()
    _summary(ctx)["pilot gate verdict"] = doc["verdict"]
    return f"verdict {doc['verdict']}: " + ", ".join(f"{v} {k}" for k, v in counts.items())


def step_report(ctx: DemoContext) -> str:
    """The self-contained HTML report."""
    from pilotgate.plan import load_plan
    from pilotgate.report import write_report

    plan = load_plan(ctx.files["plan"])
    out = ctx.config.out_dir / "report.html"
    with Store(ctx.store_url) as store:
        path = write_report(store, plan, out, feature="northwind-support")
    ctx.files["report"] = path
    return f"{path.name} ({path.stat().st_size / 1e6:.1f} MB, offline)"


def capability_steps() -> list[Step]:
    """Every capability step, in the order the demo runs them."""
    return [
        ("eval sets", step_eval_sets),
        ("eval: demo vs production", step_eval),
        ("shift and coverage", step_shift),
        ("robustness", step_robustness),
        ("load 1x / 2x / 3x", step_load),
        ("pilot gate", step_gate),
        ("report", step_report),
    ]
