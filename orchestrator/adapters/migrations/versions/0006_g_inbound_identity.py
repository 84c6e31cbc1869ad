"""Inbound identity: what a stored DUIS message means, beyond its bytes.

`inbound_messages.sha256` now holds the digest of the message's canonical form (so a
re-serialised replay is the same message); `content_sha256` is the digest of the content the
DCC signed (the document without its signature, recorded once verified), so a re-signed copy
of a message already applied is a duplicate; `response_id` is its DUIS ResponseID.

Revision ID: 0006_g
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_g"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("response_id", sa.String(80), nullable=True))
    op.create_index("ix_inbound_content", "inbound_messages", ["content_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbound_content", table_name="inbound_messages")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("response_id")
        batch.drop_column("content_sha256")
