"""Posts: write them, review and schedule them, publish them exactly once.

Publishing is a small state machine kept in the database. A post is claimed with one atomic
UPDATE (so two schedulers or a scheduler and a person cannot publish it together), every remote
id is committed the moment X returns it, and a thread that failed half-way resumes from the
first part without an id. A published post is never sent again.

When X says "too many requests", the post goes back to ``scheduled`` with ``not_before`` set to
X's reset time and the reason in ``last_error``: nothing sleeps inside a call, and the next run
(the scheduler, or ``campaign post publish``) tries again after the reset. When an attempt got
no clear answer, ``uncertain_since`` makes the next attempt look for the post on X first.

These functions are the library the scheduler calls; the CLI only parses and prints.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.models import Post, PostStatus, utcnow
from campaign.social import Outgoing, SocialTransport, TransportError
from campaign.social.cost import Estimate, estimate, usage_of
from campaign.social.length import MAX_WEIGHTED_LENGTH, check_length, split_thread
from campaign.social.media import check_images, keep_images, outgoing_images
from campaign.social.moving import rewrite_for, text_digest
from campaign.social.x import account_settings, transport_for

log = logging.getLogger(__name__)

# A post left "publishing" longer than this was abandoned by a crashed process: it may be resumed.
STALE_CLAIM = timedelta(minutes=10)
PUBLISHABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed)
EDITABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed)
_SEPARATOR = re.compile(r"^\s*---+\s*$", re.MULTILINE)
_UNSET: Any = object()


class RetryLater(CampaignError):
    """X asked us to wait: the post is kept and may be published after ``retry_at``."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


# --- texts -------------------------------------------------------------------------------------


def thread_parts(text: str) -> list[str]:
    """The parts of a thread written in one file.

    Parts are separated by a line holding only ``---``; a file without such a line has one
    part per paragraph (blank lines between them). Lines inside a part are kept as written.
    """
    chunks = _SEPARATOR.split(text) if _SEPARATOR.search(text) else re.split(r"\n\s*\n", text)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def checked_parts(parts: Sequence[str], *, split: bool, post_id: int | None = None) -> list[str]:
    """Every part as X will count it; with ``split``, a part too long becomes several.

    ``post_id``: the post's number, named by the CLI's message (none: "The post")."""
    result: list[str] = []
    several = len(parts) > 1
    for number, part in enumerate(parts, 1):
        part = part.strip()
        if not part:
            continue
        weighted, valid = check_length(part)
        if valid:
            result.append(part)
        elif split:
            result.extend(split_thread(part))
        else:
            raise CampaignError.of(
                "post.part_too_long" if several else "post.too_long",
                "text",
                post_id=post_id or 0,
                part=number,
                length=weighted,
                over=weighted - MAX_WEIGHTED_LENGTH,
                limit=MAX_WEIGHTED_LENGTH,
            )
    if not result:
        raise CampaignError.of("post.empty", "text", post_id=post_id or 0)
    return result


def _text_of(parts: Sequence[str]) -> str:
    return "\n\n".join(parts)


# --- writing -----------------------------------------------------------------------------------


def create_post(
    session: Session,
    settings: Settings,
    *,
    account: str,
    text: str | None = None,
    parts: Sequence[str] | None = None,
    scheduled_at: datetime | None = None,
    split: bool = False,
    images: Sequence[Mapping[str, Any]] = (),
    event_ids: Sequence[int] = (),
    draft: bool | None = None,
    now: datetime | None = None,
    template: str = "",
) -> Post:
    """Store a new post: one ``text`` (cut into a thread with ``split``) or given ``parts``.

    Lengths are checked the way X counts them and images the way X takes them. The post is
    ``scheduled`` when it has a time, unless ``draft`` (for review first, as planned posts are).
    ``template``: the post template the text was generated from with ``event_ids``, so that a
    move writes it again for its new time (see :mod:`campaign.social.moving`).
    """
    account_settings(settings, account)
    if parts is None:
        source = (text or "").strip()
        pieces = checked_parts([source], split=split) if source else []
    else:
        pieces = checked_parts(parts, split=split)
    if not pieces:
        raise CampaignError.of("post.empty", "text", post_id=0)
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise CampaignError("The publication time must carry a time zone.")
    if draft is None:
        draft = scheduled_at is None
    if not draft and scheduled_at is not None and scheduled_at <= (now or utcnow()):
        raise CampaignError.of(
            "post.create_time_past", "scheduled_at", at=scheduled_at.astimezone(settings.zone)
        )
    # Kept in the media folder: the only place the dashboard shows a post's images from.
    stored_images = keep_images(check_images(images), settings.dashboard.media_dir)
    post = Post(
        account=account,
        text=_text_of(pieces) if parts is not None else (text or "").strip(),
        parts=pieces,
        images=stored_images,
        scheduled_at=scheduled_at,
        status=PostStatus.draft if draft else PostStatus.scheduled,
        event_ids=list(event_ids),
    )
    if template and post.event_ids:
        post.template = template
        post.generated_digest = text_digest(post.text)
    session.add(post)
    session.commit()
    session.refresh(post)
    return post


def list_posts(
    session: Session, *, account: str | None = None, status: str | None = None
) -> list[Post]:
    """Posts in publication order (unscheduled drafts last)."""
    query = select(Post)
    if account:
        query = query.where(Post.account == account)
    if status:
        query = query.where(Post.status == status)
    query = query.order_by(col(Post.scheduled_at).is_(None), col(Post.scheduled_at), col(Post.id))
    return list(session.exec(query))


def get_post(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise CampaignError(f"No post number {post_id} (see `campaign post list`).")
    return post


def edit_post(
    session: Session,
    settings: Settings,
    post_id: int,
    *,
    text: str | None = None,
    parts: Sequence[str] | None = None,
    split: bool = False,
    scheduled_at: datetime | None = _UNSET,
    images: Sequence[Mapping[str, Any]] | None = None,
) -> Post:
    """Change what is given of a post not yet (even partly) published; its status is kept.

    ``scheduled_at=None`` removes the time (a scheduled post then goes back to draft);
    ``images=[]`` removes the images. A post generated from events given a new time without a
    new text is written again for that time, or the move is refused (:mod:`.moving`).
    """
    post = get_post(session, post_id)
    label = f"Post {post_id}"
    if post.status not in EDITABLE or post.remote_ids:
        partly = post.remote_ids and post.status != PostStatus.published
        raise CampaignError(
            f"{label} is {post.status}{' (partly published)' if partly else ''}: "
            "only posts not yet published can be edited."
        )
    if scheduled_at is not _UNSET and scheduled_at is not None and scheduled_at.tzinfo is None:
        raise CampaignError("The publication time must carry a time zone.")
    if scheduled_at is not _UNSET and scheduled_at is not None and text is None and parts is None:
        rewritten = rewrite_for(session, settings, post, scheduled_at)  # before any change
        if rewritten is not None:
            post.parts = checked_parts(rewritten.parts, split=True, post_id=post_id)
            post.text = rewritten.text
            post.generated_digest = rewritten.digest
    if text is not None:
        post.parts = checked_parts([text], split=split, post_id=post_id)
        post.text = text.strip()
    elif parts is not None:
        post.parts = checked_parts(parts, split=split, post_id=post_id)
        post.text = _text_of(post.parts)
    if images is not None:
        post.images = keep_images(check_images(images, post=label), settings.dashboard.media_dir)
    if scheduled_at is not _UNSET:
        post.scheduled_at = scheduled_at
        post.not_before = None
        if scheduled_at is None and post.status == PostStatus.scheduled:
            post.status = PostStatus.draft
    post.updated_at = utcnow()
    session.add(post)
    session.commit()
    session.refresh(post)
    return post


def cancel_post(session: Session, post_id: int) -> Post:
    """Make sure a post is never published (what is already on X stays there)."""
    post = get_post(session, post_id)
    if post.status == PostStatus.cancelled:
        return post
    if post.status == PostStatus.published:
        raise CampaignError(f"Post {post_id} is already published: delete it on X if it must go.")
    claimed = session.execute(
        update(Post)
        .where(col(Post.id) == post_id)
        .where(col(Post.status) != PostStatus.publishing)
        .values(status=PostStatus.cancelled, updated_at=utcnow())
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise CampaignError(f"Post {post_id} is being published right now; try again shortly.")
    session.refresh(post)
    return post


def reschedule_post(
    session: Session,
    settings: Settings,
    post_id: int,
    scheduled_at: datetime,
    *,
    now: datetime | None = None,
) -> Post:
    """Give a post not yet published a new time still to come (the calendar's "move").

    Like :func:`edit_post` with ``scheduled_at``, its status kept, except that a post the
    scheduler marked ``missed`` (its time passed while no service ran) or that ``failed`` (X
    refused or failed; a thread resumes from its first part not on X) is scheduled again, as a
    calendar sync does when an entry gets a new time. A time already past is refused: the
    scheduler would publish the post at once or mark it missed, never what the person meant.
    A post generated from events is written again for the new time, or refused
    (:class:`~campaign.social.moving.MoveRefused`) keeping its time (see :mod:`.moving`).
    """
    if scheduled_at.tzinfo is None:
        raise CampaignError("The publication time must carry a time zone.")
    if scheduled_at <= (now or utcnow()):
        raise CampaignError.of("schedule.time_past", "at", at=scheduled_at)
    post = get_post(session, post_id)
    if not post.remote_ids:
        rewrite_for(session, settings, post, scheduled_at)  # refused before anything changes
    if post.status in (PostStatus.missed, PostStatus.failed):
        post.status = PostStatus.scheduled
        post.last_error = ""
        if post.remote_ids:  # a thread that stopped half-way: only its time changes
            post.scheduled_at = scheduled_at
            post.not_before = None
            post.updated_at = utcnow()
            session.add(post)
            session.commit()
            session.refresh(post)
            return post
    return edit_post(session, settings, post_id, scheduled_at=scheduled_at)


# --- scheduling --------------------------------------------------------------------------------


@dataclass
class ScheduleResult:
    """Posts now scheduled, those refused with the reason, and what they will cost."""

    scheduled: list[Post] = field(default_factory=list)
    refused: list[tuple[int, Message | str]] = field(default_factory=list)
    estimate: Estimate | None = None
    dry_run_accounts: list[str] = field(default_factory=list)


def _schedule_problem(post: Post, now: datetime) -> Message | str | None:
    if post.status == PostStatus.scheduled:
        return None  # already scheduled: nothing to do, not a problem
    if post.status != PostStatus.draft:
        return message("post.not_draft", status=post.status)
    if post.scheduled_at is None:
        return message("post.no_time", "scheduled_at", post_id=post.id)
    if post.scheduled_at <= now:
        return message("post.time_past", "scheduled_at", post_id=post.id)
    try:
        checked_parts(post.parts, split=False, post_id=post.id)
        check_images(post.images, post=f"Post {post.id}")
    except CampaignError as exc:
        return exc.messages[0] if exc.messages else str(exc)
    return None


def schedule_posts(
    session: Session,
    settings: Settings,
    post_ids: Iterable[int] = (),
    *,
    all_drafts: bool = False,
    account: str | None = None,
    now: datetime | None = None,
) -> ScheduleResult:
    """Turn reviewed drafts into scheduled posts, checking each again (texts, images, time).

    A draft that cannot be scheduled is reported with the reason and left as it is; the others
    go through. The estimate covers the posts scheduled now.
    """
    now = now or utcnow()
    ids = list(post_ids)
    if not ids and not all_drafts:
        raise CampaignError.of("post.nothing_to_schedule")
    posts = [get_post(session, post_id) for post_id in ids]
    if all_drafts:
        known = {post.id for post in posts}
        posts += [
            post
            for post in list_posts(session, account=account, status=PostStatus.draft)
            if post.id not in known
        ]
    result = ScheduleResult()
    for post in posts:
        assert post.id is not None
        problem = _schedule_problem(post, now)
        if problem:
            result.refused.append((post.id, problem))
            continue
        if post.status == PostStatus.draft:
            post.status = PostStatus.scheduled
            post.updated_at = now
            session.add(post)
        result.scheduled.append(post)
    session.commit()
    result.estimate = estimate(usage_of(result.scheduled), settings.social.x.prices)
    result.dry_run_accounts = sorted(
        {post.account for post in result.scheduled if transport_for(settings, post.account).dry_run}
    )
    return result


def due_post_ids(session: Session, *, now: datetime | None = None) -> list[int]:
    """Scheduled posts whose time has come (and whose wait asked by X is over), oldest first."""
    now = now or utcnow()
    query = (
        select(Post.id)
        .where(Post.status == PostStatus.scheduled)
        .where(col(Post.scheduled_at) <= now)
        .where(or_(col(Post.not_before).is_(None), col(Post.not_before) <= now))
        .order_by(col(Post.scheduled_at), col(Post.id))
    )
    return [post_id for post_id in session.exec(query) if post_id is not None]


# --- publishing --------------------------------------------------------------------------------


def _claim(session: Session, post: Post, now: datetime) -> bool:
    """Mark the post "publishing" if nobody else is publishing it; True when we got it."""
    assert post.id is not None
    claimed = session.execute(
        update(Post)
        .where(col(Post.id) == post.id)
        .where(
            or_(
                col(Post.status).in_([str(status) for status in PUBLISHABLE]),
                (col(Post.status) == PostStatus.publishing)
                & (col(Post.updated_at) < now - STALE_CLAIM),
            )
        )
        .values(status=PostStatus.publishing, updated_at=now, attempts=Post.attempts + 1)
    )
    session.commit()
    session.refresh(post)
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _record_failure(session: Session, post: Post, exc: Exception, started: datetime) -> None:
    """Keep why it failed; ``started``: since when a post sent without answer may be on X."""
    post.last_error = str(exc)[:2000]
    post.updated_at = utcnow()
    if isinstance(exc, TransportError) and exc.uncertain:
        post.uncertain_since = post.uncertain_since or started
    if isinstance(exc, TransportError) and exc.retry_at and not exc.permanent:
        post.status = PostStatus.scheduled  # retried after X's reset, by whoever runs next
        post.not_before = exc.retry_at
        post.scheduled_at = post.scheduled_at or utcnow()
    else:
        post.status = PostStatus.failed
    session.add(post)
    session.commit()
    log.warning("post %s: %s", post.id, exc)


def publish_post(
    engine_or_session: Engine | Session,
    post_id: int,
    settings: Settings,
    *,
    transport: SocialTransport | None = None,
    now: datetime | None = None,
) -> Post:
    """Publish the parts of post ``post_id`` not yet published; store each id as soon as known.

    Safe to call from several processes at once and again after any failure: a part is never
    sent twice. Raises :class:`RetryLater` before the time X asked us to wait for,
    :class:`TransportError` (after recording it on the post: ``scheduled`` with ``not_before``
    for a rate limit, else ``failed``) when X refuses or fails, and :class:`CampaignError` when
    the post cannot be published as it is (cancelled, images gone, being published elsewhere).
    """
    if isinstance(engine_or_session, Engine):
        with Session(engine_or_session, expire_on_commit=False) as session:
            return _publish(session, post_id, settings, transport, now)
    return _publish(engine_or_session, post_id, settings, transport, now)


def _publish(
    session: Session,
    post_id: int,
    settings: Settings,
    transport: SocialTransport | None,
    now: datetime | None,
) -> Post:
    now = now or utcnow()
    post = get_post(session, post_id)
    if post.status == PostStatus.published:
        return post
    if post.status == PostStatus.cancelled:
        raise CampaignError(f"Post {post_id} was cancelled; it will not be published.")
    if post.not_before and now < post.not_before:
        local = post.not_before.astimezone(settings.zone)
        raise RetryLater(
            f"Post {post_id}: X asked to wait before publishing again; it stays scheduled and "
            f"is tried again after {local:%d/%m/%Y %H:%M:%S} ({post.last_error})",
            post.not_before,
        )
    transport = transport or transport_for(settings, post.account)
    if transport.dry_run and post.remote_ids and not post.dry_run:
        raise CampaignError(
            f"Post {post_id} is partly published on X, but the credentials of account "
            f"{post.account!r} are missing now: set them (`campaign social accounts`) to finish."
        )
    abandoned = post.status == PostStatus.publishing
    previous_update = post.updated_at
    if not _claim(session, post, now):
        raise CampaignError(
            f"Post {post_id} is being published by another process (status {post.status})."
        )
    started = utcnow()
    done = list(post.remote_ids)
    try:
        images = outgoing_images(post.images, post=f"Post {post_id}") if not done else ()
    except CampaignError as exc:
        _record_failure(session, post, exc, started)
        raise
    # A claim abandoned by a crashed process may have sent a part whose id was never stored.
    check_since = post.uncertain_since or (previous_update if abandoned else None)
    outgoing = Outgoing(
        parts=tuple(post.parts[len(done) :]),
        reply_to=done[-1] if done else None,
        images=images,
        check_since=check_since,
    )

    def record(_index: int, remote_id: str) -> None:
        done.append(remote_id)
        post.remote_ids = list(done)  # a new list, so the JSON column is seen as changed
        post.uncertain_since = None
        post.updated_at = utcnow()
        session.add(post)
        session.commit()

    post.dry_run = transport.dry_run
    try:
        transport.publish(outgoing, on_published=record)
    except TransportError as exc:
        _record_failure(session, post, exc, check_since or started)
        raise
    post.status = PostStatus.published
    post.last_error = ""
    post.not_before = None
    post.uncertain_since = None
    post.published_at = utcnow()
    post.updated_at = post.published_at
    session.add(post)
    session.commit()
    session.refresh(post)
    return post
