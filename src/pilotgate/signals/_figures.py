"""The silent-user figures, read from the materialised tables with a few GROUP BYs.

Every rate is ``k`` of ``n`` with a Wilson 95 % interval, ``n`` counting only the
interactions (or users) where the signal could be told. Churn is judged only for users
whose first interaction is at least ``return_days`` before the data's end (the others
have not had the chance to come back yet: right-censored, left out and counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from pilotgate._time import to_utc
from pilotgate.store import Store
from pilotgate.usage import Rate

__all__ = ["Counts", "JourneyCounts", "read_counts", "read_journeys", "read_examples"]

FLAGS = ("rephrased", "escalated", "abandoned", "followed_up", "accepted", "off_purpose")


@dataclass
class Counts:
    """Per-slice sums: interactions, outcomes and each signal (k of those it was told)."""

    n: int = 0
    answered: int = 0
    good: int = 0
    bad: int = 0
    unknown: int = 0
    copied: int = 0
    explicit: int = 0
    k: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS, 0))
    told: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS, 0))

    def add(self, other: Counts) -> None:
        for name in ("n", "answered", "good", "bad", "unknown", "copied", "explicit"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for f in FLAGS:
            self.k[f] += other.k[f]
            self.told[f] += other.told[f]

    def rate(self, flag: str) -> Rate:
        return Rate(self.k[flag], self.told[flag])

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "outcome": {"good": self.good, "bad": self.bad, "unknown": self.unknown},
            "implicit_bad_rate": Rate(self.bad, self.n).to_json(),
            "implicit_good_rate": Rate(self.good, self.n).to_json(),
            "explicit_feedback_share": Rate(self.explicit, self.n).to_json(),
            "rephrase_rate": self.rate("rephrased").to_json(),
            "escalation_rate": self.rate("escalated").to_json(),
            "abandonment_rate": self.rate("abandoned").to_json(),
            "copy_rate": Rate(self.copied, self.answered).to_json(),
            "followed_up_rate": self.rate("followed_up").to_json(),
            "off_purpose_rate": self.rate("off_purpose").to_json(),
        }


def _ts(store: Store, value: datetime) -> Any:
    v = to_utc(value)
    return v if store.dialect == "postgresql" else v.replace(tzinfo=None).isoformat(" ")


def _midnight(ts: datetime) -> bool:
    u = to_utc(ts)
    return (u.hour, u.minute, u.second, u.microsecond) == (0, 0, 0, 0)


def _data_end(store: Store, feature: str) -> datetime | None:
    with store.engine.connect() as conn:
        end = conn.execute(
            text("SELECT data_end FROM signal_state WHERE feature = :f"), {"f": feature}
        ).scalar()
    if isinstance(end, str):
        end = datetime.fromisoformat(end)
    return to_utc(end) if isinstance(end, datetime) else None


def read_counts(
    store: Store,
    feature: str,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[tuple[str, str], Counts]:
    """Counts by (version, day): from the daily rollup when the window is whole days
    (or runs past the data's end), else one GROUP BY over the covering index."""
    end = _data_end(store, feature)
    if until is not None and end is not None and until > end:
        until = None
    if (since is None or _midnight(since)) and (until is None or _midnight(until)):
        return _daily(store, feature, version, since, until)
    return _scan(store, feature, version, since, until)


def _daily(
    store: Store,
    feature: str,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[tuple[str, str], Counts]:
    from sqlalchemy import select

    from pilotgate.store import tables as t

    sd = t.signal_daily.c
    q = select(sd.version, sd.day, sd.counts).where(sd.feature == feature)
    if version is not None:
        q = q.where(sd.version == version)
    if since is not None:
        q = q.where(sd.day >= to_utc(since).strftime("%Y-%m-%d"))
    if until is not None:
        q = q.where(sd.day < to_utc(until).strftime("%Y-%m-%d"))
    out: dict[tuple[str, str], Counts] = {}
    with store.engine.connect() as conn:
        for v, d, raw in conn.execute(q):
            c = Counts(int(raw["n"]), int(raw["answered"]), int(raw["good"]), int(raw["bad"]))
            c.unknown = c.n - c.good - c.bad
            c.copied = int(raw["copied"])
            for f in FLAGS:
                c.k[f] = int(raw["k"].get(f, 0))
                c.told[f] = int(raw["t"].get(f, 0))
            c.explicit = c.told["accepted"]
            out[(str(v), str(d))] = c
    return out


def _scan(
    store: Store,
    feature: str,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[tuple[str, str], Counts]:
    """Counts by (version, day) for the filters: one GROUP BY over the covering index."""
    conds, params = ["feature = :feature"], {"feature": feature}
    if version is not None:
        conds.append("version = :version")
        params["version"] = version
    if since is not None:
        conds.append("ts >= :since")
        params["since"] = _ts(store, since)
    if until is not None:
        conds.append("ts < :until")
        params["until"] = _ts(store, until)
    flag_sql = ", ".join(f"SUM({f}), COUNT({f})" for f in FLAGS)
    sql = f"""
        SELECT version, day, COUNT(*), SUM(answered),
               SUM(CASE WHEN outcome = 'good' THEN 1 ELSE 0 END),
               SUM(CASE WHEN outcome = 'bad' THEN 1 ELSE 0 END),
               SUM(copied), {flag_sql}
        FROM interaction_signals WHERE {" AND ".join(conds)}
        GROUP BY version, day"""
    out: dict[tuple[str, str], Counts] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(text(sql), params):
            v, d, n, ans, good, bad, copied, *flags = row
            c = Counts(int(n), int(ans or 0), int(good or 0), int(bad or 0))
            c.unknown = c.n - c.good - c.bad
            c.copied = int(copied or 0)
            for j, f in enumerate(FLAGS):
                c.k[f] = int(flags[2 * j] or 0)
                c.told[f] = int(flags[2 * j + 1] or 0)
            c.explicit = c.told["accepted"]
            out[(str(v), str(d))] = c
    return out


@dataclass
class JourneyCounts:
    """Users by first version and first outcome: how many, and their return days."""

    users: int = 0
    eligible: int = 0
    returned: int = 0
    #: return_day -> users (eligible for that day) who were back by then; and eligible
    back_by: dict[int, int] = field(default_factory=dict)
    eligible_by: dict[int, int] = field(default_factory=dict)

    def churn(self) -> Rate:
        return Rate(self.eligible - self.returned, self.eligible)

    def back(self) -> Rate:
        return Rate(self.returned, self.eligible)


def read_journeys(
    store: Store,
    feature: str,
    return_days: int,
    curve_days: int,
    since: datetime | None,
    until: datetime | None,
) -> tuple[dict[tuple[str, str], JourneyCounts], datetime | None]:
    """Journey counts by (first version, first outcome), and the data end they use."""
    with store.engine.connect() as conn:
        end = conn.execute(
            text("SELECT data_end FROM signal_state WHERE feature = :f"), {"f": feature}
        ).scalar()
        if end is None:
            return {}, None
        if isinstance(end, str):
            end = datetime.fromisoformat(end)
        end = to_utc(end)
        conds, params = ["feature = :f"], {"f": feature}
        if since is not None:
            conds.append("first_ts >= :since")
            params["since"] = _ts(store, since)
        if until is not None:
            conds.append("first_ts < :until")
            params["until"] = _ts(store, until)
        sql = f"""SELECT first_version, first_outcome, first_day, return_day, COUNT(*)
                  FROM user_journeys WHERE {" AND ".join(conds)}
                  GROUP BY first_version, first_outcome, first_day, return_day"""
        rows = list(conn.execute(text(sql), params))
    out: dict[tuple[str, str], JourneyCounts] = {}
    end_day = end.date()
    for v, outcome, first_day, rday, n in rows:
        jc = out.setdefault((str(v), str(outcome)), JourneyCounts())
        n = int(n)
        jc.users += n
        # whole days the user had to come back, counted from the start of their first day
        room = (end_day - datetime.fromisoformat(str(first_day)).date()).days
        if room > return_days:  # a whole N days elapsed, whatever the hour
            jc.eligible += n
            if rday is not None and int(rday) < return_days:
                jc.returned += n
        for d in range(1, curve_days + 1):
            if room > d:
                jc.eligible_by[d] = jc.eligible_by.get(d, 0) + n
                if rday is not None and int(rday) < d:
                    jc.back_by[d] = jc.back_by.get(d, 0) + n
    return out, end


def read_examples(store: Store, feature: str, flag: str, limit: int = 8) -> list[dict[str, Any]]:
    """The latest interactions with ``flag`` set, with the request that followed them."""
    sql = f"""
        SELECT s.interaction_id, a.input, a.output, b.input, s.ts
        FROM interaction_signals s
        JOIN interactions a ON a.id = s.interaction_id
        JOIN interactions b ON b.id = s.next_id
        WHERE s.feature = :f AND s.{flag} = 1
        ORDER BY s.ts DESC, s.interaction_id LIMIT :n"""
    with store.engine.connect() as conn:
        rows = list(conn.execute(text(sql), {"f": feature, "n": limit}))
    return [
        {
            "interaction_id": iid,
            "first": str(first)[:500],
            "answer": None if ans is None else str(ans)[:500],
            "then": str(then)[:500],
        }
        for iid, first, ans, then, _ in rows
    ]


def window_days(since: datetime | None, until: datetime | None) -> timedelta | None:
    if since is None or until is None:
        return None
    return until - since
