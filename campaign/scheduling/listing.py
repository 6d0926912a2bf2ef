"""`schedule list`: what will happen when, and what did not happen when it should have.

Newsletters and posts with a time (whether they come from a calendar or were scheduled by hand)
and the next runs of the recurring jobs, in time order. Missed items are always included unless
a start date is given, so that nothing missed goes unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.models import (
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    RecurringJob,
    RecurringStatus,
    utcnow,
)
from campaign.scheduling.jobs import cron_triggers

MAX_RUNS = 100
"""At most this many future runs of one recurring job are listed."""


@dataclass
class PlanItem:
    at: datetime | None  # UTC
    kind: str  # newsletter, post, recurring
    id: int | None
    key: str | None  # schedule key (None: scheduled by hand)
    status: str
    what: str
    note: str = ""

    def to_json(self, settings: Settings) -> dict[str, Any]:
        return {
            "at": self.at.isoformat() if self.at else None,
            "local": self.at.astimezone(settings.zone).isoformat() if self.at else None,
            "kind": self.kind,
            "id": self.id,
            "key": self.key,
            "status": self.status,
            "what": self.what,
            "note": self.note,
        }


def _in_window(at: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if at is None:
        return False
    return (start is None or at >= start) and (end is None or at < end)


def _first_line(text: str, limit: int = 70) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class _Window:
    """Which items a listing wants: ``[start, end)``, one status, missed ones always or not."""

    start: datetime | None
    end: datetime | None
    status: str | None
    missed_always: bool

    def wants(self, at: datetime | None, row_status: str, missed: str) -> bool:
        if self.status and row_status != self.status:
            return False
        return _in_window(at, self.start, self.end) or (self.missed_always and row_status == missed)


def _newsletter_items(session: Session, window: _Window) -> list[PlanItem]:
    return [
        PlanItem(
            newsletter.scheduled_at,
            "newsletter",
            newsletter.id,
            newsletter.schedule_key,
            newsletter.status,
            newsletter.title,
            newsletter.status_reason,
        )
        for newsletter in session.exec(
            select(Newsletter).where(col(Newsletter.scheduled_at).is_not(None))
        )
        if window.wants(newsletter.scheduled_at, newsletter.status, NewsletterStatus.missed)
    ]


def _post_item(post: Post, handles: dict[str, str]) -> PlanItem:
    parts = f" (thread of {len(post.parts)})" if len(post.parts) > 1 else ""
    note = post.last_error if post.status != PostStatus.published else ""
    if post.status == PostStatus.published and post.dry_run:
        note = "dry run: not sent to X"
    return PlanItem(
        post.scheduled_at,
        "post",
        post.id,
        post.schedule_key,
        post.status,
        f"@{handles.get(post.account, post.account)}: {_first_line(post.text)}{parts}",
        note,
    )


def _post_items(session: Session, settings: Settings, window: _Window) -> list[PlanItem]:
    handles = {name: account.handle for name, account in settings.social.accounts.items()}
    return [
        _post_item(post, handles)
        for post in session.exec(select(Post).where(col(Post.scheduled_at).is_not(None)))
        if window.wants(post.scheduled_at, post.status, PostStatus.missed)
    ]


def _recurring_items(
    session: Session, settings: Settings, window: _Window, now: datetime
) -> list[PlanItem]:
    """The next runs of the active recurring jobs within the window (the first alone if it
    has no end; at most :data:`MAX_RUNS` per trigger)."""
    if window.status and window.status != "recurring":
        return []
    start, end = window.start, window.end
    items: list[PlanItem] = []
    for job in session.exec(
        select(RecurringJob).where(RecurringJob.status == RecurringStatus.active)
    ):
        account = job.spec.get("account")
        what = job.kind + (f" ({account})" if account else " (every account)")
        for _clock, trigger in cron_triggers(job, settings):
            first = max(start, now) if start else now
            moment = trigger.get_next_fire_time(None, first)
            count = 0
            while moment is not None and _in_window(moment, start, end) and count < MAX_RUNS:
                note = job.last_outcome if count == 0 else ""
                items.append(
                    PlanItem(moment, "recurring", job.id, job.schedule_key, "recurring", what, note)
                )
                count += 1
                if end is None:
                    break  # no end given: the next run says enough
                moment = trigger.get_next_fire_time(moment, moment)
    return items


def planned_items(
    session: Session,
    settings: Settings,
    *,
    start: datetime | None,
    end: datetime | None,
    status: str | None = None,
    missed_always: bool = True,
    now: datetime | None = None,
) -> list[PlanItem]:
    """Items of the window ``[start, end)`` in time order (``missed_always``: missed ones too)."""
    now = now or utcnow()
    window = _Window(start, end, status, missed_always)
    items = [
        *_newsletter_items(session, window),
        *_post_items(session, settings, window),
        *_recurring_items(session, settings, window, now),
    ]
    items.sort(key=lambda item: (item.at is None, item.at, item.kind, item.id or 0))
    return items
