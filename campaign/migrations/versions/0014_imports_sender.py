"""Subscribers' join date from imports; settings stored in the database (sender identity)

Revision ID: 0014_imports_sender
Revises: 0013_typed_followers
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campaign.models.base

revision: str = "0014_imports_sender"
down_revision: str | Sequence[str] | None = "0013_typed_followers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("joined_at", campaign.models.base.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "stored_setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("stored_setting")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("joined_at")
