"""Posts: write them, list them, publish them exactly once.

Publishing is a small state machine kept in the database. A post is claimed with one atomic
UPDATE (so two schedulers or a scheduler and a person cannot publish it together), every remote
id is committed the moment X returns it, and a thread that failed half-way resumes from the
first part without an id. A published post is never sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Post, PostStatus, utcnow
from campaign.social import SocialTransport, TransportError
from campaign.social.length import MAX_WEIGHTED_LENGTH, check_length, split_thread
from campaign.social.x import account_settings, transport_for

log = logging.getLogger(__name__)

# A post left "publishing" longer than this was abandoned by a crashed process: it may be resumed.
STALE_CLAIM = timedelta(minutes=10)
PUBLISHABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed)


def create_post(
    session: Session,
    settings: Settings,
    *,
    account: str,
    text: str,
    scheduled_at: datetime | None = None,
    split: bool = False,
    images: Sequence[dict[str, Any]] = (),
    event_ids: Sequence[int] = (),
) -> Post:
    """Store a new post (a thread with ``split``), checking its length the way X counts it."""
    account_settings(settings, account)
    text = text.strip()
    if not text:
        raise CampaignError("The post is empty: give its text.")
    if split:
        parts = split_thread(text)
    else:
        weighted, valid = check_length(text)
        if not valid:
            raise CampaignError(
                f"The post is {weighted} characters long as X counts them (at most "
                f"{MAX_WEIGHTED_LENGTH}; a link counts 23, an emoji 2): shorten it, or use "
                "--split to publish it as a thread."
            )
        parts = [text]
    for number, image in enumerate(images, 1):
        if not str(image.get("path", "")).strip() or not str(image.get("alt", "")).strip():
            raise CampaignError(
                f"Image {number}: give both its file ('path') and a description ('alt') for "
                "people who cannot see it."
            )
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise CampaignError("The publication time must carry a time zone.")
    post = Post(
        account=account,
        text=text,
        parts=parts,
        images=[dict(image) for image in images],
        scheduled_at=scheduled_at,
        status=PostStatus.scheduled if scheduled_at else PostStatus.draft,
        event_ids=list(event_ids),
    )
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


def publish_post(
    session: Session,
    settings: Settings,
    post_id: int,
    *,
    transport: SocialTransport | None = None,
    now: datetime | None = None,
) -> Post:
    """Publish the parts of the post not yet published; store each id as soon as it is known.

    Raises :class:`TransportError` (after recording it on the post) when X refuses or fails.
    """
    now = now or utcnow()
    post = get_post(session, post_id)
    if post.status == PostStatus.published:
        return post
    if post.status == PostStatus.cancelled:
        raise CampaignError(f"Post {post_id} was cancelled; it will not be published.")
    if post.images:
        raise CampaignError(
            f"Post {post_id} has images, and image upload to X is not available yet."
        )
    transport = transport or transport_for(settings, post.account)
    if transport.dry_run and post.remote_ids and not post.dry_run:
        raise CampaignError(
            f"Post {post_id} is partly published on X, but the credentials of account "
            f"{post.account!r} are missing now: set them (`campaign social accounts`) to finish."
        )
    if not _claim(session, post, now):
        raise CampaignError(
            f"Post {post_id} is being published by another process (status {post.status})."
        )

    done = list(post.remote_ids)
    remaining = post.parts[len(done) :]

    def record(_index: int, remote_id: str) -> None:
        done.append(remote_id)
        post.remote_ids = list(done)  # a new list, so the JSON column is seen as changed
        post.updated_at = utcnow()
        session.add(post)
        session.commit()

    post.dry_run = transport.dry_run
    try:
        transport.publish(remaining, reply_to=done[-1] if done else None, on_published=record)
    except TransportError as exc:
        post.status = PostStatus.failed
        post.last_error = str(exc)
        post.updated_at = utcnow()
        session.add(post)
        session.commit()
        log.warning("post %s: %s", post.id, exc)
        raise
    post.status = PostStatus.published
    post.last_error = ""
    post.published_at = utcnow()
    post.updated_at = post.published_at
    session.add(post)
    session.commit()
    session.refresh(post)
    return post
