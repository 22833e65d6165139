"""The SQL behind the usage report: every query groups in the database.

Each returns a few rows per (version, day, bucket), never a row per interaction, so a
report over a million interactions moves kilobytes, not the table. Latencies and dwell
times are grouped into log buckets ``round(ln(x + 1) * 200)`` (≤ 0.25 % rounding) where
the database has ``ln`` (PostgreSQL; SQLite built with math functions), exact values
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from pilotgate._time import to_utc
from pilotgate.store import Store

__all__ = ["Filters", "Queries"]

SCALE = 200.0


@dataclass(frozen=True)
class Filters:
    """Which interactions the report covers."""

    feature: str | None = None
    version: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    project: str | None = None
    """One project's interactions (None: every project's)."""
    metadata: tuple[tuple[str, str], ...] = ()  # metadata key = value (compared as text)
    missing_key: str | None = None  # interactions whose metadata lacks this key


class Queries:
    """Dialect-aware SQL for one store.

    ``feedback CROSS JOIN interactions`` is an inner join that tells SQLite to drive from
    feedback (far fewer rows) and look interactions up by key; PostgreSQL plans it freely.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pg = store.dialect == "postgresql"
        self.log_buckets = self.pg or self._sqlite_has_ln()

    def _sqlite_has_ln(self) -> bool:
        try:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT ln(2.0)"))
            return True
        except OperationalError:
            return False

    # ---------------------------------------------------------------- pieces
    def day(self, col: str) -> str:
        if self.pg:
            return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        return f"substr({col}, 1, 10)"

    def bucket(self, col: str) -> str:
        if self.log_buckets:
            return f"CAST(round(ln({col} + 1) * {SCALE:.0f}) AS INTEGER)"
        return col

    def decode(self, bucket: Any) -> float:
        if self.log_buckets:
            return math.exp(int(bucket) / SCALE) - 1
        return float(bucket)

    def _ts(self, value: datetime) -> Any:
        v = to_utc(value)
        return v if self.pg else v.replace(tzinfo=None).isoformat(" ", "microseconds")

    def where(
        self, f: Filters, alias: str = "i", *, by_session: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """The filter's SQL. ``by_session``: the rows are found through the session index,
        so keep SQLite from picking a feature index instead (unary ``+``), which would turn
        a per-session lookup into a scan of the feature."""
        conds, params = [], {}
        plus = "+" if by_session and not self.pg else ""
        if f.feature is not None:
            conds.append(f"{plus}{alias}.feature = :feature")
            params["feature"] = f.feature
        if f.version is not None:
            conds.append(f"{plus}{alias}.version = :version")
            params["version"] = f.version
        if f.project is not None:
            conds.append(f"{alias}.project = :project")
            params["project"] = f.project
        if f.since is not None:
            conds.append(f"{alias}.ts >= :since")
            params["since"] = self._ts(f.since)
        if f.until is not None:
            conds.append(f"{alias}.ts < :until")
            params["until"] = self._ts(f.until)
        for k, (key, value) in enumerate(f.metadata):
            conds.append(f"{self.meta(alias, f':mk{k}')} = :mv{k}")
            params[f"mk{k}"], params[f"mv{k}"] = self.meta_path(key), value
        if f.missing_key is not None:
            conds.append(f"{self.meta(alias, ':mkx')} IS NULL")
            params["mkx"] = self.meta_path(f.missing_key)
        return (" AND ".join(conds) or "1=1"), params

    def meta(self, alias: str, path_param: str) -> str:
        """A metadata value as text (SQLite ``json_extract``; PostgreSQL ``->>``)."""
        if self.pg:
            return f"({alias}.metadata ->> {path_param})"
        return f"CAST(json_extract({alias}.metadata, {path_param}) AS TEXT)"

    def meta_path(self, key: str) -> str:
        return key if self.pg else f'$."{key}"'

    def metadata_values(self, f: Filters, key: str, limit: int) -> list[str | None]:
        """The ``limit`` most frequent values of metadata ``key`` (None: the key is absent)."""
        where, params = self.where(f)
        params["mkey"] = self.meta_path(key)
        sql = f"""
            SELECT {self.meta("i", ":mkey")} AS v, COUNT(*) AS n
            FROM interactions i WHERE {where}
            GROUP BY v ORDER BY n DESC, v LIMIT {int(limit)}"""
        return [None if r[0] is None else str(r[0]) for r in self._run(sql, params)]

    def _run(self, sql: str, params: dict[str, Any]) -> list[Any]:
        conn: Connection
        with self.store.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    # --------------------------------------------------------------- queries
    def interactions(self, f: Filters) -> list[Any]:
        """(version, day, latency bucket, n, errors)."""
        where, params = self.where(f)
        sql = f"""
            SELECT i.version, {self.day("i.ts")} AS d, {self.bucket("i.latency_ms")} AS b,
                   COUNT(*), SUM(CASE WHEN i.error IS NOT NULL THEN 1 ELSE 0 END)
            FROM interactions i WHERE {where}
            GROUP BY i.version, d, b"""
        return self._run(sql, params)

    def tokens(self, f: Filters) -> list[Any]:
        """(metadata.model, day, n, n with token counts, tokens in, tokens out)."""
        where, params = self.where(f)
        params["mmodel"] = self.meta_path("model")
        model = self.meta("i", ":mmodel")
        sql = f"""
            SELECT {model} AS m, {self.day("i.ts")} AS d, COUNT(*),
                   SUM(CASE WHEN i.tokens_in IS NOT NULL OR i.tokens_out IS NOT NULL
                       THEN 1 ELSE 0 END),
                   SUM(i.tokens_in), SUM(i.tokens_out)
            FROM interactions i WHERE {where}
            GROUP BY m, d"""
        return self._run(sql, params)

    def feedback(self, f: Filters) -> list[Any]:
        """(version, day, dwell bucket, n, accepted, rejected, edited) by the answer's day."""
        where, params = self.where(f)
        sql = f"""
            SELECT i.version, {self.day("i.ts")} AS d, {self.bucket("fb.dwell_ms")} AS b,
                   COUNT(*),
                   SUM(CASE WHEN fb.accepted THEN 1 ELSE 0 END),
                   SUM(CASE WHEN NOT fb.accepted THEN 1 ELSE 0 END),
                   SUM(CASE WHEN fb.edited_output IS NOT NULL THEN 1 ELSE 0 END)
            FROM feedback fb CROSS JOIN interactions i
            WHERE i.id = fb.interaction_id AND i.project = fb.project AND {where}
            GROUP BY i.version, d, b"""
        return self._run(sql, params)

    def abandonment(self, f: Filters) -> list[Any]:
        """(version, day of the last rejection, sessions with a rejection, sessions ended by one).

        A session is abandoned after a rejection when an answer the user rejected is its
        last interaction: nothing was asked after it. The query starts from the rejections
        (few) and looks later interactions up through the session index, never scanning
        every interaction.
        """
        where, params = self.where(f)
        sql = f"""
            SELECT r.version, r.d, COUNT(*), SUM(r.ended)
            FROM (
                SELECT i.session_id, MAX(i.version) AS version, MAX({self.day("i.ts")}) AS d,
                       MAX(CASE WHEN EXISTS (
                           SELECT 1 FROM interactions j
                           WHERE j.session_id = i.session_id AND j.project = i.project
                             AND j.ts > i.ts
                       ) THEN 0 ELSE 1 END) AS ended
                FROM feedback fb CROSS JOIN interactions i
                WHERE i.id = fb.interaction_id AND i.project = fb.project AND NOT fb.accepted
                  AND i.session_id IS NOT NULL
                  AND {where}
                GROUP BY i.project, i.session_id
            ) r
            GROUP BY r.version, r.d"""
        return self._run(sql, params)

    def funnel(self, f: Filters, steps: Sequence[str]) -> list[Any]:
        """(version, day, reached step 1, reached 1 then 2, …) per session, in order.

        A session reaches step k when it has step k at or after the time it first reached
        step k-1. Its version is the (greatest) version of its interactions (sessions
        without any: None, left out when a feature or version is asked for); its day is
        the day of its first step.
        """
        params: dict[str, Any] = {f"s{k}": name for k, name in enumerate(steps)}
        firsts = ", ".join(
            f"MIN(CASE WHEN st.name = :s{k} THEN st.ts END) AS t{k}" for k in range(len(steps))
        )
        reach = []
        cond = ""
        for k in range(len(steps)):
            cond = f"f.t{k} IS NOT NULL" if k == 0 else f"{cond} AND f.t{k} >= f.t{k - 1}"
            reach.append(f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)")
        step_conds = []
        if f.since is not None:
            step_conds.append("st.ts >= :since")
            params["since"] = self._ts(f.since)
        if f.until is not None:
            step_conds.append("st.ts < :until")
            params["until"] = self._ts(f.until)
        if f.project is not None:
            step_conds.append("st.project = :project")
            params["project"] = f.project
        where_i, p_i = self.where(
            Filters(f.feature, f.version, metadata=f.metadata, missing_key=f.missing_key),
            alias="i",
            by_session=True,
        )
        params.update(p_i)
        filtered = f.feature is not None or f.version is not None or bool(f.metadata)
        filtered = filtered or f.missing_key is not None
        # the session's version by one index lookup per session (never a join of two
        # derived tables, which SQLite would run as a nested loop)
        sql = f"""
            SELECT f.version, {self.day("f.first_ts")} AS d, {", ".join(reach)}
            FROM (
                SELECT st.session_id, MIN(st.ts) AS first_ts, {firsts},
                       (SELECT MAX(i.version) FROM interactions i
                        WHERE i.session_id = st.session_id AND i.project = st.project
                          AND {where_i}) AS version
                FROM steps st
                WHERE st.name IN ({", ".join(f":s{k}" for k in range(len(steps)))})
                {"AND " + " AND ".join(step_conds) if step_conds else ""}
                GROUP BY st.project, st.session_id
            ) f
            {"WHERE f.version IS NOT NULL" if filtered else ""}
            GROUP BY f.version, d"""
        return self._run(sql, params)
