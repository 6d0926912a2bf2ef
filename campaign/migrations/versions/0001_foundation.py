"""subscribers, lists, consent log and events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 14:32:04.821784
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import campaign.models.base

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Alembic's generated commands, in their order, grouped by table (DDL as generated).
    _events()
    _lists_and_subscribers()
    _consent_and_memberships()


def _events() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("starts_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", campaign.models.base.UTCDateTime(), nullable=True),
        sa.Column("venue", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("publics", sa.JSON(), nullable=False),
        sa.Column("organiser_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("organiser_family", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("organiser_sector", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("organiser_size", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("co_organisers", sa.JSON(), nullable=False),
        sa.Column("registered_at", campaign.models.base.UTCDateTime(), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("image_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_theme"), ["theme"], unique=False)


def _lists_and_subscribers() -> None:
    op.create_table(
        "mailing_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("status_changed_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("erased_at", campaign.models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriber_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriber_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriber_status"), ["status"], unique=False)


def _consent_and_memberships() -> None:
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.create_index("ix_consent_event_subscriber", ["subscriber_id", "at"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("subscribed_at", campaign.models.base.UTCDateTime(), nullable=False),
        sa.Column("unsubscribed_at", campaign.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscriber_id", "list_id"),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_list_id"), ["list_id"], unique=False)


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_list_id"))

    op.drop_table("membership")
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_event_subscriber")

    op.drop_table("consent_event")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriber_status"))
        batch_op.drop_index(batch_op.f("ix_subscriber_region"))
        batch_op.drop_index(batch_op.f("ix_subscriber_created_at"))

    op.drop_table("subscriber")
    op.drop_table("mailing_list")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_theme"))
        batch_op.drop_index(batch_op.f("ix_event_starts_at"))
        batch_op.drop_index(batch_op.f("ix_event_region"))

    op.drop_table("event")
    # ### end Alembic commands ###
