"""Broadcasts sent in batches: an expansion cursor, system authors, announcements by broadcast.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-19

- ``broadcasts.expansion_cursor`` / ``expanded_at``: the audience is queued in batches by
  ascending member id; the cursor is the last member queued, so a restart continues there.
- ``broadcasts.author_id`` may be NULL: a broadcast sent from the command line has no author.
- ``outbox.broadcast_id`` (indexed with ``status``): the broadcast an announcement belongs to,
  so its notices are counted and cancelled together. No foreign key: broadcasts are never
  deleted, and on SQLite a plain ``ADD COLUMN`` avoids copying the whole outbox.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.alter_column("author_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(
            sa.Column("expansion_cursor", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("broadcast_id", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_broadcast", "outbox", ["broadcast_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_broadcast", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("broadcast_id")
    op.execute("DELETE FROM broadcasts WHERE author_id IS NULL")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("expanded_at")
        batch.drop_column("expansion_cursor")
        batch.alter_column("author_id", existing_type=sa.Integer(), nullable=False)
