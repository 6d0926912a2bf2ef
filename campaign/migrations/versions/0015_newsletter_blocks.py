"""Newsletter blocks: a newsletter's body as an ordered list of blocks

Revision ID: 0015_newsletter_blocks
Revises: 0014_imports_sender
Create Date: 2026-12-05 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_newsletter_blocks"
down_revision: str | Sequence[str] | None = "0014_imports_sender"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("newsletter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocks", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("newsletter", schema=None) as batch_op:
        batch_op.drop_column("blocks")
