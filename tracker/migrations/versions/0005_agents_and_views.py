"""agents table and SQL views

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:20:00

The ``agents`` table (the agents the store evaluates, spelled as the registry spells them) and the views of
tracker.store.views for people who query the store directly. ``db migrate`` re-creates both when the parser or
the registry changes. A later migration that rebuilds a table these views read must drop them first
(tracker.store.views.drop_views) and re-create them after.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from tracker.store.views import create_views, drop_views, refresh_agents

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("company", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ai", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("token"),
    )
    conn = op.get_bind()
    refresh_agents(conn)
    create_views(conn)


def downgrade() -> None:
    drop_views(op.get_bind())
    op.drop_table("agents")
