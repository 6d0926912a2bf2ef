"""Read-only questions the pages ask that the stages do not answer yet: search and paging.

They only read; every change goes through the stages' own functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from campaign.audience.lists import list_counts
from campaign.audience.subscribers import matching_text
from campaign.models import (
    AccountSnapshot,
    Event,
    MailingList,
    Membership,
    Newsletter,
    Post,
    PostStatus,
    Subscriber,
)
from campaign.newsletters.records import iter_audience
from campaign.newsletters.render import HTML_TEMPLATE, newsletter_folder


def template_names(templates_dir: Any = None) -> list[str]:
    folder = newsletter_folder(templates_dir)
    return sorted(
        path.parent.name
        for path in folder.glob(f"*/{HTML_TEMPLATE}")
        if not path.parent.name.startswith(("_", "."))
    )


def lists(session: Session) -> list[dict[str, Any]]:
    return list_counts(session)


def event_types(session: Session) -> list[str]:
    return sorted(name for name in session.exec(select(Event.event_type).distinct()).all() if name)


def audience_sample(session: Session, newsletter: Newsletter, count: int = 30) -> list[str]:
    """The first addresses of the audience, offered as "preview as…"."""
    return [s.email for s in islice(iter_audience(session, newsletter), count) if s.email]


@dataclass
class Page:
    rows: list[Any]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def search_subscribers(
    session: Session,
    *,
    text: str = "",
    status: str = "",
    list_name: str = "",
    region: str = "",
    page: int = 1,
    size: int = 50,
) -> Page:
    """Subscribers (not erased) matching every filter; ``text`` searches address, names and
    organisation, case-insensitively."""
    statement = matching_text(select(Subscriber).where(col(Subscriber.erased_at).is_(None)), text)
    if status:
        statement = statement.where(Subscriber.status == status)
    if region:
        statement = statement.where(Subscriber.region == region)
    if list_name:
        statement = statement.where(
            col(Subscriber.id).in_(
                select(Membership.subscriber_id)
                .join(MailingList, col(MailingList.id) == Membership.list_id)
                .where(MailingList.name == list_name, col(Membership.unsubscribed_at).is_(None))
            )
        )
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page = max(1, page)
    rows = session.exec(
        statement.order_by(col(Subscriber.id)).offset((page - 1) * size).limit(size)
    ).all()
    return Page(rows=list(rows), total=int(total), page=page, size=size)


def day_event_posts(session: Session, zone: ZoneInfo, day: date, account: str) -> list[Post]:
    """The event posts (posts featuring events) planned on ``account`` for the local ``day``,
    cancelled ones left out, in time order: what the planner page lists for review."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    statement = (
        select(Post)
        .where(Post.account == account, col(Post.scheduled_at) >= start)
        .where(col(Post.scheduled_at) < end, col(Post.status) != PostStatus.cancelled)
        .order_by(col(Post.scheduled_at), col(Post.id))
    )
    return [post for post in session.exec(statement) if post.event_ids]


def latest_followers(session: Session, account: str) -> AccountSnapshot | None:
    """The account's last follower count (measured or typed), for saying who sees a post."""
    return session.exec(
        select(AccountSnapshot)
        .where(AccountSnapshot.account == account)
        .order_by(col(AccountSnapshot.at).desc(), col(AccountSnapshot.id).desc())
        .limit(1)
    ).first()


def waiting_event_drafts(session: Session, account: str, since: datetime) -> list[Post]:
    """The planner's drafts (posts featuring events) on ``account`` not yet approved, from
    ``since`` on, in time order: what "approve all" on the planner page approves."""
    statement = (
        select(Post)
        .where(Post.account == account, Post.status == PostStatus.draft)
        .where(col(Post.scheduled_at) >= since)
        .order_by(col(Post.scheduled_at), col(Post.id))
    )
    return [post for post in session.exec(statement) if post.event_ids]
