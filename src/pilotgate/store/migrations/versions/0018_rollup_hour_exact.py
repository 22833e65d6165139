"""the hour of an instant, exact on SQLite and cheaper on PostgreSQL

Revision ID: 0018
Revises: 0017

The rollups group rows by their hour (``store._rollups.hour_sql``) and the dirty marks name
hours the same way (triggers of 0013/0015). Two changes to that expression:

* SQLite: ``strftime('%s', ts)`` parses the stored text to whole milliseconds, rounding, so
  an instant in the last half millisecond of an hour (``…:59:59.9995`` and later) was put
  in the next hour: marked there, counted there (the raw rows, by time, put it in the hour
  before), and a recompute of the hour before alone could insert a second rollup row for
  the next hour's key and fail. The seconds are now cut before parsing
  (``substr(ts, 1, 19)``): the row triggers are recreated with it, and the hours of rows
  stored at such instants (both the hour of their time and the one after) are marked
  dirty, so the next refresh puts them right.
* PostgreSQL: ``extract(epoch …)`` is ``numeric``; ``date_part('epoch', …)`` is double
  precision at about half its cost per row, and exact enough that no microsecond instant
  between 1970 and 2200 changes hour (tests/store/test_store_rollup_parallel.py). The
  trigger functions are replaced with it (same marks).

Downgrade restores 0013's SQLite triggers and 0015's PostgreSQL functions.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_OLD_SQLITE = "(CAST(strftime('%s', {ts}) AS INTEGER) / 3600)"
_NEW_SQLITE = "(CAST(strftime('%s', substr({ts}, 1, 19)) AS INTEGER) / 3600)"
_OLD_PG = "floor(extract(epoch FROM {ts}) / 3600)::bigint"
_NEW_PG = "floor(date_part(''epoch'', {ts}) / 3600)::bigint"  # inside EXECUTE '…'
_NEW_PG_PLAIN = "floor(date_part('epoch', {ts}) / 3600)::bigint"

_SQLITE_MARK_I = (
    "INSERT INTO rollup_dirty (feature, hour, gen) SELECT NEW.feature, {hour}, 1 "
    "WHERE NOT EXISTS (SELECT 1 FROM rollup_dirty d "
    "WHERE d.feature = NEW.feature AND d.hour = {hour})"
)
_SQLITE_MARK_F = (
    "INSERT INTO rollup_dirty (feature, hour, gen) SELECT i.feature, {hour}, 1 "
    "FROM interactions i WHERE i.id = NEW.interaction_id AND NOT EXISTS "
    "(SELECT 1 FROM rollup_dirty d WHERE d.feature = i.feature AND d.hour = {hour})"
)
_SQLITE_TRIGGERS = [
    ("trg_rollup_interactions_ins", "INSERT", "interactions", _SQLITE_MARK_I, "NEW.ts"),
    ("trg_rollup_interactions_upd", "UPDATE", "interactions", _SQLITE_MARK_I, "NEW.ts"),
    ("trg_rollup_feedback_ins", "INSERT", "feedback", _SQLITE_MARK_F, "i.ts"),
    ("trg_rollup_feedback_upd", "UPDATE", "feedback", _SQLITE_MARK_F, "i.ts"),
]


def _pg_functions(interactions_hour: str, feedback_hour: str) -> list[str]:
    return [
        f"""
CREATE OR REPLACE FUNCTION pilotgate_mark_interactions() RETURNS trigger AS $$
BEGIN
  INSERT INTO rollup_dirty (feature, hour, gen)
  SELECT DISTINCT n.feature, {interactions_hour}, 1 FROM pilotgate_new n
  ORDER BY 1, 2
  ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"""
CREATE OR REPLACE FUNCTION pilotgate_mark_feedback() RETURNS trigger AS $$
BEGIN
  EXECUTE 'INSERT INTO rollup_dirty (feature, hour, gen)
  SELECT DISTINCT i.feature, {feedback_hour}, 1
  FROM pilotgate_new n JOIN interactions i
  ON i.id = n.interaction_id AND i.project = n.project
  ORDER BY 1, 2
  ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1';
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    ]


def _replace_pg(interactions_hour: str, feedback_hour: str) -> None:
    for sql in _pg_functions(interactions_hour, feedback_hour):
        op.execute(sql)


def _sqlite_triggers(hour: str) -> None:
    for name, event, table, body, ts in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        mark = body.format(hour=hour.format(ts=ts))
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {mark}; END")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_pg(_NEW_PG_PLAIN.format(ts="n.ts"), _NEW_PG.format(ts="i.ts"))
        return
    _sqlite_triggers(_NEW_SQLITE)
    # rows whose hour the rounding moved: their own hour and the next one, recomputed
    hour = _NEW_SQLITE.format(ts="ts")
    for extra in (0, 1):
        op.execute(
            f"INSERT INTO rollup_dirty (feature, hour, gen) "
            f"SELECT DISTINCT feature, {hour} + {extra}, 1 FROM interactions "
            f"WHERE substr(ts, 15, 5) = '59:59' AND substr(ts, 20) >= '.9995' "
            f"ON CONFLICT (feature, hour) DO NOTHING"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_pg(_OLD_PG.format(ts="n.ts"), _OLD_PG.format(ts="i.ts"))
        return
    _sqlite_triggers(_OLD_SQLITE)
