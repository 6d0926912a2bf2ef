"""The events catalogue of the Mois, as exported by the events website."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Column, String
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow

DEFAULT_DURATION = timedelta(hours=2)
"""How long an event without an end time is taken to last (posts, calendar files)."""


class Event(SQLModel, table=True):
    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(sa_column=Column(String(100), unique=True, nullable=False))
    title: str = Field(max_length=500)
    description: str = Field(default="")
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timezone: str = Field(
        default="",
        sa_column=Column(String(64), nullable=False, server_default=""),
        description=(
            "The zone its local times were read in and are shown in (its region's: "
            "Indian/Reunion…); empty: [general] timezone, as for rows imported before zones."
        ),
    )
    all_day: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default="0"),
        description="Given as days without a time: shown as days, never as 0h.",
    )
    venue: str = Field(default="", max_length=300)
    address: str = Field(default="", max_length=500)
    city: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=20)
    region: str = Field(default="", max_length=100, index=True)
    event_type: str = Field(default="", max_length=100)
    theme: str = Field(default="", max_length=200, index=True)
    publics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    organiser_name: str = Field(default="", max_length=300)
    organiser_family: str = Field(default="", max_length=100)
    organiser_sector: str = Field(default="", max_length=200)
    organiser_size: str = Field(default="", max_length=50)
    co_organisers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    url: str = Field(default="", max_length=1000)
    image_url: str = Field(default="", max_length=1000)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
