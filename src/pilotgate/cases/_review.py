"""The review queue: people accept, write, tag or drop references; versions record it.

Design (docs/cases.md, "Review"): a review is stored the moment it is made (the
``reviews`` table: set, case, action, reference, tags, who, when), so nothing is lost
when a session ends abruptly and the terminal and browser queues share one state. Eval
set versions stay immutable: :func:`apply_reviews` folds every review made since the
last application into the newest version and saves the result as the next version
(``pilotgate cases apply-reviews NAME``, or ``cases review --apply`` at session end).
Which reviews a version already contains is recorded in its params
(``reviews_through``: the highest review id applied), so applying twice is a no-op.
"""

from __future__ import annotations

import getpass
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import select

from pilotgate.errors import InputError
from pilotgate.records import Case
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = [
    "DECISIVE",
    "REVIEW_ACTIONS",
    "ApplyResult",
    "Decision",
    "Review",
    "apply_reviews",
    "default_reviewer",
    "latest_reviews",
    "list_reviews",
    "pending_reviews",
    "record_review",
    "review_decisions",
]

#: accept the production output as reference · write a reference · add tags · skip for
#: now · drop the case from the set.
REVIEW_ACTIONS = ("accept", "reference", "tag", "skip", "drop")
#: Actions that take a case out of the queue.
DECISIVE = frozenset({"accept", "reference", "drop"})


@dataclass(frozen=True)
class Review:
    """One stored review."""

    id: int
    set_name: str
    case_id: str
    action: str
    reference: str | None
    tags: list[str]
    reviewer: str
    ts: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "set": self.set_name,
            "case_id": self.case_id,
            "action": self.action,
            "reference": self.reference,
            "tags": list(self.tags),
            "reviewer": self.reviewer,
            "ts": self.ts.isoformat(),
        }


def default_reviewer() -> str:
    """``$USER`` (or the login name), else ``"unknown"``."""
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _newest(store: Store, name: str) -> tuple[dict[str, Any], list[Case]]:
    if "@" in name:
        raise InputError(
            f"reviews apply to an eval set's newest version, not to {name!r}",
            fix=f"use the bare name {name.partition('@')[0]!r}",
        )
    meta, rows = store.get_eval_set(name)
    return meta, [Case.model_validate(r) for r in rows]


def record_review(
    store: Store,
    name: str,
    case_id: str,
    action: str,
    reference: str | None = None,
    tags: Sequence[str] | None = None,
    reviewer: str | None = None,
) -> Review:
    """Store one review of case ``case_id`` in the newest version of eval set ``name``.

    Args:
        action: one of :data:`REVIEW_ACTIONS`.
        reference: the reference text (required for ``reference``).
        tags: tags to add (required for ``tag``; allowed with any action).
        reviewer: who; default :func:`default_reviewer`.

    Raises:
        InputError: unknown set, case or action, or a missing reference/tags/output.
    """
    if action not in REVIEW_ACTIONS:
        raise InputError(
            f"unknown review action {action!r}", fix=f"use one of {', '.join(REVIEW_ACTIONS)}"
        )
    clean_tags = [s.strip() for s in (tags or []) if s and s.strip()]
    if action == "reference" and not (reference and reference.strip()):
        raise InputError("a 'reference' review needs the reference text")
    if action == "tag" and not clean_tags:
        raise InputError("a 'tag' review needs at least one tag")
    _, cases = _newest(store, name)
    case = next((c for c in cases if c.id == case_id), None)
    if case is None:
        raise InputError(
            f"no case {case_id!r} in the newest version of {name!r}",
            fix=f"list them with `pilotgate cases show {name}`",
        )
    if action == "accept" and (case.origin or {}).get("output") is None:
        raise InputError(
            f"case {case_id!r} has no recorded output to accept",
            fix="write a reference instead (action 'reference')",
        )
    who = reviewer or default_reviewer()
    now = datetime.now(UTC)
    ref = reference if action == "reference" else None  # only a 'reference' review keeps one
    with store.engine.begin() as conn:
        rid = conn.execute(
            t.reviews.insert()
            .values(
                set_name=name,
                case_id=case_id,
                action=action,
                reference=ref,
                tags=clean_tags or None,
                reviewer=who,
                ts=now,
            )
            .returning(t.reviews.c.id)
        ).scalar_one()
    return Review(int(rid), name, case_id, action, ref, clean_tags, who, now)


def list_reviews(store: Store, name: str, *, after_id: int = 0) -> list[Review]:
    """Reviews of eval set ``name`` in the order they were made (ids above ``after_id``)."""
    r = t.reviews
    q = select(r).where(r.c.set_name == name, r.c.id > after_id).order_by(r.c.id)
    with store.engine.connect() as conn:
        return [
            Review(
                int(row["id"]),
                row["set_name"],
                row["case_id"],
                row["action"],
                row["reference"],
                list(row["tags"] or []),
                row["reviewer"],
                row["ts"],
            )
            for row in conn.execute(q).mappings()
        ]


def latest_reviews(store: Store, name: str) -> dict[str, dict[str, Any]]:
    """The newest review of each case of eval set ``name``, as stored rows by case id."""
    r = t.reviews
    q = select(r).where(r.c.set_name == name).order_by(r.c.ts, r.c.id)
    with store.engine.connect() as conn:
        return {str(row["case_id"]): dict(row) for row in conn.execute(q).mappings()}


def pending_reviews(store: Store, name: str) -> list[Case]:
    """Cases of the newest version still waiting for a decision, skipped ones last.

    A case leaves the queue once it has an ``accept``, ``reference`` or ``drop``
    review; ``tag`` and ``skip`` leave it in (a skipped case comes back after the
    others).
    """
    _, cases = _newest(store, name)
    decided: set[str] = set()
    skipped: set[str] = set()
    for rv in list_reviews(store, name):
        if rv.action in DECISIVE:
            decided.add(rv.case_id)
        elif rv.action == "skip":
            skipped.add(rv.case_id)
    todo = [c for c in cases if c.id not in decided]
    return [c for c in todo if c.id not in skipped] + [c for c in todo if c.id in skipped]


@dataclass
class ApplyResult:
    """What :func:`apply_reviews` did: the new version (None if nothing to apply)."""

    SCHEMA: ClassVar[str] = "pilotgate.cases.apply-reviews/1"

    name: str
    base_version: int
    version: int | None
    applied: dict[str, int] = field(default_factory=dict)
    stale: int = 0
    n_cases: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "name": self.name,
            "base_version": self.base_version,
            "version": self.version,
            "applied": dict(self.applied),
            "stale": self.stale,
            "n_cases": self.n_cases,
        }


def _reviews_through(store: Store, name: str) -> int:
    through = 0
    for meta in store.list_eval_sets():
        if meta["name"] == name:
            through = max(through, int((meta.get("params") or {}).get("reviews_through", 0)))
    return through


def apply_reviews(store: Store, name: str, *, description: str | None = None) -> ApplyResult:
    """Fold the reviews made since the last application into a new version of ``name``.

    Reviews apply in the order they were made; for one case the last reference wins,
    tags accumulate and ``drop`` removes it. Reviews of cases no longer in the newest
    version are counted as ``stale`` and otherwise ignored.
    """
    meta, cases = _newest(store, name)
    reviews = list_reviews(store, name, after_id=_reviews_through(store, name))
    result = ApplyResult(name, int(meta["version"]), None, n_cases=len(cases))
    if not reviews:
        return result
    by_id = {c.id: c.model_copy(deep=True) for c in cases}
    dropped: set[str] = set()
    counts: Counter[str] = Counter()
    for rv in reviews:
        case = by_id.get(rv.case_id)
        if case is None:
            result.stale += 1
            continue
        counts[rv.action] += 1
        origin = dict(case.origin or {})
        if rv.action == "drop":
            dropped.add(rv.case_id)
        elif rv.action in ("accept", "reference"):
            case.expected = origin.get("output") if rv.action == "accept" else rv.reference
            origin["reference_source"] = "reviewer"
            origin["review"] = {
                "action": rv.action,
                "reviewer": rv.reviewer,
                "ts": rv.ts.isoformat(),
                "review_id": rv.id,
            }
        for tag in rv.tags:
            if tag not in case.tags:
                case.tags.append(tag)
        case.origin = origin or None
    result.applied = dict(counts)
    if not (dropped or counts["accept"] or counts["reference"] or any(rv.tags for rv in reviews)):
        return result  # only skips: nothing changes, no new version
    kept = [by_id[c.id] for c in cases if c.id not in dropped]
    result.version = store.save_eval_set(
        name,
        [c.model_dump(mode="json", exclude_none=True) for c in kept],
        params={
            "kind": "review",
            "base_version": int(meta["version"]),
            "reviews_through": max(rv.id for rv in reviews),
            "applied": dict(counts),
        },
        description=description or f"reviews applied to {name}@{meta['version']}",
    )
    result.n_cases = len(kept)
    return result


@dataclass
class Decision:
    """Everything reviewers decided about one case id, folded in review order."""

    action: str | None = None  # the last of accept / reference / drop
    reference: str | None = None
    tags: list[str] = field(default_factory=list)
    review: dict[str, Any] | None = None


def review_decisions(store: Store, name: str) -> dict[str, Decision]:
    """Per case id, the reviewers' standing decision over all reviews of ``name``.

    Why builds need it: a case id is its interaction id, so a rebuild can meet a case a
    reviewer already dropped (it stays out) or gave a reference (it keeps it).
    """
    out: dict[str, Decision] = {}
    for rv in list_reviews(store, name):
        d = out.setdefault(rv.case_id, Decision())
        if rv.action in DECISIVE:
            d.action = rv.action
            d.reference = rv.reference if rv.action == "reference" else None
            d.review = {
                "action": rv.action,
                "reviewer": rv.reviewer,
                "ts": rv.ts.isoformat(),
                "review_id": rv.id,
            }
        d.tags.extend(t for t in rv.tags if t not in d.tags)
    return out
