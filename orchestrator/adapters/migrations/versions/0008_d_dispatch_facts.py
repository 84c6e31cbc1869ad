"""Dispatch facts on the campaign: what the last dispatch saw, so the wait can be shown.

`dispatched_at` is when a dispatcher (a worker, or the embedded runtime) last looked at the
campaign; `pacing` holds, per SR type the last dispatch asked budget for, the limit, the
period, what was left and when the window refills; `dispatch_error` and `dispatch_error_at`
keep the last error that stopped a dispatch (missing keys, no DSP URL, an image not found).

Revision ID: 0007_d
Revises: 0007_b
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_d"
down_revision = "0007_b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pacing", sa.JSON, nullable=True))
        batch.add_column(sa.Column("dispatch_error", sa.Text, nullable=True))
        batch.add_column(sa.Column("dispatch_error_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        for name in ("dispatch_error_at", "dispatch_error", "pacing", "dispatched_at"):
            batch.drop_column(name)
