"""The calendar's month and week grids: which days to show and what falls on each.

Days are the team's local days (``[general] timezone``); an item belongs to the local day of its
time. Weeks start on Monday, as French calendars do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.models import Newsletter, Post, PostStatus
from campaign.newsletters import allowed as newsletter_rules
from campaign.scheduling.listing import PlanItem, planned_items
from campaign.social import allowed as post_rules


@dataclass(frozen=True)
class CalendarItem:
    kind: str  # "newsletter", "post" or "recurring" (a run of a calendar's recurring job)
    id: int
    title: str
    at: datetime  # aware, UTC
    status: str
    account: str = ""  # posts: the configured account name
    pending: bool = False  # may be given a new time (a drag handle): the stage's rule says
    note: str = ""  # why it was missed or failed; a recurring job's last outcome


def calendar_items(
    session: Session, settings: Settings, start: datetime, end: datetime
) -> list[CalendarItem]:
    """Newsletters and posts scheduled or sent in ``[start, end)``, and the runs of the
    recurring jobs (from the scheduler's listing), in time order.

    A newsletter or post sits at the time it went out, else at its scheduled time: one sent
    or published at once, without a time, is shown too. Missed ones carry their reason.
    """
    items: list[CalendarItem] = []
    newsletter_at = func.coalesce(col(Newsletter.sent_at), col(Newsletter.scheduled_at))
    for newsletter in session.exec(
        select(Newsletter).where(newsletter_at >= start, newsletter_at < end)
    ):
        items.append(
            CalendarItem(
                kind="newsletter",
                id=newsletter.id,  # type: ignore[arg-type]
                title=newsletter.title,
                at=newsletter.sent_at or newsletter.scheduled_at,  # type: ignore[arg-type]
                status=newsletter.status,
                pending=newsletter_rules.may(newsletter, newsletter_rules.MOVE) is None,
                note=newsletter.status_reason,
            )
        )
    post_at = func.coalesce(col(Post.published_at), col(Post.scheduled_at))
    for post in session.exec(select(Post).where(post_at >= start, post_at < end)):
        items.append(
            CalendarItem(
                kind="post",
                id=post.id,  # type: ignore[arg-type]
                title=post.parts[0] if post.parts else post.text,
                at=post.published_at or post.scheduled_at,  # type: ignore[arg-type]
                status=post.status,
                account=post.account,
                pending=post_rules.may(post, post_rules.MOVE) is None,
                note=post.last_error if post.status != PostStatus.published else "",
            )
        )
    for run in planned_items(
        session, settings, start=start, end=end, status="recurring", missed_always=False
    ):
        assert run.at is not None and run.id is not None
        items.append(
            CalendarItem(
                kind="recurring",
                id=run.id,
                title=(run.key or run.what).rsplit("/", 1)[-1],
                at=run.at,
                status=run.status,
                note=run.note,
            )
        )
    items.sort(key=lambda item: (item.at, item.kind, item.id))
    return items


def missed_items(session: Session, settings: Settings) -> list[PlanItem]:
    """Every newsletter and post marked missed, whatever its date (the scheduler's listing)."""
    return planned_items(session, settings, start=None, end=None, status="missed")


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
    session: Session, settings: Settings, view: str, around: date, account: str = ""
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
    zone = settings.zone
    start = datetime.combine(grid_start, time.min, tzinfo=zone)
    end = datetime.combine(grid_end, time.min, tzinfo=zone)
    days: dict[date, Day] = {}
    current = grid_start
    while current < grid_end:
        in_period = view == "week" or current.month == first.month
        days[current] = Day(current, in_period)
        current += timedelta(days=1)
    for item in calendar_items(session, settings, start, end):
        if account == "newsletters" and item.kind != "newsletter":
            continue
        if account and account != "newsletters" and item.account != account:
            continue  # one account: its posts only (recurring jobs are shown with everything)
        local_day = item.at.astimezone(zone).date()
        if local_day in days:
            days[local_day].items.append(item)
    ordered = list(days.values())
    weeks = [ordered[index : index + 7] for index in range(0, len(ordered), 7)]
    return Period(view=view, first=first, weeks=weeks, previous=previous, next=following)
