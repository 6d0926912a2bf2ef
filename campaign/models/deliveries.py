"""The delivery queue: one row per recipient of a newsletter, written before anything is sent.

Sending is a walk over these rows rather than over the audience, so a crash, a pause or a refused
SMTP login leaves a record of who has been mailed and who has not: the next run picks up the
``pending`` and ``deferred`` rows and nobody is mailed twice (except, at worst, the messages that
were in flight at the moment of a crash). The Message-ID of each message derives from the row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    pending = "pending"  # not tried yet
    sending = "sending"  # claimed by a send run, not acknowledged yet
    sent = "sent"  # accepted by the relay (2xx)
    deferred = "deferred"  # temporary refusal (4xx): tried again from next_attempt_at
    failed = "failed"  # could not be built or sent at all (bad address, too many attempts)
    bounced = "bounced"  # permanent refusal (5xx)
    # Not sent on purpose: the rule found no event for this reader and the newsletter says
    # "skip" (when_no_events). Kept as a row so that reports count them apart from addressed.
    left_out = "left_out"


# Statuses a send run takes rows from.
TO_SEND = (DeliveryStatus.pending, DeliveryStatus.deferred)


class Delivery(SQLModel, table=True):
    """One newsletter to one subscriber.

    ``email`` is the address it was sent to, kept for the send itself and for bounce matching;
    erasing the subscriber blanks it (the row and its counts stay).
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("newsletter_id", "subscriber_id"),
        Index("ix_delivery_newsletter_status", "newsletter_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    newsletter_id: int = Field(
        sa_column=Column(Integer, ForeignKey("newsletter.id", ondelete="CASCADE"), nullable=False)
    )
    subscriber_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("subscriber.id", ondelete="SET NULL")),
    )
    email: str = Field(sa_column=Column(String(320), nullable=False))
    status: str = Field(default=DeliveryStatus.pending, max_length=20)
    attempts: int = Field(default=0)
    last_reply: str = Field(default="", description="The server's last reply, or the error.")
    group_key: str = Field(
        default="", max_length=100, description="Audience group (region) it is rendered for."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When a deferred delivery may be retried."
    )


class BounceKind(StrEnum):
    hard = "hard"  # permanent failure (5.x.x, Action: failed): the address is dead
    soft = "soft"  # transient (4.x.x, Action: delayed): recorded, changes nothing
    complaint = "complaint"  # the recipient marked the message as spam (ARF report)
    unreadable = "unreadable"  # a message that could not be read at all: set aside, kept here
    unsubscribe = "unsubscribe"  # a message to the mailto address of List-Unsubscribe


class Bounce(SQLModel, table=True):
    """One bounce or complaint notice about one recipient, as received after sending.

    A person's message to the mailto address of List-Unsubscribe is kept here too (kind
    ``unsubscribe``), so that reading it again changes nothing. A message that could not be read
    at all is kept too (kind ``unreadable``, no address, the reason in ``diagnostic``), so that
    setting it aside leaves a trace an administrator finds.

    ``report_id`` (the notice's Message-ID, or a digest of its bytes; the column keeps the RFCs'
    word) with ``email`` is unique: ingesting the same notice twice adds nothing and changes
    nothing.
    """

    __tablename__ = "bounce"
    __table_args__ = (UniqueConstraint("report_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    report_id: str = Field(sa_column=Column(String(300), nullable=False))
    email: str = Field(default="", sa_column=Column(String(320), nullable=False))
    delivery_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("delivery.id", ondelete="SET NULL"), index=True),
    )
    subscriber_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("subscriber.id", ondelete="SET NULL")),
    )
    kind: str = Field(max_length=20)
    status: str = Field(default="", max_length=20, description="Enhanced status code (5.1.1).")
    action: str = Field(default="", max_length=20, description="failed, delayed, abuse…")
    diagnostic: str = Field(default="", description="The remote server's words.")
    matched_by: str = Field(default="", max_length=20, description="verp, message-id or none.")
