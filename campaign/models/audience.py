"""Subscribers, their lists and the consent log (the proof of consent RGPD asks for)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class SubscriberStatus(StrEnum):
    pending = "pending"  # waiting for double opt-in confirmation
    active = "active"
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"


# Statuses an import, a form or an admin "add" must never turn back into active.
SUPPRESSED = frozenset(
    {SubscriberStatus.unsubscribed, SubscriberStatus.bounced, SubscriberStatus.complained}
)


class Subscriber(SQLModel, table=True):
    __tablename__ = "subscriber"

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every engine. NULL once erased.
    email: str | None = Field(default=None, sa_column=Column(String(320), unique=True))
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=300)
    region: str = Field(default="", max_length=100, index=True)
    postcode: str = Field(default="", max_length=20)
    language: str = Field(default="fr", max_length=10)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=SubscriberStatus.active, max_length=20, index=True)
    source: str = Field(default="", max_length=300, description="How the person first came in.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the person joined, as an imported file said (a "Date d'inscription" column), when
    # that was before the row was created; NULL: they joined when created (``created_at``).
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailingList(SQLModel, table=True):
    __tablename__ = "mailing_list"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    description: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    """A subscriber on a list; leaving one list keeps the row with ``unsubscribed_at`` set."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("subscriber_id", "list_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=False)
    )
    list_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mailing_list.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    subscribed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentAction(StrEnum):
    subscribed = "subscribed"
    confirmed = "confirmed"
    updated = "updated"
    unsubscribed = "unsubscribed"
    resubscribed = "resubscribed"
    bounced = "bounced"
    complained = "complained"
    erased = "erased"


class ConsentEvent(SQLModel, table=True):
    """One line of the consent log: what happened, when, how and on whose word."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_subscriber", "subscriber_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=False)
    )
    list_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("mailing_list.id", ondelete="SET NULL")),
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(max_length=20)
    method: str = Field(max_length=20, description="import, form, manual, link, bounce, api")
    source: str = Field(default="", max_length=300, description="File and row, form URL, …")
    actor: str = Field(default="", max_length=200, description="Who did it (login, system user).")
    detail: str = Field(default="")
