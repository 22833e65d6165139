"""Describe each gap (label, telling descriptors, examples, nearest eval cases) and
turn gaps into suggested cases.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from pilotgate._lexicon import LANGUAGE_NAMES
from pilotgate.records import Case
from pilotgate.shift._descriptors import DESCRIPTORS, Descriptors

__all__ = ["Gap", "describe_gap", "suggest_cases", "telling_descriptors"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.intp]


@dataclass
class Gap:
    """A cluster of uncovered production inputs: what it is about and what it looks like."""

    id: str
    size: int
    share: float
    label: str
    keywords: list[str]
    descriptors: list[dict[str, Any]]
    examples: list[dict[str, Any]]
    nearest_eval: list[dict[str, Any]]
    members: npt.NDArray[np.intp] = field(repr=False)
    #: Estimated size in the full production file when it was sub-sampled.
    estimated_size: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "size": self.size,
            "share": round(self.share, 5),
            "label": self.label,
            "keywords": self.keywords,
            "descriptors": self.descriptors,
            "examples": self.examples,
            "nearest_eval": self.nearest_eval,
        }
        if self.estimated_size is not None:
            out["estimated_size"] = self.estimated_size
        return out


def telling_descriptors(
    gap: Descriptors, eval_d: Descriptors, *, top: int = 4
) -> list[dict[str, Any]]:
    """The descriptors that set a gap apart from the eval set, strongest first.

    A share (language, has code…) counts when the gap has at least 20 % and 20 points
    more than the eval set; a numeric descriptor when the gap's mean is at least 0.8 eval
    standard deviations away (and at least the descriptor's ``min_diff``). Each entry
    carries a ready sentence ("73 % Spanish (eval 0 %)") and the numbers behind it.
    """
    found: list[tuple[float, dict[str, Any]]] = []
    n_g, n_e = max(len(gap), 1), max(len(eval_d), 1)
    langs_g, langs_e = Counter(gap.language), Counter(eval_d.language)
    for lang, cnt in langs_g.items():
        if lang == "und":  # "undetermined" is the absence of a finding, not one
            continue
        g, e = cnt / n_g, langs_e.get(lang, 0) / n_e
        if g >= 0.2 and g - e >= 0.2:
            name = LANGUAGE_NAMES.get(lang, lang.replace("script:", "") + " script")
            text = f"{g:.0%} {name} (eval {e:.0%})"
            found.append((5 * (g - e), _entry("language", lang, g, e, text)))
    for spec in DESCRIPTORS:
        if spec.name == "language":
            continue
        gv, ev = gap.values[spec.name], eval_d.values[spec.name]
        g, e = _nanmean(gv), _nanmean(ev)
        if math.isnan(g) or math.isnan(e):
            continue
        if spec.kind == "binary":
            if g >= 0.2 and g - e >= 0.2:
                text = spec.phrase.format(v=g) + f" (eval {e:.0%})"
                found.append((5 * (g - e), _entry(spec.name, None, g, e, text)))
            continue
        sd = float(np.nanstd(ev)) if np.sum(~np.isnan(ev)) > 1 else 0.0
        # The floor keeps "0.01 vs 0.00" out when the eval set has no spread at all.
        spread = max(sd, spec.min_diff, 1e-9)
        z = (g - e) / spread
        if abs(z) >= 0.8 and abs(g - e) >= spec.min_diff:
            text = spec.phrase.format(v=g) + " (eval " + spec.phrase.format(v=e).split(" ")[0] + ")"
            found.append((min(abs(z), 10.0) / 2, _entry(spec.name, None, g, e, text)))
    found.sort(key=lambda fe: -fe[0])
    return [f for _, f in found[:top]]


def _entry(name: str, category: str | None, g: float, e: float, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "descriptor": name,
        "gap": round(g, 4),
        "eval": round(e, 4),
        "text": text,
    }
    if category is not None:
        out["category"] = category
    return out


def _nanmean(x: npt.NDArray[np.float64]) -> float:
    ok = x[~np.isnan(x)]
    return float(ok.mean()) if len(ok) else math.nan


def describe_gap(
    gid: str,
    members: I64,
    *,
    prod_vecs: F32,
    prod_texts: Sequence[str],
    prod_ids: Sequence[str],
    novelty: npt.NDArray[np.float64],
    eval_vecs: F32,
    eval_texts: Sequence[str],
    eval_ids: Sequence[str],
    n_production: int,
    keywords: list[str],
    descriptors: list[dict[str, Any]],
    n_examples: int = 5,
) -> Gap:
    """Build a :class:`Gap`: representative examples, the eval cases nearest its centroid."""
    cent = prod_vecs[members].mean(axis=0)
    cent /= max(float(np.linalg.norm(cent)), 1e-12)
    # Representative and varied: the member nearest the centroid first, then
    # farthest-point picks among the closer half (so outliers are not "representative").
    closeness = prod_vecs[members] @ cent
    core = members[closeness >= np.median(closeness)] if len(members) > 2 * n_examples else members
    picks = _diverse(core, prod_vecs, prod_texts, n_examples)
    if len(picks) < n_examples:  # the core repeats itself: draw the rest from all members
        seen = {prod_texts[i] for i in picks}
        rest = np.array([i for i in members if prod_texts[int(i)] not in seen], dtype=np.intp)
        picks += _diverse(rest, prod_vecs, prod_texts, n_examples - len(picks))
    examples = [
        {"id": prod_ids[i], "text": _clip(prod_texts[i]), "novelty": round(float(novelty[i]), 4)}
        for i in picks
    ]
    sims = eval_vecs @ cent
    near = np.argsort(-sims, kind="stable")[:3]
    nearest_eval = [
        {
            "id": eval_ids[k],
            "text": _clip(eval_texts[k]),
            "distance": round(1.0 - float(sims[k]), 4),
        }
        for k in near
    ]
    label = " / ".join(keywords[:3]) if keywords else "(no distinctive words)"
    lang = next((d for d in descriptors if d["descriptor"] == "language" and d["gap"] >= 0.5), None)
    if lang is not None:  # say the language first: it is what a reader needs to know
        name = str(lang["text"]).split(" (")[0].split(" ", 1)[1]
        label = f"{name}: {label}"
    return Gap(
        id=gid,
        size=len(members),
        share=len(members) / max(n_production, 1),
        label=label,
        keywords=keywords,
        descriptors=descriptors,
        examples=examples,
        nearest_eval=nearest_eval,
        members=members,
    )


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suggest_cases(
    gaps: Sequence[Gap],
    n: int,
    *,
    prod_vecs: F32,
    prod_texts: Sequence[str],
    prod_ids: Sequence[str],
) -> list[Case]:
    """``n`` cases to add, spread over the gaps, diverse within each.

    Every gap gets one before any gets two (largest first); the rest are shared in
    proportion to gap size. Within a gap, picks start at the member nearest the centroid
    and continue by farthest-point sampling, so five suggestions are five different
    requests, not five copies of the typical one.
    """
    if n <= 0 or not gaps:
        return []
    quota = [0] * len(gaps)
    for k in range(min(n, len(gaps))):
        quota[k] = 1
    left = n - sum(quota)
    total = sum(g.size for g in gaps)
    if left > 0:
        extra = [left * g.size / total for g in gaps]
        add = [int(x) for x in extra]
        for k in sorted(range(len(gaps)), key=lambda k: -(extra[k] - add[k]))[: left - sum(add)]:
            add[k] += 1
        quota = [q + a for q, a in zip(quota, add, strict=True)]
    out: list[Case] = []
    for gap, q in zip(gaps, quota, strict=True):
        for rank, i in enumerate(_diverse(gap.members, prod_vecs, prod_texts, q)):
            out.append(
                Case(
                    id=f"suggested-{gap.id}-{rank + 1}",
                    input=prod_texts[i],
                    tags=["suggested", f"gap:{gap.id}"],
                    source="suggested",
                    origin={"production_id": prod_ids[i], "gap": gap.id, "gap_label": gap.label},
                )
            )
    return out


def _diverse(members: I64, vecs: F32, texts: Sequence[str], q: int) -> list[int]:
    uniq: dict[str, int] = {}
    for i in members:
        uniq.setdefault(texts[int(i)], int(i))
    idx = np.array(list(uniq.values()), dtype=np.intp)
    if q <= 0 or len(idx) == 0:
        return []
    v = vecs[idx]
    cent = v.mean(axis=0)
    picks = [int(np.argmax(v @ cent))]
    best = 1.0 - v @ v[picks[0]]
    best[picks[0]] = -np.inf
    while len(picks) < min(q, len(idx)):
        j = int(np.argmax(best))  # texts can differ with identical vectors: never re-pick
        picks.append(j)
        best = np.minimum(best, 1.0 - v @ v[j])
        best[picks] = -np.inf
    return [int(idx[j]) for j in picks]
