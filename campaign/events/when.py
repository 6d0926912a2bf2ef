"""When an event really is: its own zone, its own local days, and the instant it is over.

Events are stored in UTC with the zone of their region (``Event.timezone``; empty for rows
imported before zones, read in ``[general] timezone``). Whoever announces an event compares
instants, never wall-clock times read in Paris: an 18:00 workshop in La Réunion is over before
a 17:30 Paris post, and a 23:30 evening in Guyane belongs to its own day, not to the next Paris
one. All-day events end at the midnight after their last day in their zone: a post any time of
their day is about an event that is on.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaign.models import Event
from campaign.models.events import DEFAULT_DURATION


def event_zone(event: Event, default: ZoneInfo) -> ZoneInfo:
    """The zone of the event's own clocks (``default``, the configured one, when unknown)."""
    if not event.timezone:
        return default
    try:
        return ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def is_all_day(event: Event, default: ZoneInfo) -> bool:
    """Given as days: stored so, or (a row imported before zones) starting at local midnight."""
    if event.all_day:
        return True
    if event.timezone:
        return False
    return event.starts_at.astimezone(default).time() == time.min


def deadline(event: Event, default: ZoneInfo | None = None) -> datetime:
    """The instant the event is over: its end, or its start plus two hours (an all-day event
    without an end, given ``default``: the midnight after its day)."""
    if event.ends_at is not None:
        return event.ends_at
    if default is not None and is_all_day(event, default):
        zone = event_zone(event, default)
        after = event.starts_at.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(after, time.min, tzinfo=zone)
    return event.starts_at + DEFAULT_DURATION


def is_over(event: Event, at: datetime, default: ZoneInfo | None = None) -> bool:
    """Whether a post at ``at`` would speak of an event already over."""
    return deadline(event, default) <= at


def is_to_come(event: Event, at: datetime, default: ZoneInfo) -> bool:
    """Whether a post at ``at`` may announce ``event`` as to come: it starts then or later, or
    it is an all-day event not over yet (on all its day)."""
    if is_all_day(event, default):
        return not is_over(event, at, default)
    return event.starts_at >= at


def has_started(event: Event, at: datetime) -> bool:
    return event.starts_at <= at


def first_day(event: Event, default: ZoneInfo) -> date:
    """The local day it starts on, in its own zone."""
    return event.starts_at.astimezone(event_zone(event, default)).date()


def last_day(event: Event, default: ZoneInfo) -> date:
    """The last local day it is on, in its own zone (an end at midnight ends the day before)."""
    zone = event_zone(event, default)
    if event.ends_at is None or event.ends_at <= event.starts_at:
        return first_day(event, default)
    end = event.ends_at.astimezone(zone)
    day = end.date() - timedelta(days=1) if end.time() == time.min else end.date()
    return max(day, first_day(event, default))


def is_on_day(event: Event, day: date, default: ZoneInfo) -> bool:
    """Whether ``day`` is one of the event's own local days."""
    return first_day(event, default) <= day <= last_day(event, default)


def local_day_of(moment: datetime, event: Event, default: ZoneInfo) -> date:
    """The day ``moment`` falls on where the event takes place."""
    return moment.astimezone(event_zone(event, default)).date()
