"""store secrets: keys the store keeps for itself (the pseudonym key)

Revision ID: 0006
Revises: 0005

``store_secrets`` holds values generated once per store and never shown: the HMAC key
that turns ``user_id`` and ``session_id`` into pseudonyms (``redact/_pseudonym.py``), so
the same raw id gets the same pseudonym however it arrives (collector, ingest, SDK) and
a copy of the data without the store cannot be reversed by hashing guessed ids.
Existing stores get the table empty; the key is created on first use.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_secrets")
