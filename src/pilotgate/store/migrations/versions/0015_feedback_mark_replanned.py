"""PostgreSQL: the feedback rollup trigger plans its lookup afresh on every statement

Revision ID: 0015
Revises: 0014

Migration 0013's ``pilotgate_mark_feedback`` finds the (feature, hour) of each new
feedback row by joining ``interactions``. PL/pgSQL keeps a parameterless query's plan for
the whole session, and that plan was made when the session first wrote feedback, often
with ``interactions`` nearly empty: a hash join over a sequential scan of every
interaction. Through a bulk import the table grows and every feedback batch scanned it
all (quadratic: ~0.2 s per batch at 50k interactions, seconds at 1M). ``EXECUTE`` plans
the statement each time, against the table as it is (a primary-key lookup per feedback
row), and the join now names the project too (ids are unique per project). Same marks
otherwise; SQLite's row triggers are unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_HOUR = "floor(extract(epoch FROM i.ts) / 3600)::bigint"

_REPLANNED = f"""
CREATE OR REPLACE FUNCTION pilotgate_mark_feedback() RETURNS trigger AS $$
BEGIN
  EXECUTE 'INSERT INTO rollup_dirty (feature, hour, gen)
  SELECT DISTINCT i.feature, {_HOUR}, 1
  FROM pilotgate_new n JOIN interactions i
  ON i.id = n.interaction_id AND i.project = n.project
  ORDER BY 1, 2
  ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1';
  RETURN NULL;
END $$ LANGUAGE plpgsql"""

_CACHED = f"""
CREATE OR REPLACE FUNCTION pilotgate_mark_feedback() RETURNS trigger AS $$
BEGIN
  INSERT INTO rollup_dirty (feature, hour, gen)
  SELECT DISTINCT i.feature, {_HOUR}, 1
  FROM pilotgate_new n JOIN interactions i ON i.id = n.interaction_id
  ORDER BY 1, 2
  ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REPLANNED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CACHED)
