"""Newsletters: what readers without events get (when_no_events, no_events_text)

Revision ID: 0011_empty_events
Revises: 0010_event_zones
Create Date: 2026-12-04 21:36:11.950753

Existing newsletters get "national": a reader with no event of their own region receives the
rule's events of every region rather than an empty events section.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_empty_events"
down_revision: str | Sequence[str] | None = "0010_event_zones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("newsletter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "when_no_events", sa.String(length=20), server_default="national", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("no_events_text", sa.String(length=2000), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("newsletter", schema=None) as batch_op:
        batch_op.drop_column("no_events_text")
        batch_op.drop_column("when_no_events")
