"""``compare_runs``: did version B really beat version A on the same cases?

Paired on shared case ids: the difference of means with a seeded bootstrap interval,
McNemar's exact test for pass/fail scorers (a sign-flip permutation test for graded
ones), the cases that flipped each way, and one sentence a team can paste into a
ticket. The interval decides: if it covers 0 the answer is "no significant difference",
however many cases flipped. A judge-scored comparison whose judge disagrees with itself
across repeats is not allowed to call B better.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pilotgate.errors import ConfigError, InputError
from pilotgate.evaluate._stats import (
    is_binary,
    mcnemar_exact,
    paired_bootstrap_ci,
    paired_permutation_p,
)
from pilotgate.scoring import is_scored
from pilotgate.store import Store, open_store

__all__ = [
    "COMPARE_SCHEMA",
    "CompareResult",
    "compare_rows",
    "compare_runs",
    "compare_scores",
    "verdict_line",
]

COMPARE_SCHEMA = "pilotgate.compare/1"
MAX_FLIPS_LISTED = 50


@dataclass
class CompareResult:
    """A stored comparison: its run id (kind ``compare``) and ``pilotgate.compare/1`` document."""

    SCHEMA: ClassVar[str] = COMPARE_SCHEMA

    run_id: str | None
    document: dict[str, Any]

    @property
    def verdict(self) -> str:
        return str(self.document["verdict"])

    def to_json(self) -> dict[str, Any]:
        return self.document


def _fmt_pts(x: float) -> str:
    return f"{100 * x:+.1f}"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def verdict_line(
    label_b: str,
    outcome: str,
    *,
    improved: int,
    regressed: int,
    diff: float,
    lo: float,
    hi: float,
    p: float,
    label_a: str | None = None,
    note: str | None = None,
) -> str:
    """The one-line verdict ("v2 is better on 31 cases and worse on 9; +4.8 points, …")."""
    facts = (
        f"{label_b} is better on {improved} cases and worse on {regressed}; "
        f"{_fmt_pts(diff)} points, 95 % CI [{_fmt_pts(lo)}, {_fmt_pts(hi)}], {_fmt_p(p)}"
    )
    than = f" than {label_a}" if label_a else ""
    if outcome == "better":
        return f"{label_b} is better{than}: " + facts[len(label_b) + 4 :]
    if outcome == "worse":
        return f"{label_b} is worse{than}: " + facts[len(label_b) + 4 :]
    if outcome == "inconclusive":
        return f"inconclusive: {note} ({facts})"
    return f"no significant difference ({facts})"


def compare_scores(
    a: Sequence[float],
    b: Sequence[float],
    passed_a: Sequence[bool] | None = None,
    passed_b: Sequence[bool] | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """The paired statistics of one scorer over aligned cases (B minus A).

    Returns ``n``, both means, ``diff`` with ``ci95``, the ``test`` used and its
    ``p_value``, the ``improved``/``regressed`` flip counts and the ``outcome``
    (``better``/``worse``/``no_difference``), decided by whether the interval excludes 0.
    """
    if len(a) != len(b) or not a:
        raise InputError(f"need paired, non-empty scores (got {len(a)} and {len(b)})")
    pa = list(passed_a) if passed_a is not None else [x >= 0.5 for x in a]
    pb = list(passed_b) if passed_b is not None else [x >= 0.5 for x in b]
    improved = sum(1 for x, y in zip(pa, pb, strict=True) if not x and y)
    regressed = sum(1 for x, y in zip(pa, pb, strict=True) if x and not y)
    diff, lo, hi = paired_bootstrap_ci(a, b, seed=seed)
    binary = is_binary(list(a) + list(b))
    if binary:
        test, p = "mcnemar_exact", mcnemar_exact(improved, regressed)
    else:
        test, p = "paired_permutation", paired_permutation_p(a, b, seed=seed)
    outcome = "better" if lo > 0 else "worse" if hi < 0 else "no_difference"
    n = len(a)
    return {
        "n": n,
        "mean_a": round(sum(a) / n, 6),
        "mean_b": round(sum(b) / n, 6),
        "diff": round(diff, 6),
        "ci95": [round(lo, 6), round(hi, 6)],
        "binary": binary,
        "test": test,
        "p_value": round(p, 6),
        "improved": improved,
        "regressed": regressed,
        "outcome": outcome,
    }


def _flip(case_id: str, ra: Mapping[str, Any], rb: Mapping[str, Any], key: str) -> dict[str, Any]:
    def cut(x: Any) -> Any:
        return x[:200] + "…" if isinstance(x, str) and len(x) > 200 else x

    return {
        "case_id": case_id,
        "input": cut(ra.get("input")),
        "expected": ra.get("expected"),
        "output_a": cut(ra.get("output")),
        "output_b": cut(rb.get("output")),
        "value_a": ra["scores"][key]["value"],
        "value_b": rb["scores"][key]["value"],
        "detail_a": ra["scores"][key].get("detail", ""),
        "detail_b": rb["scores"][key].get("detail", ""),
    }


def compare_rows(
    rows_a: Sequence[Mapping[str, Any]],
    rows_b: Sequence[Mapping[str, Any]],
    key: str,
    *,
    seed: int = 0,
    agreement: tuple[float | None, float | None] = (None, None),
    min_agreement: float = 0.8,
    labels: tuple[str, str] = ("A", "B"),
) -> dict[str, Any]:
    """Compare one scorer between two runs' per-case rows, paired on ``case_id``.

    Only pairs the scorer judged in both runs count (``n_scored``); a case without a
    reference, or without a judge verdict on either side, is in ``n_unscored``.
    """
    by_b = {r["case_id"]: r for r in rows_b if key in (r.get("scores") or {})}
    shared = [
        (ra, by_b[ra["case_id"]])
        for ra in rows_a
        if key in (ra.get("scores") or {}) and ra["case_id"] in by_b
    ]
    # a pair counts only when the scorer could judge the case in both runs
    pairs = [
        (ra, rb)
        for ra, rb in shared
        if is_scored(ra["scores"][key]) and is_scored(rb["scores"][key])
    ]
    unscored: Counter[str] = Counter()
    for ra, rb in shared:
        for r in (ra, rb):
            if not is_scored(r["scores"][key]):
                unscored[str(r["scores"][key].get("detail") or "not scored")] += 1
                break
    if not pairs:
        raise InputError(
            f"the two runs share no case scored by {key!r}",
            fix="compare runs over the same eval set with the same scorer",
        )
    va = [float(ra["scores"][key]["value"]) for ra, _ in pairs]
    vb = [float(rb["scores"][key]["value"]) for _, rb in pairs]
    pa = [bool(ra["scores"][key]["passed"]) for ra, _ in pairs]
    pb = [bool(rb["scores"][key]["passed"]) for _, rb in pairs]
    doc = compare_scores(va, vb, pa, pb, seed=seed)
    doc["n_scored"] = len(pairs)
    doc["n_unscored"] = len(shared) - len(pairs)
    doc["unscored_reasons"] = dict(unscored.most_common())
    measured = [x for x in agreement if x is not None]
    doc["judge_agreement"] = {"a": agreement[0], "b": agreement[1], "min": min_agreement}
    note = None
    if measured and min(measured) < min_agreement and doc["outcome"] == "better":
        doc["outcome"] = "inconclusive"
        note = (
            f"the judge agrees with itself on only {100 * min(measured):.0f} % of repeats "
            f"(< {100 * min_agreement:.0f} %), so 'better' is not claimed"
        )
    doc["verdict"] = verdict_line(
        labels[1],
        doc["outcome"],
        improved=doc["improved"],
        regressed=doc["regressed"],
        diff=doc["diff"],
        lo=doc["ci95"][0],
        hi=doc["ci95"][1],
        p=doc["p_value"],
        label_a=labels[0],
        note=note,
    )
    ups = [
        (ra, rb)
        for ra, rb in pairs
        if not ra["scores"][key]["passed"] and rb["scores"][key]["passed"]
    ]
    downs = [
        (ra, rb)
        for ra, rb in pairs
        if ra["scores"][key]["passed"] and not rb["scores"][key]["passed"]
    ]
    doc["flipped"] = {
        "improved": [_flip(ra["case_id"], ra, rb, key) for ra, rb in ups[:MAX_FLIPS_LISTED]],
        "regressed": [_flip(ra["case_id"], ra, rb, key) for ra, rb in downs[:MAX_FLIPS_LISTED]],
    }
    return doc


def _label(run: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    for field in ("version", "name"):
        mine, theirs = run.get(field), other.get(field)
        if mine and mine != theirs:
            return str(mine)
    return str(run["id"])


def _agreement(run: Mapping[str, Any], key: str) -> float | None:
    doc = ((run.get("summary") or {}).get("scorers") or {}).get(key) or {}
    judge = doc.get("judge") or {}
    value = judge.get("agreement")
    return None if value is None else float(value)


def _run_info(run: Mapping[str, Any], rows: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": run["id"],
        "name": run.get("name"),
        "version": run.get("version"),
        "target": run.get("target"),
        "status": run.get("status"),
        "n_cases": len(rows),
    }


def compare_runs(
    run_a: str,
    run_b: str,
    *,
    store: Store | str | None = None,
    scorers: Sequence[str] | None = None,
    seed: int = 0,
    min_agreement: float = 0.8,
    save: bool = True,
    name: str | None = None,
    scope: str | None = None,
) -> CompareResult:
    """Compare two stored eval runs, B against A, and store the comparison (kind ``compare``).

    Args:
        run_a: the baseline run id (e.g. v1).
        run_b: the candidate run id (e.g. v2).
        store: a Store or URL (default: the configured store).
        scorers: the scorer keys to compare (default: every key both runs have); the
            first is the headline ``verdict``.
        seed: seed of the bootstrap and permutation resampling.
        min_agreement: a judge whose self-agreement across repeats is below this
            cannot make B "better".
        save: store the comparison as a run.
        name: the stored comparison's name.
        scope: what the cases are, said with the result (e.g. "held out: production
            cases from phrasings the fix never saw"); stored as the document's ``scope``.
    """
    st = store if isinstance(store, Store) else open_store(store)
    try:
        ra, rb = st.get_run(run_a), st.get_run(run_b)
        for run in (ra, rb):
            if run["kind"] != "eval":
                raise InputError(
                    f"run {run['id']!r} is a {run['kind']} run, not an eval run",
                    fix="compare two runs made by `pilotgate eval run`",
                )
        rows_a = [dict(r, case_id=r["item_id"]) for r in st.run_results(run_a)]
        rows_b = [dict(r, case_id=r["item_id"]) for r in st.run_results(run_b)]
        keys_a = list(((ra.get("summary") or {}).get("scorers") or {}).keys())
        keys_b = set(((rb.get("summary") or {}).get("scorers") or {}).keys())
        common = [k for k in keys_a if k in keys_b]
        keys = list(scorers) if scorers else common
        missing = [k for k in keys if k not in common]
        if missing or not keys:
            raise ConfigError(
                f"scorer {missing[0]!r} is not in both runs" if missing else "no scorer in common",
                fix=f"scorers both runs have: {', '.join(common) or '(none)'}",
            )
        labels = (_label(ra, rb), _label(rb, ra))
        per = {
            k: compare_rows(
                rows_a,
                rows_b,
                k,
                seed=seed,
                agreement=(_agreement(ra, k), _agreement(rb, k)),
                min_agreement=min_agreement,
                labels=labels,
            )
            for k in keys
        }
        ids_a = {r["case_id"] for r in rows_a}
        ids_b = {r["case_id"] for r in rows_b}
        head = per[keys[0]]
        doc: dict[str, Any] = {
            "schema": COMPARE_SCHEMA,
            "run_a": _run_info(ra, rows_a),
            "run_b": _run_info(rb, rows_b),
            "labels": {"a": labels[0], "b": labels[1]},
            "n_shared": len(ids_a & ids_b),
            "only_a": len(ids_a - ids_b),
            "only_b": len(ids_b - ids_a),
            "primary": keys[0],
            "outcome": head["outcome"],
            "verdict": head["verdict"],
            "seed": seed,
            "scope": scope,
            "scorers": per,
        }
        run_id = None
        if save:
            from pilotgate.runs import record_run, run_scope

            sa, sb = run_scope(ra), run_scope(rb)
            run_id = record_run(
                st,
                "compare",
                doc,
                name=name,
                params={"run_a": run_a, "run_b": run_b, "scorers": keys, "seed": seed},
                feature=sb.feature or sa.feature,
                version=sb.version,  # the candidate's: a comparison judges B against A
                eval_set=sb.eval_set if sb.eval_set == sa.eval_set else None,
            )
            doc["run_id"] = run_id
        return CompareResult(run_id, doc)
    finally:
        if not isinstance(store, Store):
            st.close()
