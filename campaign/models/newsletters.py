"""Newsletters: what to send, to whom, with which events, and where it stands.

The audience and the event selection are *rules* kept as JSON, not lists of people or events:
they are applied when the newsletter is previewed or sent, so a subscriber who joins or an event
imported after the newsletter was written is still taken into account.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class NewsletterStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    sending = "sending"
    paused = "paused"
    sent = "sent"
    cancelled = "cancelled"
    missed = "missed"  # its time passed while no scheduler could send it (see status_reason)


class WhenNoEvents(StrEnum):
    """What a reader gets when the rule finds no event for them (e.g. none in their region)."""

    national = "national"  # the rule's events of every region, in the rule's order
    nearest = "nearest"  # the events of the nearest regions ([neighbours] of the taxonomy)
    text = "text"  # the newsletter's no_events_text instead of the events section
    skip = "skip"  # not sent to them: their delivery row is left_out


class Newsletter(SQLModel, table=True):
    """One newsletter.

    ``list_ids``: the lists whose current members receive it. ``segment``: narrows them, e.g.
    ``{"region": ["Bretagne"], "famille": ["Coopérative"]}`` (region, language and organisation
    are subscriber columns, any other key is one of the subscriber's imported attributes).
    ``event_rule``: which events it features, e.g. ``{"from": "2016-11-01", "to": "2016-11-07",
    "regions": ["subscriber"], "themes": [], "types": [], "max": 6, "order": "date"}``, where
    the region ``subscriber`` means "the recipient's own region". ``content``: the template's
    other texts (``intro``, ``more_url``, ``paragraphs``, ``action_url``…), as its manifest declares
    them; ``blocks``: the body the person composed.
    """

    __tablename__ = "newsletter"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    subject: str = Field(max_length=500)
    preheader: str = Field(default="", max_length=500)
    # Empty: the configured sender ([mail] from_name / from_address).
    from_name: str = Field(default="", max_length=200)
    from_address: str = Field(default="", max_length=320)
    template: str = Field(max_length=100)
    list_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    event_rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The body: an ordered list of blocks (text, heading, image, button, events, callout,
    # divider), see campaign.newsletters.blocks.
    blocks: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # What readers for whom the rule finds no event get (see WhenNoEvents), and the text
    # shown to them in place of the events section when it is "text".
    when_no_events: str = Field(
        default=WhenNoEvents.national,
        max_length=20,
        sa_column_kwargs={"server_default": WhenNoEvents.national.value},
    )
    no_events_text: str = Field(
        default="", max_length=2000, sa_column_kwargs={"server_default": ""}
    )
    status: str = Field(default=NewsletterStatus.draft, max_length=20, index=True)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When sending began (the audience snapshot): the newsletter's date in reports.
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # True: opens and clicks are counted for the newsletter and its links without naming
    # anyone (the privacy setting, per newsletter; `[tracking] anonymous` sets it for all).
    anonymous_tracking: bool = Field(default=False)
    # Set when the newsletter comes from a campaign calendar: "<calendar>/<entry key>".
    schedule_key: str | None = Field(default=None, max_length=300, unique=True, index=True)
    # Why the scheduler or a calendar sync last set its status (missed, cancelled), for people.
    status_reason: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
