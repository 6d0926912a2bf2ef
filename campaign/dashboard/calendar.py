"""The calendar's month and week grids: which days to show and what falls on each.

Days are the team's local days (``[general] timezone``); an item belongs to the local day of its
time. Weeks start on Monday, as French calendars do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from campaign.dashboard.stages import CalendarItem, calendar_items


@dataclass
class Day:
    day: date
    in_period: bool
    items: list[CalendarItem] = field(default_factory=list)


@dataclass
class Period:
    view: str  # "month" or "week"
    first: date  # first day of the month or of the week
    weeks: list[list[Day]]
    previous: date
    next: date

    @property
    def count(self) -> int:
        return sum(len(day.items) for week in self.weeks for day in week if day.in_period)


def month_start(day: date) -> date:
    return day.replace(day=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def build_period(
    session: Session, view: str, around: date, zone: ZoneInfo, account: str = ""
) -> Period:
    """The grid of ``view`` containing ``around``, filled with its items.

    ``account``: "" for everything, "newsletters" for newsletters only, else one account's posts.
    """
    if view == "week":
        first = week_start(around)
        grid_start, grid_end = first, first + timedelta(days=7)
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    else:
        view = "month"
        first = month_start(around)
        following = _add_months(first, 1)
        previous = _add_months(first, -1)
        grid_start = week_start(first)
        grid_end = week_start(following - timedelta(days=1)) + timedelta(days=7)
    start = datetime.combine(grid_start, time.min, tzinfo=zone)
    end = datetime.combine(grid_end, time.min, tzinfo=zone)
    days: dict[date, Day] = {}
    current = grid_start
    while current < grid_end:
        in_period = view == "week" or current.month == first.month
        days[current] = Day(current, in_period)
        current += timedelta(days=1)
    for item in calendar_items(session, start, end):
        if account == "newsletters" and item.kind != "newsletter":
            continue
        if account and account != "newsletters" and item.account != account:
            continue
        local_day = item.at.astimezone(zone).date()
        if local_day in days:
            days[local_day].items.append(item)
    ordered = list(days.values())
    weeks = [ordered[index : index + 7] for index in range(0, len(ordered), 7)]
    return Period(view=view, first=first, weeks=weeks, previous=previous, next=following)
