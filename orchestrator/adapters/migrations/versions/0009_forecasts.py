"""Fleet compliance forecasts: a dry run of the whole plannable fleet on its simulated twin,
stored with when it was made, by whom, on which catalogue snapshot, and the simulated date
by which the fleet would be current (none when the run did not finish it).

Revision ID: 0009
Revises: 0007_d
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007_d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_forecasts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(64), nullable=False),
        sa.Column("snapshot_id", sa.Integer, nullable=False),
        sa.Column("complete_by", sa.DateTime(timezone=True)),
        sa.Column("report", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fleet_forecasts")
