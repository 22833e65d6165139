"""drop the project indexes whose work a project-led index of 0014 already does

Revision ID: 0017
Revises: 0016

Every secondary index costs each imported row an index insert (on PostgreSQL about
1-2 CPU-µs per row and index, a third of an import's server time for the 17 of them).
Two of migration 0007's indexes hold nothing another index does not:

* ``ix_feedback_project`` (project) WHERE project <> '' holds every row (a project is
  never empty) and is a prefix of ``ix_feedback_project_ts`` (project, ts, accepted):
  ``Store.holds_only``'s "any other project?" seeks read that one.
* ``ix_interactions_project`` (project) WHERE project <> '' likewise holds every row;
  ``ix_interactions_project_volume`` (project, feature, version, ts) WHERE ts IS NOT NULL
  also holds every row (``ts`` is never null) and starts with ``project``: the check says
  ``ts IS NOT NULL`` so both SQLite and PostgreSQL may use it.

Downgrade recreates both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TABLES = ("interactions", "feedback")


def upgrade() -> None:
    for table in _TABLES:
        op.drop_index(f"ix_{table}_project", table_name=table)


def downgrade() -> None:
    for table in _TABLES:
        op.create_index(
            f"ix_{table}_project",
            table,
            ["project"],
            sqlite_where=sa.text("project <> ''"),
            postgresql_where=sa.text("project <> ''"),
        )
