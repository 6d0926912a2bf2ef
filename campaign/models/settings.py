"""Settings an admin changes in the dashboard, stored in the database over the config file.

Only a few keys live here (the sender identity, see :mod:`campaign.sender`); each row says who
changed it and when, so the settings page can say which value applies and where it comes from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class StoredSetting(SQLModel, table=True):
    __tablename__ = "stored_setting"

    key: str = Field(sa_column=Column(String(100), primary_key=True))
    value: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(default="", max_length=200)
