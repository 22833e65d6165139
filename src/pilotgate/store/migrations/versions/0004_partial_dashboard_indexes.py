"""dashboard indexes only where the dashboard asks for them (partial indexes)

Revision ID: 0004
Revises: 0003

Without ANALYZE statistics SQLite prefers any index that starts with ``feature`` for a
``feature = ?`` term, even when another term (``session_id = ?``) is far more selective:
with 0002/0003's indexes, ``pilotgate.usage``'s funnel (a ``MAX(version)`` per session)
walked a whole feature's rows per session — seconds on the demo's 5k interactions.
Partial indexes fix that without touching anyone's query: SQLite only uses an index with
``WHERE x IS NOT NULL`` for queries that compare ``x``, so

* ``ix_interactions_volume`` (feature, version, ts) WHERE ts IS NOT NULL serves queries
  that range over ``ts`` (the dashboard's per-day counts), not a session lookup;
* ``ix_interactions_feature_latency`` (feature, latency_ms) WHERE latency_ms IS NOT NULL
  serves percentile reads, which always say ``latency_ms IS NOT NULL``.

Both hold the same rows as before (``ts`` is never null; rows without a latency have no
percentile to give).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _partial(name: str, cols: list[str], where: str) -> None:
    op.create_index(
        name,
        "interactions",
        cols,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("ix_interactions_volume", table_name="interactions")
    op.drop_index("ix_interactions_feature_latency", table_name="interactions")
    _partial("ix_interactions_volume", ["feature", "version", "ts"], "ts IS NOT NULL")
    _partial("ix_interactions_feature_latency", ["feature", "latency_ms"], "latency_ms IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_interactions_feature_latency", table_name="interactions")
    op.drop_index("ix_interactions_volume", table_name="interactions")
    op.create_index("ix_interactions_volume", "interactions", ["feature", "version", "ts"])
    op.create_index("ix_interactions_feature_latency", "interactions", ["feature", "latency_ms"])
