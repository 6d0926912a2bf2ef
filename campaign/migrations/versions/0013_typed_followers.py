"""Account snapshots: follower counts typed in by hand

Revision ID: 0013_typed_followers
Revises: 0012_post_events
Create Date: 2026-12-04 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_typed_followers"
down_revision: str | Sequence[str] | None = "0012_post_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accountsnapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("typed", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("accountsnapshot", schema=None) as batch_op:
        batch_op.drop_column("typed")
