"""hourly rollups of interactions and feedback, kept current from dirty-hour marks

Revision ID: 0013
Revises: 0008

``rollup_interactions`` and ``rollup_feedback`` hold, per feature, version and hour (UTC,
as whole hours since the epoch), counts and fixed log-bucket histograms (``bucket`` =
``round(ln(x + 1) * 200)``, -1 for none) of latency and dwell: they merge by addition, so a
window of whole hours is read from a few hundred rows instead of every interaction
(``pilotgate.store.rollups``). Triggers on ``interactions`` and ``feedback`` mark the
(feature, hour) a write touched in ``rollup_dirty`` (``gen`` counts the marks, so a refresh
only clears a mark nothing re-marked meanwhile); deletes mark nothing, so rollups outlive
``store prune``, which records its cut in ``rollup_pruned``. Existing rows are marked dirty
here: the first read (or ``pilotgate ingest``) builds their rollups.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None

_PG_HOUR = "floor(extract(epoch FROM {ts}) / 3600)::bigint"
_SQLITE_HOUR = "(CAST(strftime('%s', {ts}) AS INTEGER) / 3600)"

_PG_FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION pilotgate_mark_interactions() RETURNS trigger AS $$
BEGIN
  INSERT INTO rollup_dirty (feature, hour, gen)
  SELECT DISTINCT n.feature, {_PG_HOUR.format(ts="n.ts")}, 1 FROM pilotgate_new n
  ORDER BY 1, 2
  ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    f"""
CREATE OR REPLACE FUNCTION pilotgate_mark_feedback() RETURNS trigger AS $$
BEGIN
  INSERT INTO rollup_dirty (feature, hour, gen)
  SELECT DISTINCT i.feature, {_PG_HOUR.format(ts="i.ts")}, 1
  FROM pilotgate_new n JOIN interactions i ON i.id = n.interaction_id
  ORDER BY 1, 2
  ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
]
_PG_TRIGGERS = [
    ("trg_rollup_interactions_ins", "INSERT", "interactions", "pilotgate_mark_interactions"),
    ("trg_rollup_interactions_upd", "UPDATE", "interactions", "pilotgate_mark_interactions"),
    ("trg_rollup_feedback_ins", "INSERT", "feedback", "pilotgate_mark_feedback"),
    ("trg_rollup_feedback_upd", "UPDATE", "feedback", "pilotgate_mark_feedback"),
]

# SQLite: one writer at a time and refreshes hold the write lock, so a mark cannot be
# re-marked during a refresh: adding a missing mark is enough (no write when it exists).
# NOT EXISTS, not INSERT OR IGNORE: an outer statement's ON CONFLICT would override the
# trigger's.
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


def _tables() -> None:
    def key() -> list[sa.Column[Any]]:
        return [
            sa.Column("feature", sa.String(200), primary_key=True),
            sa.Column("version", sa.String(200), primary_key=True),
            sa.Column("hour", sa.BigInteger(), primary_key=True),
            sa.Column("bucket", sa.Integer(), primary_key=True),
            sa.Column("n", sa.BigInteger(), nullable=False),
        ]

    op.create_table(
        "rollup_interactions",
        *key(),
        sa.Column("errors", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rollup_feedback",
        *key(),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("edited", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rollup_dirty",
        sa.Column("feature", sa.String(200), primary_key=True),
        sa.Column("hour", sa.BigInteger(), primary_key=True),
        sa.Column("gen", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rollup_pruned",
        sa.Column("feature", sa.String(200), primary_key=True),
        sa.Column("before_hour", sa.BigInteger(), nullable=False),
    )


def _triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for sql in _PG_FUNCTIONS:
            op.execute(sql)
        for name, event, table, fn in _PG_TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"REFERENCING NEW TABLE AS pilotgate_new "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
            )
        hour = _PG_HOUR.format(ts="ts")
    else:
        for name, event, table, body, ts in _SQLITE_TRIGGERS:
            mark = body.format(hour=_SQLITE_HOUR.format(ts=ts))
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {mark}; END")
        hour = _SQLITE_HOUR.format(ts="ts")
    op.execute(
        f"INSERT INTO rollup_dirty (feature, hour, gen) "
        f"SELECT DISTINCT feature, {hour}, 1 FROM interactions"
    )


def upgrade() -> None:
    _tables()
    _triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    for name, _event, table, *_ in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION IF EXISTS pilotgate_mark_interactions()")
        op.execute("DROP FUNCTION IF EXISTS pilotgate_mark_feedback()")
    for table in ("rollup_pruned", "rollup_dirty", "rollup_feedback", "rollup_interactions"):
        op.drop_table(table)


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")
