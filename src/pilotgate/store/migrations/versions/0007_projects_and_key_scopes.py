"""projects own their records; API keys carry scopes (and browser keys their origins)

Revision ID: 0007
Revises: 0006

* ``interactions``, ``feedback`` and ``steps`` get a ``project`` column and their primary
  key becomes ``(id, project)``: ids are unique per project, so two projects can use the
  same id without one overwriting (or being joined to) the other. Existing rows take the
  project the collector wrote into their ``metadata.project`` (records that came through
  a key), feedback takes its interaction's, and everything else is in ``default``.
* ``runs`` and ``eval_sets`` get a ``project`` column (``default`` for existing ones), so
  the dashboard shows a read key only its own project's runs and eval sets.
* ``api_keys`` get ``scopes`` and ``origins``: every existing key keeps doing what it did,
  i.e. gets ``ingest,read,admin`` for its project.
* ``ix_interactions_project`` and ``ix_feedback_project`` (partial on ``project <> ''``,
  a term only the "is another project here?" check writes) answer that check in two index
  seeks, so a read key's overview of a one-project store costs what the unscoped one does.
* The dashboard's session secret lives in ``store_secrets`` (0006) with the pseudonym key,
  so every worker and every restart over the same store agree.
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_RECORDS = ("interactions", "feedback", "steps")


def _project_column() -> sa.Column[str]:
    return sa.Column("project", sa.String(200), nullable=False, server_default="default")


def _from_metadata(dialect: str) -> str:
    """SQL for ``metadata.project`` when it is a usable name, else 'default'."""
    if dialect == "postgresql":
        value = "(metadata->>'project')"
        is_text = "json_typeof(metadata->'project') = 'string'"
    else:
        value = "json_extract(metadata, '$.project')"
        is_text = "json_valid(metadata) AND json_type(metadata, '$.project') = 'text'"
    return (
        f"CASE WHEN metadata IS NOT NULL AND {is_text} AND length({value}) BETWEEN 1 AND 200 "
        f"THEN {value} ELSE 'default' END"
    )


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table in _RECORDS:
        op.add_column(table, _project_column())
    for table in ("interactions", "steps"):
        op.execute(sa.text(f"UPDATE {table} SET project = {_from_metadata(dialect)}"))
    op.execute(
        sa.text(
            "UPDATE feedback SET project = COALESCE((SELECT i.project FROM interactions i "
            "WHERE i.id = feedback.interaction_id), 'default')"
        )
    )
    for table in _RECORDS:
        if dialect == "postgresql":
            op.drop_constraint(f"{table}_pkey", table, type_="primary")
            op.create_primary_key(f"{table}_pkey", table, ["id", "project"])
        else:  # SQLite: the table is rebuilt with the new key (Alembic's batch mode)
            with warnings.catch_warnings():
                # SQLAlchemy notes that the copy's key differs from the reflected one:
                # that is the point of the rebuild
                warnings.filterwarnings("ignore", message=r".*as primary_key=True, not match")
                with op.batch_alter_table(table, recreate="always") as batch:
                    batch.create_primary_key(f"pk_{table}", ["id", "project"])
    for table in ("interactions", "feedback"):
        op.create_index(
            f"ix_{table}_project",
            table,
            ["project"],
            sqlite_where=sa.text("project <> ''"),
            postgresql_where=sa.text("project <> ''"),
        )
    if dialect == "sqlite":
        # without statistics SQLite breaks a tie between two one-term index searches in
        # favour of the newest index: keep the session index the newest (as 0004 left
        # it), so a session's lookups do not walk a whole feature (see 0004)
        op.drop_index("ix_interactions_session", table_name="interactions")
        op.create_index("ix_interactions_session", "interactions", ["session_id"])
    for table in ("runs", "eval_sets"):
        op.add_column(table, _project_column())
    op.add_column(
        "api_keys",
        sa.Column("scopes", sa.String(200), nullable=False, server_default="ingest,read,admin"),
    )
    op.add_column("api_keys", sa.Column("origins", sa.Text()))


def downgrade() -> None:
    op.drop_index("ix_feedback_project", table_name="feedback")
    op.drop_index("ix_interactions_project", table_name="interactions")
    op.drop_column("api_keys", "origins")
    op.drop_column("api_keys", "scopes")
    for table in ("eval_sets", "runs"):
        op.drop_column(table, "project")
    # ids that repeat across projects cannot go back to one global key: keep 'default's
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _RECORDS:
        op.execute(sa.text(f"DELETE FROM {table} WHERE project <> 'default'"))
        if postgres:
            op.drop_constraint(f"{table}_pkey", table, type_="primary")
            op.drop_column(table, "project")
            op.create_primary_key(f"{table}_pkey", table, ["id"])
        else:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.drop_column("project")
