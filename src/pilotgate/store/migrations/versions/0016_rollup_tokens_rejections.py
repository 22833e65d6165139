"""rollups of tokens per model, rejected answers per session, and daily histograms

Revision ID: 0016
Revises: 0015

Beside migration 0013's rollups, kept current by the same dirty-hour marks (no new
trigger: an insert or update of an interaction or its feedback already marks its
(feature, hour)) and recomputed by the same ``refresh_rollups``:

* ``rollup_tokens``: per feature, version, hour and ``metadata.model`` (NULL: none), the
  calls, the calls with token counts and the sums of ``tokens_in`` / ``tokens_out``: what
  ``usage``'s cost reads, without a scan of every interaction.
* ``rollup_rejections``: per feature, version, hour and session (with its project), the
  newest rejected answer's time and whether the session ended with it (no later
  interaction of the session, of any feature): what the abandonment figure reads. A later
  interaction of a session changes that flag in another hour: the refresh of the later
  interaction's hour sets it again on the session's rows, wherever they are. ``alone``: the
  session has no other row (most sessions): ``rollup_abandon`` sums those per feature,
  version and hour, so a reader merges only the other sessions' rows.

* ``rollup_interactions_day`` and ``rollup_feedback_day``: 0013's histograms summed per
  feature, version and day (``hour / 24``), recomputed from the hourly rows of the days a
  refresh touched. An hour holds a few thousand interactions spread over hundreds of
  buckets, so the hourly tables hold almost a row per interaction or two; a month read
  from days is ~30x fewer rows.

Existing hours are marked dirty here: the first read (or ``pilotgate ingest``) builds them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: migration 0013's hourly histograms, summed per day (``day`` = ``hour / 24``)
_DAILY = {
    "rollup_interactions": ["errors"],
    "rollup_feedback": ["accepted", "rejected", "edited"],
}
_PG_HOUR = "floor(extract(epoch FROM ts) / 3600)::bigint"
_SQLITE_HOUR = "(CAST(strftime('%s', ts) AS INTEGER) / 3600)"


def upgrade() -> None:
    op.create_table(
        "rollup_tokens",
        sa.Column("feature", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("n_tok", sa.BigInteger(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=True),
        sa.Column("tokens_out", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_rollup_tokens_feature_hour", "rollup_tokens", ["feature", "hour"])
    op.create_table(
        "rollup_rejections",
        sa.Column("feature", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(200), primary_key=True),
        sa.Column("hour", sa.BigInteger(), primary_key=True),
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("session_id", sa.String(200), primary_key=True),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended", sa.Integer(), nullable=False),
        sa.Column("alone", sa.Integer(), nullable=False),
    )
    op.create_table(
        "rollup_abandon",
        sa.Column("feature", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(200), primary_key=True),
        sa.Column("hour", sa.BigInteger(), primary_key=True),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.Column("ended", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_rollup_rejections_session", "rollup_rejections", ["session_id"])
    for table, counts in _DAILY.items():
        op.create_table(
            f"{table}_day",
            sa.Column("feature", sa.String(200), primary_key=True),
            sa.Column("version", sa.String(200), primary_key=True),
            sa.Column("day", sa.BigInteger(), primary_key=True),
            sa.Column("bucket", sa.Integer(), primary_key=True),
            sa.Column("n", sa.BigInteger(), nullable=False),
            *[sa.Column(c, sa.BigInteger(), nullable=False) for c in counts],
        )
    # the refresh deletes, re-sums and readers read (feature, hour ranges): the keys lead
    # with (feature, version), which a range of hours over every version cannot seek
    for table in ("rollup_interactions", "rollup_feedback", "rollup_rejections"):
        op.create_index(f"ix_{table}_feature_hour", table, ["feature", "hour"])
    pg = op.get_bind().dialect.name == "postgresql"
    hour = _PG_HOUR if pg else _SQLITE_HOUR
    new = f"SELECT DISTINCT feature, {hour}, 1 FROM interactions"
    if pg:
        op.execute(
            f"INSERT INTO rollup_dirty (feature, hour, gen) {new} "
            "ON CONFLICT (feature, hour) DO UPDATE SET gen = rollup_dirty.gen + 1"
        )
    else:
        op.execute(f"INSERT OR IGNORE INTO rollup_dirty (feature, hour, gen) {new}")


def downgrade() -> None:
    for table in ("rollup_interactions", "rollup_feedback", "rollup_rejections"):
        op.drop_index(f"ix_{table}_feature_hour", table_name=table)
    for table in _DAILY:
        op.drop_table(f"{table}_day")
    op.drop_table("rollup_abandon")
    op.drop_index("ix_rollup_rejections_session", table_name="rollup_rejections")
    op.drop_table("rollup_rejections")
    op.drop_index("ix_rollup_tokens_feature_hour", table_name="rollup_tokens")
    op.drop_table("rollup_tokens")
