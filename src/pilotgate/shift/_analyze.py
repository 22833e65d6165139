"""``analyze_shift``: coverage, gaps, drift and the map, from two lists of texts."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pilotgate._cluster import cluster_points, ctfidf_keywords
from pilotgate._coverage import calibrate, coverage_interval, nearest, novelty
from pilotgate.embeddings import Embedder, EmbeddingCache, EmbedStats, embed_texts, get_embedder
from pilotgate.errors import ConfigError, InputError
from pilotgate.shift._descriptors import DESCRIPTORS, Descriptors, compute_descriptors
from pilotgate.shift._drift import classifier_test, coverage_by_day, early_late
from pilotgate.shift._gaps import Gap, describe_gap, telling_descriptors
from pilotgate.shift._map import pca_map
from pilotgate.shift._result import Coverage, ShiftResult
from pilotgate.shift._stats import (
    TestResult,
    benjamini_hochberg,
    categorical_test,
    numeric_test,
)

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["analyze_shift"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.intp]


def analyze_shift(
    eval_texts: Sequence[str],
    production_texts: Sequence[str],
    *,
    embedder: Embedder | str = "minilm",
    seed: int = 0,
    eval_ids: Sequence[str] | None = None,
    production_ids: Sequence[str] | None = None,
    production_ts: Sequence[datetime | None] | None = None,
    cache: EmbeddingCache | None = None,
    level: float = 0.95,
    alpha: float = 0.01,
    max_production: int = 100_000,
    max_eval: int = 20_000,
    descriptor_sample: int = 10_000,
    min_gap_size: int | None = None,
    progress: bool | None = None,
    store: Store | str | None = None,
    save: bool = True,
    feature: str | None = None,
    version: str | None = None,
    eval_set: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    name: str | None = None,
    notes: Sequence[str] = (),
) -> ShiftResult:
    """Measure how well an eval set covers production, where it does not, and drift.

    Args:
        eval_texts: the eval set's inputs.
        production_texts: production inputs (one per call, duplicates included: they
            are traffic).
        embedder: an :class:`~pilotgate.embeddings.Embedder` or a registered name.
        seed: seeds every sample, bootstrap, split and permutation.
        production_ts: per-input timestamps (None where unknown); with them come the
            early-vs-late drift test and the per-day coverage trend.
        cache: vectors by (backend, text hash), so re-runs embed only new texts.
        level: coverage calibration level: under no shift, about this share of
            production is covered, whatever the two sample sizes.
        alpha: significance level for flagging drift (after Benjamini–Hochberg for
            descriptors).
        max_production: above this, a seeded uniform sample of this size is analysed
            and the coverage interval reflects the sample size.
        max_eval: the same cap for the eval set.
        descriptor_sample: descriptors are compared on at most this many inputs per side.
        min_gap_size: smallest cluster reported as a gap (default: max(5, 0.2 % of the
            analysed production)).
        store: a Store or URL to record the run in (kind ``shift``, the uncovered inputs
            as result rows); None records nothing.
        save: with ``store``, False skips recording.
        feature, version: what the production inputs are traffic of (the gate selects
            shift runs by them).
        eval_set: ``name@version`` of the stored eval set the eval inputs came from.
        inputs: where the inputs came from otherwise (files, stored production).
        name: the stored run's label.
        notes: notes to carry into the document (e.g. skipped input lines).
    """
    timings: dict[str, float] = {}
    extra_notes, notes = list(notes), []
    t0 = time.perf_counter()
    _check_inputs(eval_texts, production_texts)
    eval_texts, production_texts = _clean(eval_texts), _clean(production_texts)
    emb = get_embedder(embedder) if isinstance(embedder, str) else embedder
    if not isinstance(emb, Embedder):
        raise ConfigError(
            f"{type(emb).__name__} is not an Embedder",
            fix="pass an object with name, dim and embed(texts), or a backend name",
        )
    rng = np.random.default_rng(seed)
    n_eval_all, n_prod_all = len(eval_texts), len(production_texts)
    e_ids = list(eval_ids) if eval_ids is not None else [f"eval-{i}" for i in range(n_eval_all)]
    p_ids = (
        list(production_ids)
        if production_ids is not None
        else [f"prod-{i}" for i in range(n_prod_all)]
    )
    if len(e_ids) != n_eval_all or len(p_ids) != n_prod_all:
        raise ConfigError("ids must have one entry per text", fix="pass matching lists")
    e_sel = _sample(n_eval_all, max_eval, rng)
    p_sel = _sample(n_prod_all, max_production, rng)
    sample_info = {
        "method": "uniform" if len(p_sel) < n_prod_all else "none",
        "production": {"analysed": len(p_sel), "of": n_prod_all},
        "eval": {"analysed": len(e_sel), "of": n_eval_all},
        "seed": seed,
    }
    if len(p_sel) < n_prod_all:
        notes.append(
            f"production sub-sampled uniformly: {len(p_sel)} of {n_prod_all} (seed {seed}); "
            "coverage and its interval are estimated from the sample"
        )
    # Eval duplicates are kept: when the eval set is a sample of production, repeated
    # requests are repeated in both, and calibration is exact only if both keep them.
    ev_texts = [eval_texts[int(i)] for i in e_sel]
    ev_ids = [e_ids[int(i)] for i in e_sel]
    pr_texts = [production_texts[int(i)] for i in p_sel]
    pr_ids = [p_ids[int(i)] for i in p_sel]
    pr_ts = [_utc(production_ts[int(i)]) for i in p_sel] if production_ts is not None else None

    stats = EmbedStats()
    ev_vecs = embed_texts(
        emb, ev_texts, cache=cache, progress=progress, label="embedding eval", stats=stats
    )
    pr_vecs = embed_texts(
        emb, pr_texts, cache=cache, progress=progress, label="embedding production", stats=stats
    )
    timings["embed"] = stats.seconds

    t = time.perf_counter()
    cal = calibrate(ev_vecs, level=level)
    # Repeated production texts (common in real traffic) need one search, not many.
    first_of: dict[str, int] = {}
    inverse = np.fromiter(
        (first_of.setdefault(x, len(first_of)) for x in pr_texts),
        dtype=np.intp,
        count=len(pr_texts),
    )
    rep = np.zeros(len(first_of), dtype=np.intp)
    rep[inverse[::-1]] = np.arange(len(pr_texts))[::-1]
    dist, _ = nearest(ev_vecs, pr_vecs[rep])
    d = dist[inverse, 0]
    nov = novelty(cal, d)
    covered = d <= cal.tau
    ci = coverage_interval(cal, d, seed=seed)
    if len(ev_texts) < 30:
        notes.append(
            f"only {len(ev_texts)} distinct eval inputs: the coverage threshold is uncertain "
            "(see the interval)"
        )
    coverage = Coverage(float(covered.mean()), ci, int(covered.sum()), len(d), level, cal.tau)
    timings["coverage"] = time.perf_counter() - t

    t = time.perf_counter()
    uncovered = np.flatnonzero(~covered)
    min_size = min_gap_size if min_gap_size is not None else max(5, math.ceil(0.002 * len(d)))
    groups = _cluster_gaps(uncovered, pr_vecs, cal.tau, min_size, seed)
    timings["clustering"] = time.perf_counter() - t

    t = time.perf_counter()
    # Descriptors: a uniform sample for the eval-vs-production tests, plus up to 400
    # members of each gap for what sets the gap apart.
    d_sample = _sample_mask_indices(len(pr_texts), descriptor_sample, seed)
    g_rng = np.random.default_rng([seed, 5])
    gap_samples = [g[_sample(len(g), 400, g_rng)] for g in groups]
    desc_idx = np.union1d(d_sample, np.concatenate([np.zeros(0, np.intp), *gap_samples]))
    ev_desc_idx = _sample(len(ev_texts), descriptor_sample, rng)
    prod_desc = compute_descriptors([pr_texts[int(i)] for i in desc_idx])
    eval_desc = compute_descriptors([ev_texts[int(i)] for i in ev_desc_idx])
    pos = {int(i): k for k, i in enumerate(desc_idx)}
    groups, gap_samples = _merge_language_gaps(groups, gap_samples, prod_desc, pos, eval_desc)
    timings["descriptors"] = time.perf_counter() - t

    t = time.perf_counter()
    in_sample = np.isin(desc_idx, d_sample)
    descriptor_drift = _descriptor_tests(
        eval_desc, prod_desc.take(np.flatnonzero(in_sample)), alpha
    )
    timings["descriptor_tests"] = time.perf_counter() - t

    t = time.perf_counter()
    gaps, gap_of = _describe_gaps(
        groups, gap_samples, pr_vecs, pr_texts, pr_ids, nov, ev_vecs, ev_texts, ev_ids,
        prod_desc, pos, eval_desc, uncovered, seed, n_prod_all,
    )  # fmt: skip
    scattered = int(len(uncovered) - sum(g.size for g in gaps))
    timings["gaps"] = time.perf_counter() - t

    t = time.perf_counter()
    drift = [classifier_test("eval_vs_production", ev_vecs, pr_vecs, seed=seed, alpha=alpha)]
    by_day: list[dict[str, object]] = []
    if pr_ts is not None:
        window = early_late(pr_ts, pr_vecs, seed, alpha)
        if window is not None:
            drift.append(window)
        else:
            notes.append("early-vs-late drift skipped: too few timestamped inputs")
        by_day = coverage_by_day(pr_ts, covered)
    timings["drift"] = time.perf_counter() - t

    t = time.perf_counter()
    pmap = pca_map(ev_vecs, ev_ids, pr_vecs, pr_ids, gap_of, seed)
    timings["map"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    result = ShiftResult(
        embedder=emb.name,
        seed=seed,
        n_eval=n_eval_all,
        n_production=n_prod_all,
        n_production_analyzed=len(pr_texts),
        coverage=coverage,
        gaps=gaps,
        scattered=scattered,
        embedding_drift=drift,
        descriptor_drift=descriptor_drift,
        coverage_by_day=by_day,
        map=pmap,
        production_ids=pr_ids,
        distance=d,
        novelty=nov,
        covered=covered,
        gap_of=gap_of,
        production_texts=pr_texts,
        production_vectors=pr_vecs,
        sample=sample_info,
        timings=timings,
        notes=extra_notes + notes,
        scope={"feature": feature, "version": version, "eval_set": eval_set, "inputs": inputs},
    )
    if store is not None and save:
        from pilotgate.shift._record import record_shift

        result.run_id = record_shift(result, store, name=name, level=level)
    return result


def _clean(texts: Sequence[str]) -> list[str]:
    """Make every text encodable: lone surrogates (from lossy decoding) become U+FFFD."""
    out = list(texts)
    for i, t in enumerate(out):
        if not t.isascii():
            try:
                t.encode("utf-8")
            except UnicodeEncodeError:
                out[i] = t.encode("utf-8", "replace").decode("utf-8")
    return out


def _check_inputs(eval_texts: Sequence[str], production_texts: Sequence[str]) -> None:
    for what, seq in (("eval", eval_texts), ("production", production_texts)):
        if isinstance(seq, str):
            raise ConfigError(f"{what} texts must be a list of strings, not one string")
        if len(seq) == 0:
            raise InputError(
                f"the {what} set is empty",
                fix=f"give at least one {what} input (two or more eval cases to calibrate)",
            )
        for i, x in enumerate(seq):
            if not isinstance(x, str):
                raise InputError(f"{what} input {i} is {type(x).__name__}, not str")


def _utc(ts: datetime | None) -> datetime | None:
    """Timestamps in UTC (a naive one is taken as UTC), so days are UTC days."""
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _sample(n: int, cap: int, rng: np.random.Generator) -> I64:
    if n <= cap:
        return np.arange(n, dtype=np.intp)
    return np.sort(rng.choice(n, size=cap, replace=False)).astype(np.intp)


def _sample_mask_indices(n: int, cap: int, seed: int) -> I64:
    """The descriptor comparison sample, drawn from its own stream (independent of gaps)."""
    return _sample(n, cap, np.random.default_rng([seed, 7]))


def _descriptor_tests(eval_d: Descriptors, prod_d: Descriptors, alpha: float) -> list[TestResult]:
    results: list[TestResult] = []
    for spec in DESCRIPTORS:
        if spec.name == "language":
            results.append(categorical_test("language", eval_d.language, prod_d.language))
        elif spec.kind == "binary":
            e = ["yes" if x else "no" for x in eval_d.values[spec.name]]
            p = ["yes" if x else "no" for x in prod_d.values[spec.name]]
            results.append(categorical_test(spec.name, e, p))
        else:
            results.append(
                numeric_test(
                    spec.name, spec.kind, eval_d.values[spec.name], prod_d.values[spec.name]
                )
            )
    qs = benjamini_hochberg([r.p_value for r in results])
    for r, q in zip(results, qs, strict=True):
        r.q_value = q
        r.flagged = q < alpha and r.psi >= 0.1
    return results


def _cluster_gaps(uncovered: I64, pr_vecs: F32, tau: float, min_size: int, seed: int) -> list[I64]:
    """Clusters of uncovered inputs as index arrays into production, largest first.

    The linkage cut is twice the coverage radius (members of one gap may differ about as
    much as two production inputs covered by the same eval case), but at most 0.8 times
    the median distance between two random production inputs: a small eval set makes the
    radius wide, and a cut near the typical distance would merge unrelated requests into
    one catch-all gap. Clipped to [0.3, 0.9].
    """
    rng = np.random.default_rng([seed, 17])
    probe = pr_vecs[_sample(len(pr_vecs), 1_000, rng)]
    pairs = 1.0 - probe @ probe.T
    typical = float(np.median(pairs[np.triu_indices(len(probe), 1)])) if len(probe) > 1 else 1.0
    threshold = float(np.clip(min(2.0 * tau, 0.8 * typical), 0.3, 0.9))
    labels = cluster_points(pr_vecs[uncovered], threshold=threshold, min_size=min_size, seed=seed)
    k = int(labels.max()) + 1 if len(labels) else 0
    groups = [uncovered[labels == c] for c in range(k)]
    groups.sort(key=lambda g: -len(g))
    return groups


def _merge_language_gaps(
    groups: list[I64],
    gap_samples: list[I64],
    prod_desc: Descriptors,
    pos: dict[int, int],
    eval_desc: Descriptors,
    *,
    min_share: float = 0.6,
    max_eval_share: float = 0.02,
) -> tuple[list[I64], list[I64]]:
    """Merge clusters that are mostly in one language the eval set (almost) lacks.

    Why: requests in a missing language split by topic (Spanish refunds, Spanish
    deliveries…), but the finding is one: "the eval set has no Spanish". Clusters at least
    ``min_share`` in a language under ``max_eval_share`` of the eval set become one gap.
    """
    n_eval = max(len(eval_desc), 1)
    eval_share = {lang: k / n_eval for lang, k in Counter(eval_desc.language).items()}
    by_lang: dict[str, list[int]] = {}
    for c, sample in enumerate(gap_samples):
        langs = Counter(prod_desc.language[pos[int(i)]] for i in sample)
        lang, k = langs.most_common(1)[0] if langs else ("und", 0)
        if (
            lang != "und"
            and k >= min_share * len(sample)
            and eval_share.get(lang, 0.0) < max_eval_share
        ):
            by_lang.setdefault(lang, []).append(c)
    merged = {c for cs in by_lang.values() if len(cs) > 1 for c in cs}
    if not merged:
        return groups, gap_samples
    new_groups = [g for c, g in enumerate(groups) if c not in merged]
    new_samples = [g for c, g in enumerate(gap_samples) if c not in merged]
    for cs in by_lang.values():
        if len(cs) > 1:
            new_groups.append(np.sort(np.concatenate([groups[c] for c in cs])))
            new_samples.append(np.sort(np.concatenate([gap_samples[c] for c in cs])))
    order = sorted(range(len(new_groups)), key=lambda c: -len(new_groups[c]))
    return [new_groups[c] for c in order], [new_samples[c] for c in order]


def _describe_gaps(
    groups: list[I64],
    gap_samples: list[I64],
    pr_vecs: F32,
    pr_texts: list[str],
    pr_ids: list[str],
    nov: npt.NDArray[np.float64],
    ev_vecs: F32,
    ev_texts: list[str],
    ev_ids: list[str],
    prod_desc: Descriptors,
    pos: dict[int, int],
    eval_desc: Descriptors,
    uncovered: I64,
    seed: int,
    n_prod_all: int,
) -> tuple[list[Gap], list[str | None]]:
    gap_of: list[str | None] = [None] * len(pr_texts)
    if not groups:
        return [], gap_of
    rng = np.random.default_rng([seed, 11])
    bg_idx = np.setdiff1d(np.arange(len(pr_texts)), uncovered)
    bg_idx = bg_idx[_sample(len(bg_idx), 5_000, rng)]
    background = [pr_texts[int(i)] for i in bg_idx] + ev_texts[:5_000]
    keywords = ctfidf_keywords([[pr_texts[int(i)] for i in g[:2_000]] for g in groups], background)
    gaps: list[Gap] = []
    scale = n_prod_all / max(len(pr_texts), 1)
    for c, members in enumerate(groups):
        gid = f"gap-{c + 1}"
        gdesc = prod_desc.take([pos[int(i)] for i in gap_samples[c]])
        gap = describe_gap(
            gid,
            members,
            prod_vecs=pr_vecs,
            prod_texts=pr_texts,
            prod_ids=pr_ids,
            novelty=nov,
            eval_vecs=ev_vecs,
            eval_texts=ev_texts,
            eval_ids=ev_ids,
            n_production=len(pr_texts),
            keywords=keywords[c],
            descriptors=telling_descriptors(gdesc, eval_desc),
        )
        if scale > 1:
            gap.estimated_size = round(len(members) * scale)
        gaps.append(gap)
        for i in members:
            gap_of[int(i)] = gid
    return gaps, gap_of
