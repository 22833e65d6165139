"""implicit signals: materialised per-interaction signals, user journeys, refresh state

Revision ID: 0008
Revises: 0007

``pilotgate.signals`` keeps one row of implicit signals per interaction, one journey
per user and a daily rollup (kept by deltas), maintained from a high-water mark on
``interactions.ingested_at`` so that a refresh reads only what arrived since (plus the
streams still inside a window). New
indexes: ``ingested_at`` (the high-water mark), ``(user_id, ts)`` (a user's stream) and
``steps.ts`` (late steps), the first two partial so no other query's plan changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index(
        "ix_interactions_ingested",
        "interactions",
        ["ingested_at"],
        sqlite_where=sa.text("ingested_at IS NOT NULL"),
        postgresql_where=sa.text("ingested_at IS NOT NULL"),
    )
    op.create_index(
        "ix_interactions_user_ts",
        "interactions",
        ["user_id", "ts"],
        sqlite_where=sa.text("user_id IS NOT NULL"),
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_index("ix_steps_ts", "steps", ["ts"])
    op.create_table(
        "interaction_signals",
        sa.Column("interaction_id", sa.String(length=200), nullable=False),
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("next_id", sa.String(length=200), nullable=True),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=True),
        sa.Column("edited", sa.Integer(), nullable=False),
        sa.Column("rephrased", sa.Integer(), nullable=True),
        sa.Column("escalated", sa.Integer(), nullable=True),
        sa.Column("abandoned", sa.Integer(), nullable=True),
        sa.Column("copied", sa.Integer(), nullable=False),
        sa.Column("followed_up", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("final", sa.Integer(), nullable=False),
        sa.Column("off_purpose", sa.Integer(), nullable=True),
        sa.Column("novelty", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("interaction_id"),
    )
    op.create_index(
        "ix_signals_feature_day",
        "interaction_signals",
        [
            "feature",
            "day",
            "version",
            "outcome",
            "rephrased",
            "escalated",
            "abandoned",
            "copied",
            "followed_up",
            "accepted",
            "off_purpose",
            "answered",
        ],
    )
    op.create_index("ix_signals_pending", "interaction_signals", ["feature", "final"])
    op.create_index("ix_signals_feature_ts", "interaction_signals", ["feature", "ts"])
    op.create_table(
        "user_journeys",
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("first_id", sa.String(length=200), nullable=False),
        sa.Column("first_ts", TS, nullable=False),
        sa.Column("first_day", sa.String(length=10), nullable=False),
        sa.Column("first_version", sa.String(length=200), nullable=False),
        sa.Column("first_outcome", sa.String(length=10), nullable=False),
        sa.Column("returned_ts", TS, nullable=True),
        sa.Column("return_day", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("last_ts", TS, nullable=False),
        sa.PrimaryKeyConstraint("feature", "user_id"),
    )
    op.create_table(
        "signal_daily",
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("feature", "version", "day"),
    )
    op.create_table(
        "signal_state",
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("params_hash", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("hwm_ingested", TS, nullable=True),
        sa.Column("data_end", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("feature"),
    )


def downgrade() -> None:
    op.drop_table("signal_state")
    op.drop_table("signal_daily")
    op.drop_table("user_journeys")
    op.drop_index("ix_signals_feature_ts", table_name="interaction_signals")
    op.drop_index("ix_signals_pending", table_name="interaction_signals")
    op.drop_index("ix_signals_feature_day", table_name="interaction_signals")
    op.drop_table("interaction_signals")
    op.drop_index("ix_steps_ts", table_name="steps")
    op.drop_index("ix_interactions_user_ts", table_name="interactions")
    op.drop_index("ix_interactions_ingested", table_name="interactions")
