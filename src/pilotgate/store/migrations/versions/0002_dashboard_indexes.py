"""covering indexes for the dashboard's aggregates

Revision ID: 0002
Revises: 0001

The dashboard's overview aggregates a million interactions in well under a second only
when every figure is read from an index rather than from the (wide) table rows:

* ``ix_interactions_feature_version_ts`` (feature, version, ts, latency_ms, error,
  tokens_out): versions by a loose index scan, then per version and day one range
  aggregate with no row reads and no temporary sort.
* ``ix_interactions_feature_latency`` (feature, latency_ms): exact percentiles by OFFSET.
* ``ix_steps_name`` (name) becomes ``ix_steps_name_session`` (name, session_id): funnel
  counts of distinct sessions per step from the index alone.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_feature_version_ts",
            ["feature", "version", "ts", "latency_ms", "error", "tokens_out"],
            unique=False,
        )
        batch_op.create_index(
            "ix_interactions_feature_latency", ["feature", "latency_ms"], unique=False
        )
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.drop_index("ix_steps_name")
        batch_op.create_index("ix_steps_name_session", ["name", "session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.drop_index("ix_steps_name_session")
        batch_op.create_index("ix_steps_name", ["name"], unique=False)
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_feature_latency")
        batch_op.drop_index("ix_interactions_feature_version_ts")
