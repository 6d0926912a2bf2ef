"""Every call the dashboard makes into a stage that is not on main yet, in one place.

The pages call the library directly where the stage exists (audience, events, newsletter
records, preview, queue, posts, length). The functions below stand in for stages being built
alongside the dashboard; each says which one replaces it. They are deliberately small and keep
to the stored columns those stages already own, so that plugging the real function in changes
this module only, never a page or a template:

* ``SEAM(#7 scheduler)``: :func:`calendar_items` (the calendar's entries; the scheduler's
  listing adds jobs and "missed"), :func:`schedule_newsletter` (also writes the job);
* ``SEAM(#6 posts)``: :func:`plan_event_posts` (``post plan-events``), :func:`schedule_post`
  (``post schedule``, the planner's approval), :func:`move_post` (``post edit --at``),
  :func:`cancel_post` (``post cancel``), :func:`day_drafts` and :func:`featured_event_ids`
  (what the planner page lists), and the stand-in text ``templates/web/admin/planner_post.txt.j2``
  (replaced by ``templates/posts/``);
* ``SEAM(#8 reports)``: :func:`newsletter_figures`, :func:`social_figures` and
  :func:`delivery_totals` (the reports page and the newsletters list's figures), to be replaced
  by the reports stage's aggregates; its downloads (CSV, XLSX, HTML) get links on that page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery, find_events
from campaign.models import (
    AccountSnapshot,
    Delivery,
    DeliveryStatus,
    Event,
    Hit,
    HitClass,
    HitKind,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    utcnow,
)
from campaign.newsletters.records import get_newsletter
from campaign.social.posts import create_post, get_post

# --- the calendar (SEAM #7) ---


@dataclass(frozen=True)
class CalendarItem:
    kind: str  # "newsletter" or "post"
    id: int
    title: str
    at: datetime  # aware, UTC
    status: str
    account: str = ""  # posts: the configured account name
    pending: bool = False  # may still be moved (not sent/published, not going out)


NEWSLETTER_MOVABLE = (NewsletterStatus.draft, NewsletterStatus.scheduled)
POST_MOVABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed)


def calendar_items(session: Session, start: datetime, end: datetime) -> list[CalendarItem]:
    """Newsletters and posts scheduled or sent in ``[start, end)``, in time order.

    SEAM(#7 scheduler): the scheduler's own listing (``campaign schedule list``) also knows the
    jobs and their "missed" state; when it lands, return its entries here.
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
                pending=newsletter.status in NEWSLETTER_MOVABLE,
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
                pending=post.status in POST_MOVABLE,
            )
        )
    items.sort(key=lambda item: (item.at, item.kind, item.id))
    return items


def schedule_newsletter(session: Session, newsletter_id: int, when: datetime) -> Newsletter:
    """Set the time a draft or scheduled newsletter goes out.

    SEAM(#7 scheduler): replace with the scheduler's function, which also writes the job.
    """
    newsletter = get_newsletter(session, newsletter_id)
    if newsletter.status not in NEWSLETTER_MOVABLE:
        raise CampaignError(
            f"Newsletter {newsletter_id} is {newsletter.status}; only a draft or scheduled "
            "newsletter can be scheduled."
        )
    if when.tzinfo is None:
        raise CampaignError("The sending time must carry a time zone.")
    newsletter.scheduled_at = when
    newsletter.status = NewsletterStatus.scheduled
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


# --- posts (SEAM #6) ---


def schedule_post(session: Session, post_id: int, when: datetime | None = None) -> Post:
    """Approve a post: it will be published at ``when`` (default: the time it was planned for).

    SEAM(#6 posts): replace with ``post schedule``'s function.
    """
    post = get_post(session, post_id)
    if post.status not in POST_MOVABLE:
        raise CampaignError(
            f"Post {post_id} is {post.status}; only a draft, scheduled or failed post can be "
            "scheduled."
        )
    when = when or post.scheduled_at
    if when is None:
        raise CampaignError(f"Post {post_id} has no publication time: give one.")
    if when.tzinfo is None:
        raise CampaignError("The publication time must carry a time zone.")
    post.scheduled_at = when
    post.status = PostStatus.scheduled
    post.updated_at = utcnow()
    session.add(post)
    session.commit()
    return post


def move_post(session: Session, post_id: int, when: datetime) -> Post:
    """Change when a pending post goes out, keeping its status (a draft stays to be approved).

    SEAM(#6 posts): replace with ``post edit --at``'s function.
    """
    post = get_post(session, post_id)
    if post.status not in POST_MOVABLE:
        raise CampaignError(f"Post {post_id} is {post.status}; it can no longer be moved.")
    if when.tzinfo is None:
        raise CampaignError("The publication time must carry a time zone.")
    post.scheduled_at = when
    post.updated_at = utcnow()
    session.add(post)
    session.commit()
    return post


def cancel_post(session: Session, post_id: int) -> Post:
    """SEAM(#6 posts): replace with ``post cancel``'s function."""
    post = get_post(session, post_id)
    if post.status not in POST_MOVABLE:
        raise CampaignError(f"Post {post_id} is {post.status}; it can no longer be cancelled.")
    post.status = PostStatus.cancelled
    post.updated_at = utcnow()
    session.add(post)
    session.commit()
    return post


DEFAULT_TIMES = (time(9, 0), time(12, 30), time(17, 30))


def featured_event_ids(session: Session) -> set[int]:
    featured: set[int] = set()
    for ids in session.exec(select(Post.event_ids).where(col(Post.status) != PostStatus.cancelled)):
        featured.update(ids or [])
    return featured


def day_drafts(session: Session, settings: Settings, day: date, account: str) -> list[Post]:
    """The event posts planned for ``day`` (local) on ``account``, in time order."""
    zone = settings.zone
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = start + timedelta(days=1)
    statement = (
        select(Post)
        .where(Post.account == account, col(Post.scheduled_at) >= start)
        .where(col(Post.scheduled_at) < end, col(Post.status) != PostStatus.cancelled)
        .order_by(col(Post.scheduled_at), col(Post.id))
    )
    return [post for post in session.exec(statement) if post.event_ids]


def plan_event_posts(
    session: Session,
    settings: Settings,
    *,
    day: date,
    account: str,
    times: Sequence[time] = DEFAULT_TIMES,
    templates_dir: Path | str | None = None,
) -> list[Post]:
    """Draft one post per time slot of ``day``, each featuring an event of that day.

    SEAM(#6 posts): a stand-in for ``plan_event_posts`` (variety of regions and themes, post
    templates in ``templates/posts/``, hashtags); it only picks events not featured yet,
    preferring regions and themes not used yet that day, and writes the text from
    ``planner_post.txt.j2``. Drafts are to be reviewed, then approved (:func:`schedule_post`).
    """
    zone = settings.zone
    start = datetime.combine(day, time.min, tzinfo=zone)
    events = find_events(session, EventQuery(start=start, end=start + timedelta(days=1)))
    # Events starting that day first: "today at 18h30" must be true of the event.
    events.sort(key=lambda event: event.starts_at < start)
    chosen = _varied(events, featured_event_ids(session), len(times))
    template = _post_template(templates_dir)
    posts = []
    for slot, event in zip(times, chosen, strict=False):
        local_start = event.starts_at.astimezone(zone)
        timed = local_start >= start and (local_start.hour, local_start.minute) != (0, 0)
        heure = local_start.strftime("%Hh%M") if timed else ""  # midnight: an all-day event
        text = " ".join(template.render(event=event, heure=heure).split())
        post = create_post(
            session,
            settings,
            account=account,
            text=text,
            split=True,
            scheduled_at=datetime.combine(day, slot, tzinfo=zone),
            event_ids=[event.id],  # type: ignore[list-item]
        )
        post.status = PostStatus.draft  # planned, waiting for a person's approval
        session.add(post)
        session.commit()
        posts.append(post)
    return posts


def _varied(events: list[Event], featured: set[int], count: int) -> list[Event]:
    """Up to ``count`` events not featured yet, each time the first one whose region and theme
    are the least used so far (events keep their order among equals)."""
    candidates = [event for event in events if event.id not in featured]
    chosen: list[Event] = []
    regions: set[str] = set()
    themes: set[str] = set()
    while candidates and len(chosen) < count:
        best = min(
            candidates,
            key=lambda event: (event.region in regions) + (event.theme in themes),
        )
        candidates.remove(best)
        chosen.append(best)
        regions.add(best.region)
        themes.add(best.theme)
    return chosen


def _post_template(templates_dir: Path | str | None) -> jinja2.Template:
    from campaign.dashboard.web import TEMPLATES

    folder = Path(templates_dir) / "web" / "admin" if templates_dir else TEMPLATES
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), autoescape=False, keep_trailing_newline=False
    )
    return environment.get_template("planner_post.txt.j2")


# --- figures (SEAM #8) ---


@dataclass(frozen=True)
class NewsletterFigures:
    newsletter_id: int
    title: str
    date: datetime | None
    addressed: int = 0  # Destinataires
    delivered: int = 0  # Destinataires réels: addressed minus bounced and failed
    opens: int = 0  # Ouvertures: human opens, total
    clicks: int = 0  # Clics: human clicks, total
    unique_opens: int = 0
    unique_clicks: int = 0
    bounced: int = 0
    pending: int = 0


def newsletter_figures(
    session: Session, newsletter_ids: Sequence[int] | None = None
) -> dict[int, NewsletterFigures]:
    """The yearly report's columns per newsletter, from the delivery rows and the hits.

    SEAM(#8 reports): replace with the reports stage's aggregate (which also gives rates,
    unsubscribes, machine opens and bot clicks apart).
    """
    newsletters = select(Newsletter)
    if newsletter_ids is not None:
        newsletters = newsletters.where(col(Newsletter.id).in_(list(newsletter_ids)))
    rows = {n.id: n for n in session.exec(newsletters)}
    if not rows:
        return {}
    status = col(Delivery.status)
    deliveries = {
        newsletter_id: (addressed, delivered, bounced, pending)
        for newsletter_id, addressed, delivered, bounced, pending in session.exec(
            select(
                Delivery.newsletter_id,
                func.count(),
                func.sum(case((status == DeliveryStatus.sent, 1), else_=0)),
                func.sum(case((status == DeliveryStatus.bounced, 1), else_=0)),
                func.sum(
                    case(
                        (
                            status.in_(
                                [DeliveryStatus.pending, DeliveryStatus.deferred, "sending"]
                            ),
                            1,
                        ),
                        else_=0,
                    )
                ),
            )
            .where(col(Delivery.newsletter_id).in_(list(rows)))
            .group_by(Delivery.newsletter_id)
        )
    }
    hits: dict[tuple[int, str], tuple[int, int]] = {}
    for newsletter_id, kind, total, unique in session.exec(
        select(
            Hit.newsletter_id, Hit.kind, func.count(), func.count(func.distinct(Hit.delivery_id))
        )
        .where(col(Hit.newsletter_id).in_(list(rows)), Hit.classification == HitClass.human)
        .group_by(Hit.newsletter_id, Hit.kind)
    ):
        hits[(newsletter_id, kind)] = (total, unique)
    result = {}
    for newsletter_id, newsletter in rows.items():
        addressed, delivered, bounced, pending = deliveries.get(newsletter_id, (0, 0, 0, 0))
        opens = hits.get((newsletter_id, HitKind.open), (0, 0))
        clicks = hits.get((newsletter_id, HitKind.click), (0, 0))
        result[newsletter_id] = NewsletterFigures(
            newsletter_id=newsletter_id,
            title=newsletter.title,
            date=newsletter.sent_at,
            addressed=int(addressed or 0),
            delivered=int(delivered or 0),
            bounced=int(bounced or 0),
            pending=int(pending or 0),
            opens=opens[0],
            unique_opens=opens[1],
            clicks=clicks[0],
            unique_clicks=clicks[1],
        )
    return result


@dataclass(frozen=True)
class AccountFigures:
    account: str
    handle: str
    published: int
    scheduled: int
    followers: int | None


def social_figures(session: Session, settings: Settings) -> list[AccountFigures]:
    """Per account: posts published and scheduled, followers at the last snapshot.

    SEAM(#8 reports): replace with the social report (followers over time, reposts, mentions).
    """
    counts: dict[tuple[str, str], int] = {
        (account, status): number
        for account, status, number in session.exec(
            select(Post.account, Post.status, func.count()).group_by(Post.account, Post.status)
        )
    }
    result = []
    for name, account in settings.social.accounts.items():
        latest = session.exec(
            select(AccountSnapshot.followers)
            .where(AccountSnapshot.account == name)
            .order_by(col(AccountSnapshot.at).desc())
            .limit(1)
        ).first()
        result.append(
            AccountFigures(
                account=name,
                handle=account.handle,
                published=counts.get((name, PostStatus.published), 0),
                scheduled=counts.get((name, PostStatus.scheduled), 0),
                followers=latest,
            )
        )
    return result


def delivery_totals(session: Session) -> dict[str, Any]:
    """Deliveries and hits over every newsletter (the reports page's headline)."""
    sent = session.exec(
        select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.sent)
    ).one()
    human = and_(Hit.classification == HitClass.human)
    opens = session.exec(
        select(func.count()).select_from(Hit).where(human, Hit.kind == HitKind.open)
    ).one()
    clicks = session.exec(
        select(func.count()).select_from(Hit).where(human, Hit.kind == HitKind.click)
    ).one()
    others = session.exec(
        select(func.count())
        .select_from(Hit)
        .where(or_(Hit.classification == HitClass.machine, Hit.classification == HitClass.bot))
    ).one()
    return {"delivered": sent, "opens": opens, "clicks": clicks, "machine_or_bot": others}
