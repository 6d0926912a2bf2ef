"""Mentions and reposts with their authors; per-account post length limits

Revision ID: 0017_social_mentions
Revises: 0015_newsletter_blocks
Create Date: 2026-12-05 22:11:55.679768
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campaign.models.base

revision: str = "0017_social_mentions"
down_revision: str | Sequence[str] | None = "0015_newsletter_blocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_limit",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("max_characters", sa.Integer(), nullable=False),
        sa.Column("read_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_table(
        "social_mention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=20), nullable=False),
        sa.Column("remote_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("author_handle", sa.String(length=300), nullable=False),
        sa.Column("author_followers", sa.Integer(), nullable=False),
        sa.Column("at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "remote_id", name="uq_social_mention_remote"),
    )
    with op.batch_alter_table("social_mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_mention_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_social_mention_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("social_mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_mention_at"))
        batch_op.drop_index(batch_op.f("ix_social_mention_account"))

    op.drop_table("social_mention")
    op.drop_table("account_limit")
