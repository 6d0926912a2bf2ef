"""What the scheduler keeps: its armed jobs, and the recurring jobs of the campaign calendars.

Newsletters and posts carry their own time and status (``scheduled_at``, ``status``): those rows
are the truth. ``scheduler_job`` is APScheduler's job store, written only by the process that
leads the scheduler; each job holds a function reference and ids, as JSON (never a pickle).
``recurring_job`` holds the calendar rules that fire again and again without a row of their own
(the weekly metrics sync), with what happened the last time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Double, Text, Unicode
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class SchedulerJob(SQLModel, table=True):
    """One armed APScheduler job (the columns APScheduler's SQLAlchemy job store expects).

    ``job_state`` is JSON written by :class:`campaign.scheduling.jobstore.JsonJobStore`.
    """

    __tablename__ = "scheduler_job"

    id: str = Field(sa_column=Column(Unicode(191), primary_key=True))
    next_run_time: float | None = Field(default=None, sa_column=Column(Double, index=True))
    job_state: str = Field(sa_column=Column(Text, nullable=False))


class RecurringStatus(StrEnum):
    active = "active"
    cancelled = "cancelled"  # its rule was removed from the calendar


class RecurringJob(SQLModel, table=True):
    """A recurring rule of a calendar that runs a job (not a post or a newsletter) each time.

    ``spec``: ``{"days": [0, …], "times": ["10:00"], "from": "2026-11-02" | None,
    "to": … | None, "account": … | None}`` (weekdays 0 = Monday, times local).
    """

    __tablename__ = "recurring_job"

    id: int | None = Field(default=None, primary_key=True)
    schedule_key: str = Field(max_length=300, unique=True, index=True)
    kind: str = Field(max_length=40)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=RecurringStatus.active, max_length=20)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_outcome: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
