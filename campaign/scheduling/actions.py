"""What each kind of job does: one thin call into the sending and posting stages.

The scheduler decides *when* and makes sure a newsletter or post is acted on once (it claims the
row first, see :mod:`.jobs`); these functions only *do* it, through the stages' own functions.
They are the one place that knows those stages' interfaces, so that a change there is adapted
here and nowhere else in the scheduler.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.mail import open_transport
from campaign.models import (
    Delivery,
    DeliveryStatus,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    utcnow,
)
from campaign.newsletters import queue
from campaign.scheduling.runtime import Runtime
from campaign.social.metrics import sync_metrics
from campaign.social.posts import claim_timeout, publish_post

log = logging.getLogger(__name__)


class ServiceStopping(Exception):
    """Raised between two batches of a send when the service is stopping (resumable)."""


def snapshot_newsletter(
    session: Session, newsletter: Newsletter, settings: Settings | None = None
) -> int:
    """Queue the newsletter's audience (one delivery row each); the number queued. With
    ``settings``, a newsletter whose sender addresses are not valid is refused first."""
    return queue.snapshot(session, newsletter, settings)


def send_newsletter_job(runtime: Runtime, newsletter_id: int) -> queue.SendSummary:
    """Send what is queued for a ``sending`` newsletter, stopping between batches on shutdown.

    Several processes may run this for the same newsletter: the queue claims delivery rows with
    ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so nobody is mailed twice.
    """

    def between_batches(_done: int, _total: int) -> None:
        if runtime.stopping.is_set():
            raise ServiceStopping(f"newsletter {newsletter_id}: stopped between two batches")

    transport = open_transport(runtime.settings)
    try:
        return queue.send_newsletter(
            runtime.engine, newsletter_id, runtime.settings, transport, between_batches
        )
    finally:
        transport.close()


def newsletters_to_help(session: Session, settings: Settings) -> list[int]:
    """Newsletters left ``sending`` that have rows to send now (or nothing left, to finish).

    "Now" is the queue's own rule (:func:`campaign.newsletters.queue.claimable`): pending rows,
    deferred rows whose next attempt is due (``[mail] retry_minutes``), and rows left
    ``sending`` by a crash once their claim is stale (``[mail] claim_timeout``).
    """
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.mail.claim_timeout)
    has_work = exists().where(*queue.claimable(Newsletter.id, now, stale_before))
    unfinished = (DeliveryStatus.pending, DeliveryStatus.deferred, DeliveryStatus.sending)
    has_rows = exists().where(
        col(Delivery.newsletter_id) == Newsletter.id, col(Delivery.status).in_(unfinished)
    )
    statement = (
        select(Newsletter.id)
        .where(Newsletter.status == NewsletterStatus.sending, or_(has_work, ~has_rows))
        .order_by(col(Newsletter.id))
    )
    return [newsletter_id for newsletter_id in session.exec(statement) if newsletter_id]


def posts_to_resume(session: Session, settings: Settings) -> list[int]:
    """Posts left ``publishing`` by a process that died (their claim has gone stale)."""
    statement = (
        select(Post.id)
        .where(
            Post.status == PostStatus.publishing,
            col(Post.updated_at) < utcnow() - claim_timeout(settings),
        )
        .order_by(col(Post.id))
    )
    return [post_id for post_id in session.exec(statement) if post_id]


def publish_post_job(runtime: Runtime, session: Session, post_id: int) -> Post:
    """Publish a post (its parts not published yet); raises the stage's errors."""
    return publish_post(session, post_id, runtime.settings)


def sync_metrics_job(runtime: Runtime, account: str | None = None) -> str:
    """Record each live account's followers, posts and mentions, and its posts' figures.

    One account failing does not stop the others; dry-run accounts are skipped (the posting
    stage's :func:`~campaign.social.metrics.sync_metrics` says so in its result).
    """
    with Session(runtime.engine, expire_on_commit=False) as session:
        results = sync_metrics(session, runtime.settings, account)
    return "; ".join(f"{result.account}: {result.status} {result.message}" for result in results)
