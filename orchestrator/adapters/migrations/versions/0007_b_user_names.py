"""User names are case-insensitive: `ADM` and `adm` are one user.

A unique index on `lower(name)` keeps a second spelling out. Users that already differ only
by case cannot be merged without choosing whose tokens and history win, so the migration
refuses, naming them: rename or disable one of each pair first (`fwo user list`).

Revision ID: 0007_b
Revises: 0006_g
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from orchestrator.errors import DatabaseError

revision = "0007_b"
down_revision = "0006_g"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clashes = op.get_bind().execute(sa.text(
        "SELECT lower(name) AS folded, count(*) AS n FROM api_users GROUP BY lower(name) "
        "HAVING count(*) > 1 ORDER BY 1")).all()
    if clashes:
        names = ", ".join(f"{row.folded} ({row.n} spellings)" for row in clashes)
        raise DatabaseError(f"user names are now case-insensitive but these differ only by "
                            f"case: {names}; rename or remove one of each before upgrading")
    op.create_index("ux_api_users_name_folded", "api_users", [sa.text("lower(name)")],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ux_api_users_name_folded", table_name="api_users")
