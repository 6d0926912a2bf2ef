"""Publishing posts exactly once, and what happens when a network fails or refuses.

Publishing is a small state machine kept in the database. A post is claimed with one atomic
UPDATE (so two schedulers or a scheduler and a person cannot publish it together), every remote
id is committed the moment X returns it, and a thread that failed half-way resumes from the
first part without an id. A published post is never sent again.

When a network says "too many requests", the post goes back to ``scheduled`` with
``not_before`` set to the network's reset time and the reason in ``last_error``: nothing sleeps
inside a call, and the next run (the scheduler, or ``campaign posts publish``) tries again after
the reset. A server error or a time-out is tried again the same way, after a wait that doubles
each time (``[social] retry_backoff_minutes``), up to ``[social] publish_retries`` times, then
the post is ``failed`` with the reason, as mail deliveries are. When an attempt got no clear
answer, ``uncertain_since`` makes the next attempt look for the post on the network first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, or_, update
from sqlmodel import Session, col

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.models import Post, PostStatus, utcnow
from campaign.social import Outgoing, SocialTransport, TransportError, allowed
from campaign.social.cards import card_for
from campaign.social.media import outgoing_images
from campaign.social.networks import transport_for
from campaign.social.post_queries import get_post

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)  # the longest wait between two automatic tries
# In the stored reason of a post the service will try again by itself (the dashboard words it).
AUTO_RETRY = "tried again automatically"
# Which posts may be claimed for publishing: :mod:`.allowed` decides, the claim's SQL applies it.
PUBLISHABLE = allowed.ALLOWED[allowed.PUBLISH]


class RetryLater(CampaignError):
    """The network asked us to wait, or the post waits before its next automatic try: it is
    kept and may be published after ``retry_at``."""

    def __init__(self, message: str | Message, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


def claim_timeout(settings: Settings) -> timedelta:
    """How long a post may stay "publishing" before it counts as abandoned by a dead process."""
    return timedelta(minutes=settings.social.claim_timeout_minutes)


def _claim(session: Session, post: Post, now: datetime, stale: timedelta) -> bool:
    """Mark the post "publishing" if nobody else is publishing it; True when we got it.

    ``attempts`` counts the tries since a person last asked: a failed post published again
    starts a new count, so the service's automatic tries apply to it afresh.
    """
    assert post.id is not None
    claimed = session.execute(
        update(Post)
        .where(col(Post.id) == post.id)
        .where(
            or_(
                col(Post.status).in_([str(status) for status in PUBLISHABLE]),
                (col(Post.status) == PostStatus.publishing) & (col(Post.updated_at) < now - stale),
            )
        )
        .values(
            status=PostStatus.publishing,
            updated_at=now,
            attempts=case((col(Post.status) == PostStatus.failed, 1), else_=Post.attempts + 1),
        )
    )
    session.commit()
    session.refresh(post)
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _record_failure(
    session: Session, post: Post, exc: Exception, started: datetime, settings: Settings
) -> None:
    """Keep why it failed; ``started``: since when a post sent without answer may be on X.

    A refusal fails the post at once. A wait the network asked for (a rate limit) schedules it
    again after that time. A server error or a time-out schedules it again after a wait that
    doubles each time, ``publish_retries`` times, then fails it with the reason.
    """
    post.last_error = str(exc)[:2000]
    post.updated_at = utcnow()
    if isinstance(exc, TransportError) and exc.uncertain:
        post.uncertain_since = post.uncertain_since or started
    retries = settings.social.publish_retries
    if isinstance(exc, TransportError) and exc.retry_at and not exc.permanent:
        post.status = PostStatus.scheduled  # retried after the network's reset, by whoever runs
        post.not_before = exc.retry_at
        post.scheduled_at = post.scheduled_at or utcnow()
    elif isinstance(exc, TransportError) and not exc.permanent and post.attempts <= retries:
        wait = timedelta(minutes=settings.social.retry_backoff_minutes) * 2 ** (post.attempts - 1)
        retry_at = (utcnow() + min(wait, MAX_BACKOFF)).replace(microsecond=0)
        post.status = PostStatus.scheduled
        post.not_before = retry_at
        post.scheduled_at = post.scheduled_at or utcnow()
        post.last_error = (
            f"{exc} Try {post.attempts} of {retries + 1}: {AUTO_RETRY} after "
            f"{retry_at:%Y-%m-%d %H:%M} UTC."
        )[-2000:]
    else:
        post.status = PostStatus.failed
        if isinstance(exc, TransportError) and not exc.permanent and post.attempts > 1:
            post.last_error = f"{exc} Given up after {post.attempts} tries."[-2000:]
    session.add(post)
    session.commit()
    log.warning("post %s: %s", post.id, exc)


# How many times a person waiting for a post to go out (``campaign posts publish``) tries it.
TRIES_WHILE_WAITING = 3


@dataclass(frozen=True)
class NextTry:
    """Whether and when a publication that failed may be tried again right away by whoever
    waits for it (the service tries again by itself on its own schedule)."""

    at: datetime | None
    """Not before then; None: not again (a refusal, or a failure with no time to try again:
    the post failed for good)."""
    asked: bool
    """The network asked to wait (a rate limit, or its wait not over), rather than failed."""


def next_try(session: Session, post_id: int, exc: TransportError | RetryLater) -> NextTry:
    """When the post ``publish_post`` just raised ``exc`` for may be tried again.

    A refusal never (trying again will not help); a wait the network asked for, once it is
    over; a server error or a time-out, at the time :func:`_record_failure` set for the
    service's next try (``not_before``).
    """
    if isinstance(exc, TransportError) and exc.permanent:
        return NextTry(None, asked=False)
    if exc.retry_at is not None:
        return NextTry(exc.retry_at, asked=True)
    return NextTry(get_post(session, post_id).not_before, asked=False)


def problem_of(message: str) -> str:
    """Which known situation a stored error message tells, for the dashboard to word it:
    ``retry`` (the service will try again by itself), ``credits`` (X's 402), ``reply`` (X
    refused a reply of a thread), or "" (anything else, shown as it is)."""
    from campaign.social.tokens import problem_of as token_problem
    from campaign.social.x import problem_of as x_problem

    if AUTO_RETRY in message:
        return "retry"
    return token_problem(message) or x_problem(message)


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
    transport = _ready_transport(post, settings, transport, now)
    abandoned = post.status == PostStatus.publishing
    previous_update = post.updated_at
    if not _claim(session, post, now, claim_timeout(settings)):
        raise CampaignError.of("post.claimed", post_id=post_id, status=post.status)
    started = utcnow()
    done = list(post.remote_ids)
    try:
        images = outgoing_images(post.images, post=f"Post {post_id}") if not done else ()
    except CampaignError as exc:
        _record_failure(session, post, exc, started, settings)
        raise
    # A claim abandoned by a crashed process may have sent a part whose id was never stored.
    check_since = post.uncertain_since or (previous_update if abandoned else None)
    outgoing = Outgoing(
        parts=tuple(post.parts[len(done) :]),
        reply_to=done[-1] if done else None,
        images=images,
        check_since=check_since,
        key=f"post-{post.id}",
        card=card_for(session, settings, post) if not done else None,
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
        _record_failure(session, post, exc, check_since or started, settings)
        raise
    return _published(session, post)


def _ready_transport(
    post: Post, settings: Settings, transport: SocialTransport | None, now: datetime
) -> SocialTransport:
    """The transport to publish ``post`` with, once sure it may be published now."""
    if post.status != PostStatus.publishing:  # an abandoned claim is taken over by the caller
        allowed.check(post, allowed.PUBLISH)
    if post.not_before and now < post.not_before:
        local = post.not_before.astimezone(settings.zone)
        raise RetryLater(
            message("post.waiting", post_id=post.id, at=local, error=post.last_error or ""),
            post.not_before,
        )
    transport = transport or transport_for(settings, post.account)
    if transport.dry_run and post.remote_ids and not post.dry_run:
        raise CampaignError.of(
            "post.credentials_missing", "account", post_id=post.id, account=post.account
        )
    return transport


def _published(session: Session, post: Post) -> Post:
    """Mark the post published, every part of it now on the network."""
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
