"""project-led indexes for a read key's view of a store shared by several projects

Revision ID: 0014
Revises: 0013

A read key sees its project only, so on a store that holds other projects its dashboard
overview cannot read the rollups (they sum every project) and every query says
``project = :p``. The indexes of 0002-0008 start with ``feature`` (or ``ts``): each such
query read an index range and then looked up every row for its project — 14 s for the
overview of 500k rows in a 1M-row store. These five start with ``project`` and hold what
the overview and the headline figures read, index-only:

* ``ix_interactions_project_volume`` (project, feature, version, ts) WHERE ts IS NOT NULL:
  the per-day counts, the totals (``ts`` is never null: the scoped queries say so);
* ``ix_interactions_project_latency`` (project, feature, latency_ms) WHERE latency_ms IS
  NOT NULL: the latency percentiles;
* ``ix_interactions_project_errors`` (project, feature, version, ts) WHERE error IS NOT
  NULL: the per-day error counts (small: failed calls only);
* ``ix_feedback_project_ts`` (project, ts, accepted): acceptance per day;
* ``ix_feedback_project_dwell`` (project, dwell_ms) WHERE dwell_ms IS NOT NULL: the dwell
  median.

The partial ones are only used by queries that state their condition, so no unscoped
query's plan changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES: list[tuple[str, str, list[str], str | None]] = [
    (
        "ix_interactions_project_volume",
        "interactions",
        ["project", "feature", "version", "ts"],
        "ts IS NOT NULL",
    ),
    (
        "ix_interactions_project_latency",
        "interactions",
        ["project", "feature", "latency_ms"],
        "latency_ms IS NOT NULL",
    ),
    (
        "ix_interactions_project_errors",
        "interactions",
        ["project", "feature", "version", "ts"],
        "error IS NOT NULL",
    ),
    ("ix_feedback_project_ts", "feedback", ["project", "ts", "accepted"], None),
    ("ix_feedback_project_dwell", "feedback", ["project", "dwell_ms"], "dwell_ms IS NOT NULL"),
]


def upgrade() -> None:
    for name, table, cols, where in INDEXES:
        if where is None:
            op.create_index(name, table, cols)
        else:
            cond = sa.text(where)
            op.create_index(name, table, cols, sqlite_where=cond, postgresql_where=cond)


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
