"""What readers did with a newsletter: the links it may lead to, and every open and click.

Hits are facts (docs/architecture.md): each open or click is appended as one row and never updated;
reports aggregate them. Machine opens (Apple Mail Privacy Protection, image proxies) and bot
clicks (link scanners) are stored like the others, with their classification, so reports can
show human figures and put the rest apart instead of silently dropping anything.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class HitKind(StrEnum):
    open = "open"
    click = "click"


class HitClass(StrEnum):
    human = "human"
    machine = "machine"  # an open by a privacy proxy or an image prefetcher, not a reader
    bot = "bot"  # a click by a link scanner, not a reader


class Link(SQLModel, table=True):
    """A URL that a tracked click of a newsletter may redirect to.

    A click token names a row of this table, never a URL: the redirect target always comes from
    here, so nobody can use the service as an open redirect.
    """

    __tablename__ = "link"
    __table_args__ = (UniqueConstraint("newsletter_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    newsletter_id: int = Field(
        sa_column=Column(Integer, ForeignKey("newsletter.id", ondelete="CASCADE"), nullable=False)
    )
    url: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Hit(SQLModel, table=True):
    """One open or one click.

    ``delivery_id`` is empty when tracking is anonymous (the privacy setting): the hit then
    counts for the newsletter and the link without naming anyone. ``ip_prefix`` is the
    requester's network truncated to /24 (IPv4) or /48 (IPv6); a full address is never stored.
    """

    __tablename__ = "hit"
    __table_args__ = (
        # Covers the reports' per-newsletter counts (totals and distinct deliveries).
        Index("ix_hit_report", "newsletter_id", "kind", "classification", "delivery_id"),
        Index("ix_hit_delivery", "delivery_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str = Field(max_length=10)
    classification: str = Field(default=HitClass.human, max_length=10)
    reason: str = Field(default="", max_length=100, description="Why it is not human, if not.")
    newsletter_id: int = Field(
        sa_column=Column(Integer, ForeignKey("newsletter.id", ondelete="CASCADE"), nullable=False)
    )
    delivery_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("delivery.id", ondelete="SET NULL")),
    )
    link_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("link.id", ondelete="SET NULL")),
    )
    user_agent: str = Field(default="", max_length=500)
    ip_prefix: str = Field(default="", max_length=50)
