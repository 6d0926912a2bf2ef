"""Events imported before regions had time zones: read their times again in their own zone.

Until events carried a zone, every local time of an export was read in ``[general] timezone``
(Paris), so an 18:00 workshop in Saint-Denis de La Réunion was stored three hours late. Such
rows have an empty ``timezone``. :func:`rezone_events` takes each one's wall-clock times as
written in the export (its stored instant seen from the configured zone) and reads them in its
region's zone, and marks days given without times (local midnight, no other end than a
midnight) as all-day. A dry run lists what would change; rows already zoned are never touched,
so running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from campaign.models.events import Event
from campaign.taxonomy import Taxonomy


@dataclass
class ZoneChange:
    """What reading one event in its own zone changes."""

    event_id: int
    source_id: str
    title: str
    region: str
    zone: str
    old_start: datetime
    new_start: datetime
    old_end: datetime | None
    new_end: datetime | None
    all_day: bool

    @property
    def moved(self) -> bool:
        return self.old_start != self.new_start or self.old_end != self.new_end

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.event_id,
            "source_id": self.source_id,
            "title": self.title,
            "region": self.region,
            "timezone": self.zone,
            "starts_at": {"before": _iso(self.old_start), "after": _iso(self.new_start)},
            "ends_at": {"before": _iso(self.old_end), "after": _iso(self.new_end)},
            "all_day": self.all_day,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reread(moment: datetime, written_in: ZoneInfo, zone: ZoneInfo) -> datetime:
    """The same wall-clock time, read in ``zone`` instead of ``written_in``."""
    wall = _aware(moment).astimezone(written_in).replace(tzinfo=None)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _is_midnight(moment: datetime, zone: ZoneInfo) -> bool:
    return _aware(moment).astimezone(zone).time() == time.min


def _next_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    day = _aware(moment).astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _change(event: Event, taxonomy: Taxonomy, default: ZoneInfo) -> ZoneChange:
    zone = taxonomy.zone(event.region, default)
    start = _reread(event.starts_at, default, zone)
    end = _reread(event.ends_at, default, zone) if event.ends_at else None
    all_day = _is_midnight(start, zone) and (end is None or _is_midnight(end, zone))
    if all_day:  # days alone were given (the last one as its midnight): over the day after
        end = _next_midnight(end if end is not None and end > start else start, zone)
    assert event.id is not None
    return ZoneChange(
        event.id,
        event.source_id,
        event.title,
        event.region,
        zone.key,
        _aware(event.starts_at),
        start,
        _aware(event.ends_at) if event.ends_at else None,
        end,
        all_day,
    )


def rezone_events(
    session: Session, *, taxonomy: Taxonomy, zone: ZoneInfo, dry_run: bool
) -> list[ZoneChange]:
    """Read the times of every event imported before zones in its region's zone.

    Returns one change per such event (moved or not: each gets its zone recorded); writes
    nothing when ``dry_run``. Commits nothing.
    """
    events = session.exec(select(Event).where(col(Event.timezone) == "").order_by(col(Event.id)))
    changes = []
    for event in events:
        change = _change(event, taxonomy, zone)
        changes.append(change)
        if not dry_run:
            event.starts_at, event.ends_at = change.new_start, change.new_end
            event.timezone, event.all_day = change.zone, change.all_day
            session.add(event)
    if not dry_run:
        session.flush()
    return changes
