"""runs record what they measured: eval set and inputs, and are found by feature

Revision ID: 0005
Revises: 0004

A run already had ``feature``, ``version`` and ``target`` columns, often left empty. The
gate now selects runs by feature, version and eval set (docs/gate.md, "which run is
judged"), so a run also records the eval set it read (``name@version``) or, for inputs
read from files or the store, an ``inputs`` block. Old runs keep NULL in both: their eval
set is unknown and no criterion that names one selects them.

``ix_feedback_dwell`` (partial, ``dwell_ms IS NOT NULL``) lets the headline dwell median
(``pilotgate.usage.usage_figures``) read a short OFFSET window instead of sorting feedback.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("eval_set", sa.String(300), nullable=True))
        batch.add_column(sa.Column("inputs", sa.JSON(), nullable=True))
    op.create_index("ix_runs_kind_feature_created", "runs", ["kind", "feature", "created_at"])
    where = sa.text("dwell_ms IS NOT NULL")
    op.create_index(
        "ix_feedback_dwell", "feedback", ["dwell_ms"], sqlite_where=where, postgresql_where=where
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_dwell", table_name="feedback")
    op.drop_index("ix_runs_kind_feature_created", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("inputs")
        batch.drop_column("eval_set")
