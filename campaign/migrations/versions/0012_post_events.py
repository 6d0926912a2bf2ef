"""Posts: the template their text was generated from, and a digest of that text

Revision ID: 0012_post_events
Revises: 0011_empty_events
Create Date: 2026-12-04 21:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_post_events"
down_revision: str | Sequence[str] | None = "0011_empty_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Posts written before keep empty values: they are moved as they are, as before.
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("template", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("generated_digest", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("generated_digest")
        batch_op.drop_column("template")
