"""From per-case rows to the ``pilotgate.eval/1`` numbers: per scorer, per tag, per cluster."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pilotgate._stats import wilson
from pilotgate.evaluate._stats import mean_ci
from pilotgate.scoring import BoundScorer, is_scored

__all__ = ["judge_agreement", "scorer_stats", "summarize"]


def _values(
    rows: Iterable[Mapping[str, Any]], key: str
) -> tuple[list[float], list[bool], Counter[str]]:
    """The scored values and verdicts of one scorer, and why the other cases were not scored."""
    vals: list[float] = []
    passed: list[bool] = []
    unscored: Counter[str] = Counter()
    for r in rows:
        s = (r.get("scores") or {}).get(key)
        if s is None:
            continue
        if not is_scored(s):
            unscored[str(s.get("detail") or "not scored")] += 1
            continue
        vals.append(float(s["value"]))
        passed.append(bool(s["passed"]))
    return vals, passed, unscored


def judge_agreement(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, Any] | None:
    """How much a judge agreed with itself across repeats, over the rows it scored.

    Returns None when ``key`` is not a judge; ``agreement`` is None when it ran once.
    Rows whose call failed (no judge record) do not count.
    """
    records = [
        s["judge"]
        for r in rows
        if isinstance(s := (r.get("scores") or {}).get(key), Mapping) and "judge" in s
    ]
    if not records:
        return None
    measured = [float(j["agreement"]) for j in records if j.get("agreement") is not None]
    repeats = max(int(j.get("repeats", 1)) for j in records)
    return {
        "repeats": repeats,
        "n": len(records),
        "n_measured": len(measured),
        "agreement": round(sum(measured) / len(measured), 6) if measured else None,
        "unanimous_share": (
            round(sum(1 for a in measured if a >= 1.0) / len(measured), 6) if measured else None
        ),
        "calls": sum(int(j.get("calls", 0)) for j in records),
        "cached": sum(int(j.get("cached", 0)) for j in records),
        "unparsed": sum(1 for j in records if j.get("errors")),
    }


def scorer_stats(
    rows: Sequence[Mapping[str, Any]], key: str, *, seed: int = 0, brief: bool = False
) -> dict[str, Any]:
    """Mean value with its 95 % interval and the pass rate with Wilson's, for one scorer.

    Over the cases the scorer could judge only: ``n`` (= ``n_scored``) counts them,
    ``n_unscored`` the others and ``unscored_reasons`` says why ({reason: count}).
    """
    vals, passed, unscored = _values(rows, key)
    iv = mean_ci(vals, seed=seed).to_json()
    n_pass = sum(passed)
    pass_ci = wilson(n_pass, len(passed))
    out: dict[str, Any] = {
        **iv,
        "n_scored": len(vals),
        "n_unscored": sum(unscored.values()),
        "unscored_reasons": dict(unscored.most_common()),
        "passed": n_pass,
        "pass_rate": round(n_pass / len(passed), 6) if passed else None,
        "pass_ci95": None if pass_ci is None else [round(pass_ci[0], 6), round(pass_ci[1], 6)],
    }
    if brief:
        return {k: out[k] for k in ("n", "n_unscored", "mean", "ci95", "pass_rate")}
    return out


def _group_stats(
    rows: Sequence[Mapping[str, Any]],
    keys: Iterable[str],
    groups: Mapping[str, list[Mapping[str, Any]]],
    seed: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for g in sorted(groups, key=lambda g: (-len(groups[g]), g)):
        members = groups[g]
        out[g] = {"n": len(members)} | {
            k: scorer_stats(members, k, seed=seed, brief=True) for k in keys
        }
    return out


def _percentile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    i = min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))
    return round(xs[i], 3)


def summarize(
    rows: Sequence[Mapping[str, Any]], scorers: Mapping[str, BoundScorer], *, seed: int = 0
) -> dict[str, Any]:
    """Per-scorer means with 95 % intervals, per tag and per cluster, errors and latency.

    A case whose target call failed counts as failed for every scorer (it is what the
    user would have got), and is also counted under ``errors``. A case a scorer could not
    judge (no reference, no judge verdict) is left out of that scorer's numbers and
    counted in its ``n_unscored``.
    """
    keys = list(scorers)
    by_tag: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_cluster: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        for tag in r.get("tags") or []:
            by_tag[str(tag)].append(r)
        if r.get("cluster") is not None:
            by_cluster[str(r["cluster"])].append(r)
    errors = Counter(str(r["error"]) for r in rows if r.get("error"))
    latencies = [float(r["latency_ms"]) for r in rows if r.get("latency_ms") is not None]
    scorer_docs: dict[str, Any] = {}
    for k in keys:
        doc = {**scorers[k].describe(), **scorer_stats(rows, k, seed=seed)}
        agreement = judge_agreement(rows, k)
        if agreement is not None:
            doc["judge"] = agreement
        scorer_docs[k] = doc
    return {
        "n_cases": len(rows),
        "n_ok": len(rows) - sum(errors.values()),
        "n_errors": sum(errors.values()),
        "errors": dict(errors.most_common()),
        "n_cached": sum(1 for r in rows if r.get("cached")),
        "scorers": _jsonable(scorer_docs),
        "by_tag": _group_stats(rows, keys, by_tag, seed),
        "by_cluster": _group_stats(rows, keys, by_cluster, seed),
        "latency_ms": {
            "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95),
            "max": _percentile(latencies, 1.0),
        },
    }


def _jsonable(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj, default=str))
