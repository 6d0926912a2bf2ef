"""Finding stored posts: one by its id, a listing in publication order, those due now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from campaign.errors import CampaignError
from campaign.models import Post, PostStatus, utcnow


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
        raise CampaignError.of("post.unknown", post_id=post_id)
    return post


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
