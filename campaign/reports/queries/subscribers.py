"""The subscribers report: list size by month, joining and leaving, by region and source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.models import (
    SubscriberStatus,
    UTCDateTime,
)
from campaign.reports.model import Period
from campaign.reports.queries.common import (
    _subscriber,
)

LEFT = {
    SubscriberStatus.unsubscribed: "unsubscribes",
    SubscriberStatus.bounced: "bounced",
    SubscriberStatus.complained: "complained",
}
"""Statuses that take someone off the list, and the monthly column each one is counted in."""


@dataclass
class MonthFigures:
    month: date  # its first day
    joined: int = 0
    unsubscribes: int = 0
    bounced: int = 0
    complained: int = 0
    subscribers: int = 0  # on the list at the end of the month


@dataclass
class GroupFigures:
    name: str
    subscribers: int = 0  # on the list at the end of the period
    joined: int = 0  # during the period
    left: int = 0  # during the period


@dataclass
class SubscriberFigures:
    months: list[MonthFigures]
    by_region: list[GroupFigures]
    by_source: list[GroupFigures]


def _month(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def subscriber_figures(session: Session, period: Period, now: datetime) -> SubscriberFigures:
    """List size at the end of each month, people joining and leaving, by region and source.

    Built from each person's row: joined when the imported file said (``joined_at``), else when
    created, left when their status became
    unsubscribed, bounced or complained (``status_changed_at``). People still awaiting
    confirmation are not counted. One pass over one row per subscriber (their dates only).
    """
    zone = period.zone
    people = _people(session, zone)
    first = period.start.replace(day=1) if period.start else None
    if first is None:
        first = min((person.joined for person in people), default=_month(now, zone))
    last = period.end.replace(day=1) if period.end else _month(now, zone)
    tally = _Tally(first, last)
    for person in people:
        tally.add(person)
    size = tally.before
    for figure in tally.months:
        size += figure.joined - figure.unsubscribes - figure.bounced - figure.complained
        figure.subscribers = size
    return SubscriberFigures(tally.months, _ordered(tally.regions), _ordered(tally.sources))


@dataclass(frozen=True)
class _Person:
    joined: date  # month
    left: date | None  # month, None while on the list
    status: SubscriberStatus
    region: str
    source: str


def _people(session: Session, zone: ZoneInfo) -> list[_Person]:
    """The months each confirmed subscriber joined and left in (dates only, one row each)."""
    people = []
    for row in session.execute(
        select(
            func.coalesce(_subscriber.joined_at, _subscriber.created_at, type_=UTCDateTime()).label(
                "joined_at"
            ),
            _subscriber.status,
            _subscriber.status_changed_at,
            _subscriber.region,
            _subscriber.source,
        ).where(_subscriber.status != SubscriberStatus.pending)
    ):
        joined = _month(row.joined_at, zone)
        left = _month(row.status_changed_at, zone) if row.status in LEFT else None
        people.append(_Person(joined, left, row.status, row.region or "", row.source or ""))
    return people


class _Tally:
    """The months from ``first`` to ``last``, the groups, and the net size before ``first``."""

    def __init__(self, first: date, last: date) -> None:
        self.first, self.last = first, last
        self.months: list[MonthFigures] = []
        month = first
        while month <= last:
            self.months.append(MonthFigures(month))
            month = _next_month(month)
        self.index = {figure.month: figure for figure in self.months}
        self.before = 0  # net size before the first month shown
        self.regions: dict[str, GroupFigures] = {}
        self.sources: dict[str, GroupFigures] = {}

    def add(self, person: _Person) -> None:
        """Count one person in the month they joined, and the one they left in."""
        groups = (
            self.regions.setdefault(person.region, GroupFigures(person.region)),
            self.sources.setdefault(person.source, GroupFigures(person.source)),
        )
        if person.joined > self.last:
            return
        if person.joined < self.first:
            self.before += 1
        elif person.joined in self.index:
            self.index[person.joined].joined += 1
            for group in groups:
                group.joined += 1
        if person.left is None or person.left > self.last:
            for group in groups:
                group.subscribers += 1
            return
        self._leave(person, groups)

    def _leave(self, person: _Person, groups: tuple[GroupFigures, ...]) -> None:
        assert person.left is not None
        if person.left < self.first:
            self.before -= 1
        elif person.left in self.index:
            figure = self.index[person.left]
            column = LEFT[person.status]
            setattr(figure, column, getattr(figure, column) + 1)
            for group in groups:
                group.left += 1


def _ordered(groups: dict[str, GroupFigures]) -> list[GroupFigures]:
    """The groups with someone in them, largest first, the unnamed one last among equals."""
    kept = [g for g in groups.values() if g.subscribers or g.joined or g.left]
    return sorted(kept, key=lambda g: (-g.subscribers, g.name == "", g.name))
