"""Selecting events from the catalogue: by days, region, daily theme and type.

The newsletters feature events "sur le territoire" and the X account posts three or four events a
day, so both need the same question answered: which events take place during these days, here,
on this theme. Days are the team's local days (Europe/Paris), both ends included, and an event
counts when any part of it falls in the window (a three-day festival shows on each of its days).
The newsletter stage adds "the subscriber's region" on top of :class:`EventQuery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from campaign.errors import CampaignError
from campaign.events.when import deadline
from campaign.formatting import event_zone, zone_name
from campaign.models.events import DEFAULT_DURATION, Event
from campaign.taxonomy import Taxonomy, fold

ORDERS = {
    "date": (col(Event.starts_at), col(Event.id)),
    "registered": (col(Event.registered_at), col(Event.id)),
    "title": (col(Event.title), col(Event.id)),
}


def over_at(event: Event) -> datetime:
    """When an event is over (one rule, :func:`campaign.events.when.deadline`): its end, or its
    start plus :data:`~campaign.models.events.DEFAULT_DURATION`."""
    return deadline(event)


@dataclass
class EventQuery:
    """Which events: ``start``/``end`` are aware datetimes, ``end`` excluded; empty lists: all.

    ``still_on_at``: only events not over at that moment (see :func:`over_at`), so that a
    newsletter sent late never features an event that already took place.
    """

    start: datetime | None = None
    end: datetime | None = None
    regions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    limit: int | None = None
    order: str = "date"
    still_on_at: datetime | None = None

    @classmethod
    def from_cli(
        cls,
        *,
        date_from: date | None,
        date_to: date | None,
        regions: list[str],
        themes: list[str],
        types: list[str],
        limit: int | None,
        taxonomy: Taxonomy,
        zone: ZoneInfo,
    ) -> EventQuery:
        """A query from what someone typed: local days (``date_to`` included), loose names."""
        if date_from and date_to and date_to < date_from:
            raise CampaignError.of("period.end_before_start", "to", start=date_from, end=date_to)
        start = datetime.combine(date_from, time.min, tzinfo=zone) if date_from else None
        end = (
            datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
            if date_to
            else None
        )
        return cls(
            start=start,
            end=end,
            regions=[
                _canonical(name, taxonomy.region, "region", taxonomy.regions) for name in regions
            ],
            themes=[
                _canonical(name, taxonomy.theme, "daily theme", taxonomy.themes) for name in themes
            ],
            types=[name.strip() for name in types if name.strip()],
            limit=limit,
        )


def _canonical(text: str, lookup: Any, noun: str, known: tuple[str, ...]) -> str:
    found = lookup(text)
    if found is None:
        raise CampaignError(f"Unknown {noun} {text!r}. Known: {', '.join(known)}.")
    return found


def _matching_types(session: Session, wanted: list[str]) -> list[str]:
    """The stored types that are one of ``wanted`` regardless of case and accents."""
    folded = {fold(name) for name in wanted}
    stored = session.exec(select(Event.event_type).distinct()).all()
    return [name for name in stored if fold(name) in folded]


def find_event(session: Session, ident: str) -> Event:
    """One event by its id on the events website, else by its number here (digits only);
    ``event.unknown`` when neither names one."""
    event = session.exec(select(Event).where(Event.source_id == ident)).first()
    if event is None and ident.isdigit():
        event = session.get(Event, int(ident))
    if event is None:
        raise CampaignError.of("event.unknown", "event", ident=ident)
    return event


def find_events(session: Session, query: EventQuery) -> list[Event]:
    """The events that overlap the window and match every filter, in ``query.order``."""
    if query.order not in ORDERS:
        raise CampaignError(f"Unknown order {query.order!r}; use one of {', '.join(ORDERS)}.")
    statement = select(Event)
    if query.end is not None:
        statement = statement.where(col(Event.starts_at) < query.end)
    if query.start is not None:
        # Starts inside the window, or is still running when the window opens.
        statement = statement.where(
            or_(
                col(Event.starts_at) >= query.start,
                and_(col(Event.ends_at).is_not(None), col(Event.ends_at) > query.start),
            )
        )
    if query.still_on_at is not None:
        moment = query.still_on_at
        statement = statement.where(
            or_(
                col(Event.ends_at) > moment,
                and_(
                    col(Event.ends_at).is_(None),
                    col(Event.starts_at) > moment - DEFAULT_DURATION,
                ),
            )
        )
    if query.regions:
        statement = statement.where(col(Event.region).in_(query.regions))
    if query.themes:
        statement = statement.where(col(Event.theme).in_(query.themes))
    if query.types:
        statement = statement.where(
            col(Event.event_type).in_(_matching_types(session, query.types))
        )
    statement = statement.order_by(*ORDERS[query.order])
    if query.limit:
        statement = statement.limit(query.limit)
    return list(session.exec(statement).all())


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def event_json(event: Event, zone: tzinfo) -> dict[str, Any]:
    """One event as stable JSON keys (times in ISO 8601, UTC), for ``--json`` and templates.

    ``timezone`` is the zone its local times are shown in (its own, or ``zone``, [general]
    timezone, for an event stored before events had zones). An ``all_day`` event's
    ``ends_at`` is the midnight (in that zone) after its last day.
    """
    return {
        "source_id": event.source_id,
        "title": event.title,
        "description": event.description,
        "starts_at": _iso(event.starts_at),
        "ends_at": _iso(event.ends_at),
        "timezone": zone_name(event_zone(event, zone)),
        "all_day": event.all_day,
        "venue": event.venue,
        "address": event.address,
        "city": event.city,
        "postcode": event.postcode,
        "region": event.region,
        "type": event.event_type,
        "theme": event.theme,
        "publics": list(event.publics),
        "organiser": {
            "name": event.organiser_name,
            "family": event.organiser_family,
            "sector": event.organiser_sector,
            "size": event.organiser_size,
        },
        "co_organisers": list(event.co_organisers),
        "registered_at": _iso(event.registered_at),
        "url": event.url,
        "image_url": event.image_url,
    }
