"""Hourly rollups: counts and log-bucket histograms per feature, version and hour.

Triggers (migration 0013) mark every (feature, hour) an insert or update of interactions
or feedback touched in ``rollup_dirty``; :func:`refresh_rollups` recomputes exactly those
hours from the raw rows (delete the hour's rollup rows, aggregate its rows through the
``(feature, ts)`` index, insert) and clears each mark that nothing re-marked meanwhile
(``gen``). Readers refresh before reading, so a read never sees a stale rollup; ``pilotgate
ingest`` refreshes after writing and ``serve`` in the background, so readers rarely wait.

Deletes mark nothing and hours before a feature's prune cut (``rollup_pruned``) are never
recomputed: rollups outlive ``pilotgate store prune``.

Histograms use ``bucket = round(ln(x + 1) * 200)`` (-1: no value): a bucket's decoded value
``exp(bucket / 200) - 1`` is within a factor ``exp(±1/400)`` of ``x + 1``, so a percentile
read from buckets is within ``REL_ERROR * (x + 1)`` of the exact order statistic (≤ 0.5 %
for values ≥ 1 ms; stated as ``rel_error_max`` beside every such percentile).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from pilotgate.store._rejections import (
    FEW_HOURS,
    end_elsewhere,
    rebuild_abandon,
    recompute_rejections,
)
from pilotgate.store._types import to_utc

if TYPE_CHECKING:
    from pilotgate.store._store import Store

__all__ = [
    "REL_ERROR",
    "ROLLUP_TRIGGERED",
    "dirty_marks",
    "feedback_marks_once",
    "marks_once",
    "after_bulk_write",
    "SCALE",
    "bucket_sql",
    "decode_bucket",
    "hour_of",
    "hour_sql",
    "hour_start",
    "mark_pruned",
    "refresh_rollups",
]

SCALE = 200
#: Tables whose SQLite insert trigger marks rollup_dirty rows, which the bulk writer
#: (``Store._sqlite_executemany``) marks once per batch instead (:func:`marks_once`).
ROLLUP_TRIGGERED = frozenset({"interactions"})


def dirty_marks(raw: Any) -> int:
    """How many dirty marks a SQLite DB-API connection sees (a small table)."""
    return int(raw.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0])


#: the SQLite insert trigger of each ROLLUP_TRIGGERED table (migration 0013)
_INSERT_TRIGGER = {"interactions": "trg_rollup_interactions_ins"}


@contextmanager
def _triggers_off(raw: Any, names: Sequence[str]) -> Iterator[bool]:
    """Inside: the SQLite triggers ``names`` are dropped (yields whether any existed);
    on leaving they are back, from their own ``sqlite_master`` text. Both happen inside the
    caller's write transaction (begun here, ``BEGIN IMMEDIATE``, unless one is open): no
    other connection ever sees the table without them, and a failed write rolls the drop
    back."""
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")
    found = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        f"AND name IN ({', '.join('?' * len(names))})",
        tuple(names),
    ).fetchall()
    for name, _sql in found:
        raw.execute(f"DROP TRIGGER {name}")
    yield bool(found)
    for _name, sql in found:
        raw.execute(sql)


@contextmanager
def marks_once(raw: Any, table: str) -> Iterator[None]:
    """Inside: inserts into ``table`` on a SQLite DB-API connection mark no dirty hour row
    by row; on leaving, the (feature, hour)s of the rows inserted inside are marked in one
    statement, the marks the insert trigger would have made, and the trigger is back.

    The trigger's row-by-row mark costs a bulk insert about 15 CPU-µs per row (a trigger
    sub-program per row; a ``WHEN`` clause skipping it costs as much); it is off meanwhile
    (:func:`_triggers_off`). New rows are those past the table's largest rowid before (a
    rowid table: SQLite gives a new row ``max + 1``). Without the trigger (a store before
    migration 0013) nothing is marked, as before.
    """
    with _triggers_off(raw, [_INSERT_TRIGGER[table]]) as had:
        top = raw.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] if had else None
        yield
    if had:
        hour = hour_sql("sqlite", "ts")
        raw.execute(
            f"INSERT INTO rollup_dirty (feature, hour, gen) "
            f"SELECT DISTINCT feature, {hour}, 1 FROM {table} WHERE rowid > ? "
            "ON CONFLICT (feature, hour) DO NOTHING",
            (-1 if top is None else top,),
        )


#: the SQLite triggers of feedback (migration 0013): an insert and an update both mark the
#: (feature, hour) of the interaction the row names
_FEEDBACK_TRIGGERS = ("trg_rollup_feedback_ins", "trg_rollup_feedback_upd")


@contextmanager
def feedback_marks_once(raw: Any, interaction_ids: Iterable[str]) -> Iterator[None]:
    """:func:`marks_once` for an upsert of feedback naming ``interaction_ids``.

    Every row of such an upsert is inserted or updated, and each of the two triggers
    would mark the (feature, hour) of the interactions with the row's ``interaction_id``
    (of any project): here both are off inside, and on leaving those marks are made in
    one statement. Without the triggers nothing is marked, as before.
    """
    with _triggers_off(raw, _FEEDBACK_TRIGGERS) as had:
        yield
    if had:
        hour = hour_sql("sqlite", "i.ts")
        raw.execute(
            f"INSERT INTO rollup_dirty (feature, hour, gen) "
            f"SELECT DISTINCT i.feature, {hour}, 1 FROM interactions i "
            "WHERE i.id IN (SELECT value FROM json_each(?)) "
            "ON CONFLICT (feature, hour) DO NOTHING",
            (json.dumps(sorted(set(interaction_ids))),),
        )


#: |decoded - exact| <= REL_ERROR * (exact + 1): half a bucket in ln(x + 1) space.
REL_ERROR = math.expm1(0.5 / SCALE)
_CHUNK = 200  # hours per recompute statement
#: the rollup tables recomputed per dirty (feature, hour) (migrations 0013, 0016)
HOURLY_TABLES = ("rollup_interactions", "rollup_feedback", "rollup_tokens", "rollup_rejections")
#: ... and every rollup table, the daily sums of the hourly histograms included
ROLLUP_TABLES = (*HOURLY_TABLES, "rollup_interactions_day", "rollup_feedback_day", "rollup_abandon")
_REFRESH_LOCK_ID = 0x726F6C6C  # "roll": one refresher at a time per PostgreSQL database


def hour_sql(dialect: str, col: str) -> str:
    """Whole hours since the epoch (UTC) of timestamp column ``col``."""
    if dialect == "postgresql":
        # date_part is double precision, extract numeric (~2x its cost per row); a double
        # holds a microsecond timestamp's epoch closely enough that no instant changes hour
        # (test_store_rollup_parallel.py: instants either side of hour boundaries; 0018)
        return f"floor(date_part('epoch', {col}) / 3600)::bigint"
    # the stored text cut to whole seconds first: strftime rounds to milliseconds, which put
    # the last half millisecond of an hour in the next one (migration 0018)
    return f"(CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER) / 3600)"


def bucket_sql(col: str) -> str:
    """The log bucket of ``col`` (-1 when it is NULL)."""
    return f"COALESCE(CAST(round(ln({col} + 1) * {SCALE}) AS INTEGER), -1)"


def decode_bucket(bucket: int) -> float:
    """The value a bucket stands for."""
    return math.expm1(bucket / SCALE)


def hour_of(ts: datetime) -> float:
    """``ts`` in hours since the epoch (fractional)."""
    return to_utc(ts).timestamp() / 3600


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, tz=UTC)


def _ts_param(dialect: str, value: datetime) -> Any:
    v = to_utc(value)
    return v if dialect == "postgresql" else v.replace(tzinfo=None).isoformat(" ", "microseconds")


def _begin_exclusive(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_REFRESH_LOCK_ID})")
        # a recompute of many hours groups ~10^5 rows per statement: in memory, not spilled
        # to disk in sorted batches (PostgreSQL's default is 4 MB)
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def refresh_rollups(store: Store) -> int:
    """Recompute the rollups of every dirty (feature, hour); returns how many hours.

    Serialised with other refreshers (SQLite's write lock, a PostgreSQL advisory lock) and,
    on SQLite or for a few hours, one transaction. Many hours on PostgreSQL (a bulk import)
    are recomputed whole days at a time by :data:`WORKERS` connections at once, each day in
    a transaction of its own, while the refresher's transaction holds the lock; it then
    settles the flags that cross days and clears the marks. A reader refreshes first, so it
    waits for the marks to clear and never reads a half-refreshed store. Hours before a
    feature's prune cut are not recomputed (their raw rows are gone); their marks are just
    cleared.
    """
    with store.engine.connect() as conn:  # the common case, cheaply: nothing to do
        if conn.execute(text("SELECT 1 FROM rollup_dirty LIMIT 1")).first() is None:
            return 0
    with store.engine.begin() as conn:
        _begin_exclusive(conn)
        marks = conn.execute(text("SELECT feature, hour, gen FROM rollup_dirty")).all()
        if not marks:  # another refresher got there first
            return 0
        cuts: dict[str, int] = {
            str(f): int(h)
            for f, h in conn.execute(text("SELECT feature, before_hour FROM rollup_pruned"))
        }
        by_feature: dict[str, list[int]] = defaultdict(list)
        for feature, hour, _gen in marks:
            if int(hour) >= int(cuts.get(feature, -(2**62))):
                by_feature[str(feature)].append(int(hour))
        for hours in by_feature.values():
            hours.sort()
        total = sum(len(h) for h in by_feature.values())
        if store.dialect == "postgresql" and WORKERS > 1 and total >= PARALLEL_HOURS:
            _refresh_parallel(store, conn, by_feature)
        else:
            bulk = False
            for feature, hours in by_feature.items():
                for i in range(0, len(hours), _CHUNK):
                    bulk |= _recompute(conn, store.dialect, feature, hours[i : i + _CHUNK])
                days = sorted({h // 24 for h in hours})
                for i in range(0, len(days), _CHUNK):
                    _recompute_days(conn, feature, days[i : i + _CHUNK])
            if bulk:
                rebuild_abandon(conn)
        conn.execute(
            text(_CLEAR_MARK[store.dialect]), [{"f": f, "h": h, "g": g} for f, h, g in marks]
        )
    return total


_CLEAR_MARK = {
    "sqlite": "DELETE FROM rollup_dirty WHERE feature = :f AND hour = :h AND gen = :g",
    # a mark a write is renewing (its trigger holds the row until it commits) is skipped,
    # never waited for: that write marks it again (gen + 1), so it stays for the next
    # refresh either way. Waiting would deadlock with a write that holds one mark and
    # waits for another this refresh has cleared (collector batches while ``serve``'s
    # upkeep refreshes, in any worker): PostgreSQL would abort the refresh or the batch.
    "postgresql": "DELETE FROM rollup_dirty WHERE ctid = ANY(ARRAY(SELECT ctid FROM rollup_dirty "
    "WHERE feature = :f AND hour = :h AND gen = :g FOR UPDATE SKIP LOCKED))",
}


#: PostgreSQL: connections recomputing the days of a large refresh at once
WORKERS = 2
#: ... from this many dirty hours (fewer: one transaction, as on SQLite)
PARALLEL_HOURS = 4 * FEW_HOURS
_DAYS_PER_UNIT = 3  # days per transaction of a parallel refresh (72 hours > FEW_HOURS)


def _day_units(by_feature: dict[str, list[int]]) -> list[tuple[str, list[int]]]:
    """The dirty hours cut into units of whole days (each day in exactly one unit)."""
    units: list[tuple[str, list[int]]] = []
    for feature, hours in by_feature.items():
        unit: list[int] = []
        first_day = None
        for h in hours:
            if first_day is None or h // 24 - first_day >= _DAYS_PER_UNIT:
                if unit:
                    units.append((feature, unit))
                unit, first_day = [], h // 24
            unit.append(h)
        if unit:
            units.append((feature, unit))
    return units


def _refresh_parallel(store: Store, conn: Connection, by_feature: dict[str, list[int]]) -> None:
    """The days of ``by_feature`` on :data:`WORKERS` connections, each unit of days in its
    own transaction; then, in ``conn`` (the refresher's, holding the lock), the rejection
    flags of rows outside each unit and the abandonment sums, which cross units.

    Units touch disjoint rows (their own hours' and days' rollup rows), so the workers never
    wait on each other's row locks; the flags that reach across hours are set in ``conn``
    alone, after every unit is committed. A failed unit fails the refresh: the marks stay,
    and the next refresh recomputes every hour again (a recompute is idempotent).
    """
    from concurrent.futures import ThreadPoolExecutor

    units = _day_units(by_feature)

    def work(unit: tuple[str, list[int]]) -> None:
        feature, hours = unit
        with store.engine.begin() as wc:
            wc.exec_driver_sql("SET LOCAL work_mem = '64MB'")
            _recompute(wc, store.dialect, feature, hours, elsewhere=False, bulk=True)
            _recompute_days(wc, feature, sorted({h // 24 for h in hours}))

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="pilotgate-rollups") as pool:
        for done in [pool.submit(work, u) for u in units]:
            done.result()
    for feature, hours in units:
        end_elsewhere(conn, _range_params(store.dialect, feature, hours)[0])
    rebuild_abandon(conn)


def after_bulk_write(store: Store, written: int) -> None:
    """After a bulk import: rollups current, and on PostgreSQL fresh planner statistics
    (``ANALYZE``) once the import was large, so neither the refresh nor the next reader is
    planned for an empty table (autovacuum would get there, minutes later; a refresh
    planned on no statistics joins feedback by a nested loop over every interaction)."""
    analyse = store.dialect == "postgresql" and written >= 10_000
    if analyse:  # first the raw tables: the refresh's plans read their statistics
        _analyse(store, ("interactions", "feedback"))
    refresh_rollups(store)
    if analyse:
        _analyse(store, ROLLUP_TABLES)


def _analyse(store: Store, tables: Sequence[str]) -> None:
    with store.engine.begin() as conn:
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def _range_params(
    dialect: str, feature: str, hours: Sequence[int]
) -> tuple[dict[str, Any], str | None]:
    """The bind parameters of sorted ``hours`` of ``feature`` (``:f``, ``:lo``/``:hi`` as
    times, ``:hlo``/``:hhi`` as hours), and the hours' SQL list when they leave gaps."""
    lo, hi = hours[0], hours[-1] + 1
    params: dict[str, Any] = {
        "f": feature,
        "lo": _ts_param(dialect, hour_start(lo)),
        "hi": _ts_param(dialect, hour_start(hi)),
        "hlo": lo,
        "hhi": hi,
    }
    contiguous = len(hours) == hi - lo
    return params, None if contiguous else ", ".join(str(int(h)) for h in hours)


def _recompute(
    conn: Connection,
    dialect: str,
    feature: str,
    hours: Sequence[int],
    *,
    elsewhere: bool = True,
    bulk: bool | None = None,
) -> bool:
    """The rollups of sorted ``hours`` of ``feature`` from the raw rows; True when
    ``rebuild_abandon`` is due (many hours). ``elsewhere=False``: the rejection flags of
    other hours' rows are left to the caller (``end_elsewhere``)."""
    params, in_hours = _range_params(dialect, feature, hours)
    for table in HOURLY_TABLES:
        conn.execute(
            text(f"DELETE FROM {table} WHERE feature = :f AND hour >= :hlo AND hour < :hhi")
            if in_hours is None
            else text(f"DELETE FROM {table} WHERE feature = :f AND hour IN ({in_hours})"),
            params,
        )
    hour = hour_sql(dialect, "i.ts")
    only = "" if in_hours is None else f" AND {hour} IN ({in_hours})"
    rows = _range_rows(conn, dialect, only, params)
    conn.execute(
        text(
            f"INSERT INTO rollup_interactions (feature, version, hour, bucket, n, errors) "
            f"SELECT i.feature, i.version, {hour} AS h, {bucket_sql('i.latency_ms')} AS b, "
            f"COUNT(*), SUM(CASE WHEN i.error IS NOT NULL THEN 1 ELSE 0 END) "
            f"FROM {rows} i WHERE i.feature = :f AND i.ts >= :lo AND i.ts < :hi{only} "
            f"GROUP BY i.feature, i.version, h, b"
        ),
        params,
    )
    conn.execute(
        text(
            f"INSERT INTO rollup_feedback "
            f"(feature, version, hour, bucket, n, accepted, rejected, edited) "
            f"SELECT i.feature, i.version, {hour} AS h, {bucket_sql('fb.dwell_ms')} AS b, "
            f"COUNT(*), SUM(CASE WHEN fb.accepted THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN NOT fb.accepted THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN fb.edited_output IS NOT NULL THEN 1 ELSE 0 END) "
            f"FROM {rows} i JOIN feedback fb "
            f"ON fb.interaction_id = i.id AND {_NO_INDEX[dialect]}fb.project = i.project "
            f"WHERE i.feature = :f AND i.ts >= :lo AND i.ts < :hi{only} "
            f"GROUP BY i.feature, i.version, h, b"
        ),
        params,
    )
    _recompute_tokens(conn, dialect, only, params, rows)
    if rows != "interactions":
        conn.exec_driver_sql(f"DROP TABLE {rows}")
    return recompute_rejections(conn, hour, only, params, elsewhere=elsewhere, bulk=bulk)


_RANGE_ROWS = "temp.pilotgate_rollup_rows"
_RANGE_COLUMNS = (
    "id, project, feature, version, ts, latency_ms, error, tokens_in, tokens_out, metadata"
)
"""Every column of ``interactions`` the three rollup queries of :func:`_recompute` read."""


def _range_rows(conn: Connection, dialect: str, only: str, params: dict[str, Any]) -> str:
    """Where the rollup queries of one recompute read the range's interactions from.

    On SQLite, the columns they read copied once into a temporary table: an interaction
    of kilobytes keeps its later columns (``latency_ms``, the tokens, ``metadata``,
    ``project``) on overflow pages past ``input`` and ``output``, which each of the three
    queries would walk again for every row (~3 µs a row each). PostgreSQL reads the table.
    """
    if dialect != "sqlite":
        return "interactions"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_RANGE_ROWS}")
    # columns without a type: every value is kept exactly as stored (no affinity)
    conn.exec_driver_sql(f"CREATE TABLE {_RANGE_ROWS} ({_RANGE_COLUMNS})")
    conn.execute(
        text(
            f"INSERT INTO {_RANGE_ROWS} SELECT {_RANGE_COLUMNS} FROM interactions i "
            f"WHERE i.feature = :f AND i.ts >= :lo AND i.ts < :hi{only}"
        ),
        params,
    )
    return _RANGE_ROWS


#: the hourly histogram tables summed per day, and the columns they sum (migration 0016)
DAILY = {
    "rollup_interactions": ("n", "errors"),
    "rollup_feedback": ("n", "accepted", "rejected", "edited"),
}


def _recompute_days(conn: Connection, feature: str, days: Sequence[int]) -> None:
    """The daily sums of ``days`` from their hourly rows (pruned hours' rows included)."""
    in_days = ", ".join(str(int(d)) for d in days)
    params = {"f": feature, "hlo": days[0] * 24, "hhi": (days[-1] + 1) * 24}
    for table, cols in DAILY.items():
        conn.execute(
            text(f"DELETE FROM {table}_day WHERE feature = :f AND day IN ({in_days})"), params
        )
        sums = ", ".join(f"SUM({c})" for c in cols)
        conn.execute(
            text(
                f"INSERT INTO {table}_day (feature, version, day, bucket, {', '.join(cols)}) "
                f"SELECT feature, version, hour / 24 AS d, bucket, {sums} FROM {table} "
                f"WHERE feature = :f AND hour >= :hlo AND hour < :hhi "
                f"AND hour / 24 IN ({in_days}) GROUP BY feature, version, d, bucket"
            ),
            params,
        )


#: SQLite: a unary ``+`` keeps a column's indexes out of a join term. Without it SQLite
#: looked each interaction's feedback up by the project-led index (migration 0014), i.e.
#: scanned all of the project's feedback per interaction: quadratic (a 50k-row import spent
#: ~70 s there), where the ``interaction_id`` index finds it in one seek.
_NO_INDEX = {"sqlite": "+", "postgresql": ""}


def model_sql(dialect: str, alias: str = "i") -> str:
    """``metadata.model`` as text (the expression ``usage``'s raw cost query groups by)."""
    if dialect == "postgresql":
        return f"({alias}.metadata ->> 'model')"
    return f"CAST(json_extract({alias}.metadata, '$.\"model\"') AS TEXT)"


def _recompute_tokens(
    conn: Connection, dialect: str, only: str, params: dict[str, Any], rows: str = "interactions"
) -> None:
    hour, model = hour_sql(dialect, "i.ts"), model_sql(dialect)
    conn.execute(
        text(
            f"INSERT INTO rollup_tokens "
            f"(feature, version, hour, model, n, n_tok, tokens_in, tokens_out) "
            f"SELECT i.feature, i.version, {hour} AS h, {model} AS m, COUNT(*), "
            f"SUM(CASE WHEN i.tokens_in IS NOT NULL OR i.tokens_out IS NOT NULL "
            f"THEN 1 ELSE 0 END), SUM(i.tokens_in), SUM(i.tokens_out) "
            f"FROM {rows} i WHERE i.feature = :f AND i.ts >= :lo AND i.ts < :hi{only} "
            f"GROUP BY i.feature, i.version, h, m"
        ),
        params,
    )


def mark_pruned(conn: Connection, features: Iterable[str], before: datetime) -> None:
    """Record that raw rows of ``features`` before ``before`` are gone: the hours before
    its (rounded-up) hour keep their rollups and are never recomputed."""
    cut = math.ceil(hour_of(before))
    for feature in features:
        old = conn.execute(
            text("SELECT before_hour FROM rollup_pruned WHERE feature = :f"), {"f": feature}
        ).scalar()
        if old is None:
            conn.execute(
                text("INSERT INTO rollup_pruned (feature, before_hour) VALUES (:f, :h)"),
                {"f": feature, "h": cut},
            )
        elif int(old) < cut:
            conn.execute(
                text("UPDATE rollup_pruned SET before_hour = :h WHERE feature = :f"),
                {"f": feature, "h": cut},
            )
