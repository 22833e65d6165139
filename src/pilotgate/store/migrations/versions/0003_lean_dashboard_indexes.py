"""leaner dashboard indexes: volume, errors and acceptance by counting index entries

Revision ID: 0003
Revises: 0002

Measured over a million interactions on a busy 2-core machine, counting index entries
(``count(*)``) costs about a third of aggregating columns out of them, so the wide
covering index of 0002 becomes three narrow ones:

* ``ix_interactions_volume`` (feature, version, ts): calls per version and day.
* ``ix_interactions_errors`` (feature, version, ts) WHERE error IS NOT NULL: a partial
  index a few percent of the table's size; errors per version and day.
* ``ix_feedback_ts_accepted`` (ts, accepted): acceptance per day without reading the
  feedback rows (which carry edited outputs and comments).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_interactions_feature_version_ts", table_name="interactions")
    op.create_index("ix_interactions_volume", "interactions", ["feature", "version", "ts"])
    op.create_index(
        "ix_interactions_errors",
        "interactions",
        ["feature", "version", "ts"],
        sqlite_where=sa.text("error IS NOT NULL"),
        postgresql_where=sa.text("error IS NOT NULL"),
    )
    op.create_index("ix_feedback_ts_accepted", "feedback", ["ts", "accepted"])


def downgrade() -> None:
    op.drop_index("ix_feedback_ts_accepted", table_name="feedback")
    op.drop_index("ix_interactions_errors", table_name="interactions")
    op.drop_index("ix_interactions_volume", table_name="interactions")
    op.create_index(
        "ix_interactions_feature_version_ts",
        "interactions",
        ["feature", "version", "ts", "latency_ms", "error", "tokens_out"],
    )
