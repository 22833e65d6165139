"""drop the unscoped percentile indexes: exact percentiles read the project-led ones

Revision ID: 0019
Revises: 0018

``ix_interactions_feature_latency`` (feature, latency_ms) and ``ix_feedback_dwell``
(dwell_ms), both partial on the value being set, served the exact latency percentiles and
dwell median by ``OFFSET`` windows of a store read without a project. Their keys are random
in arrival order, so every imported row dirtied a page of each anywhere in the index, and
on PostgreSQL a page first dirtied after a checkpoint is written whole to the WAL: the two
cost an import of 1M interactions about 11 % of its CPU (``benchmarks/_pg_ingest_cpu.py
--drop-index``: 49.4 -> 43.8 CPU-s, client and server).

Their project-led twins of migration 0014 (``ix_interactions_project_latency``,
``ix_feedback_project_dwell``) hold the same entries under the project. Headline figures
of a store read without a project come from the rollups; the exact path
(``usage --exact``, and a read key's view) now names the project whenever the store holds
one only (``usage/_figures.exact_figures``), so those indexes serve it. Only an exact read
without a project of a store shared by several projects sorts the values instead.

Downgrade recreates both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_DROPPED = (
    ("ix_interactions_feature_latency", "interactions", ["feature", "latency_ms"], "latency_ms"),
    ("ix_feedback_dwell", "feedback", ["dwell_ms"], "dwell_ms"),
)


def upgrade() -> None:
    for name, table, _cols, _col in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, cols, col in _DROPPED:
        where = sa.text(f"{col} IS NOT NULL")
        op.create_index(name, table, cols, sqlite_where=where, postgresql_where=where)
