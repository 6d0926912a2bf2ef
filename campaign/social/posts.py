"""Posts: write them, review and schedule them, publish them exactly once.

Publishing is a small state machine kept in the database. A post is claimed with one atomic
UPDATE (so two schedulers or a scheduler and a person cannot publish it together), every remote
id is committed the moment X returns it, and a thread that failed half-way resumes from the
first part without an id. A published post is never sent again.

When a network says "too many requests", the post goes back to ``scheduled`` with
``not_before`` set to the network's reset time and the reason in ``last_error``: nothing sleeps
inside a call, and the next run (the scheduler, or ``campaign post publish``) tries again after
the reset. A server error or a time-out is tried again the same way, after a wait that doubles
each time (``[social] retry_backoff_minutes``), up to ``[social] publish_retries`` times, then
the post is ``failed`` with the reason, as mail deliveries are. When an attempt got no clear
answer, ``uncertain_since`` makes the next attempt look for the post on the network first.

These functions are the library the scheduler calls; the CLI only parses and prints.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, or_, update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.models import Post, PostStatus, utcnow
from campaign.social import Outgoing, SocialTransport, TransportError
from campaign.social.cost import Estimate, account_networks, estimate, usage_of
from campaign.social.length import check_length, limit_for, split_thread
from campaign.social.media import check_images, keep_images, outgoing_images
from campaign.social.moving import rewrite_for, text_digest
from campaign.social.networks import account_settings, network_of, transport_for

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)  # the longest wait between two automatic tries
# In the stored reason of a post the service will try again by itself (the dashboard words it).
AUTO_RETRY = "tried again automatically"
PUBLISHABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed)
EDITABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed)
# What "cancel" changes: a post not published, not being published, not cancelled already.
CANCELLABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed, PostStatus.missed)
_SEPARATOR = re.compile(r"^\s*---+\s*$", re.MULTILINE)
_UNSET: Any = object()


class RetryLater(CampaignError):
    """The network asked us to wait, or the post waits before its next automatic try: it is
    kept and may be published after ``retry_at``."""

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


def checked_parts(
    parts: Sequence[str],
    *,
    split: bool,
    post_id: int | None = None,
    network: str = "x",
    account: str = "",
) -> list[str]:
    """Every part as ``network`` will count it; with ``split``, a part too long becomes several.

    ``post_id`` (or, before the post exists, ``account``): the post the CLI's message names
    (neither: "The post")."""
    result: list[str] = []
    several = len(parts) > 1
    limit = limit_for(network)
    for number, part in enumerate(parts, 1):
        part = part.strip()
        if not part:
            continue
        length, valid = check_length(part, network)
        if valid:
            result.append(part)
        elif split:
            result.extend(split_thread(part, network))
        else:
            raise CampaignError.of(
                "post.part_too_long" if several else "post.too_long",
                "text",
                post_id=post_id or 0,
                part=number,
                length=length,
                over=length - limit,
                limit=limit,
                network=network,
                account=account,
            )
    if not result:
        raise CampaignError.of("post.empty", "text", post_id=post_id or 0, account=account)
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
    network = account_settings(settings, account).network
    if parts is None:
        source = (text or "").strip()
        pieces = checked_parts([source], split=split, network=network) if source else []
    else:
        pieces = checked_parts(parts, split=split, network=network)
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
    stored_images = keep_images(check_images(images, network=network), settings.dashboard.media_dir)
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


def create_posts(
    session: Session,
    settings: Settings,
    *,
    accounts: Sequence[str],
    text: str | None = None,
    parts: Sequence[str] | None = None,
    split: bool = False,
    variants: Mapping[str, Sequence[str]] | None = None,
    **options: Any,
) -> list[Post]:
    """One post per account of ``accounts`` from the same words, each checked by its own
    network's rules (with ``split``, each cut as its network counts: a thread on X may be one
    status on Mastodon). ``variants``: an account's own parts instead (its hashtags and
    mentions differ; one part for a text). Every account is checked before any post is stored;
    each post then publishes, retries and fails on its own. ``options`` as for
    :func:`create_post`."""
    names = list(dict.fromkeys(accounts))
    if not names:
        raise CampaignError.of("post.no_account", "accounts")
    variants = variants or {}
    for name in names:
        network = account_settings(settings, name).network
        label = f"The post for {name}"
        if name in variants:
            checked_parts(variants[name], split=split, network=network, account=name)
        elif parts is None:
            source = (text or "").strip()
            if source:
                checked_parts([source], split=split, network=network, account=name)
        else:
            checked_parts(parts, split=split, network=network, account=name)
        check_images(options.get("images", ()), post=label, network=network)
    return [
        create_post(session, settings, account=name, parts=variants[name], split=split, **options)
        if name in variants
        else create_post(
            session, settings, account=name, text=text, parts=parts, split=split, **options
        )
        for name in names
    ]


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
    network = network_of(settings, post.account)
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
            post.parts = checked_parts(
                rewritten.parts, split=True, post_id=post_id, network=network
            )
            post.text = rewritten.text
            post.generated_digest = rewritten.digest
    if text is not None:
        post.parts = checked_parts([text], split=split, post_id=post_id, network=network)
        post.text = text.strip()
    elif parts is not None:
        post.parts = checked_parts(parts, split=split, post_id=post_id, network=network)
        post.text = _text_of(post.parts)
    if images is not None:
        post.images = keep_images(
            check_images(images, post=label, network=network), settings.dashboard.media_dir
        )
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
    """Posts now scheduled, those refused with the reason, and what they will cost.

    ``refusals``: why each refused post was refused, as a code the doors word (``not-draft``,
    ``no-time``, ``past``, ``text``, ``image``), by post id; ``refused`` has the same in
    words for the command line.
    """

    scheduled: list[Post] = field(default_factory=list)
    refused: list[tuple[int, Message | str]] = field(default_factory=list)
    estimate: Estimate | None = None
    dry_run_accounts: list[str] = field(default_factory=list)
    refusals: dict[int, str] = field(default_factory=dict)


def _schedule_problem(post: Post, now: datetime, network: str) -> tuple[str, Message | str] | None:
    """Why this post cannot be scheduled now, as (code, message), or None."""
    if post.status == PostStatus.scheduled:
        return None  # already scheduled: nothing to do, not a problem
    if post.status != PostStatus.draft:
        return "not-draft", message("post.not_draft", status=post.status)
    if post.scheduled_at is None:
        return "no-time", message("post.no_time", "scheduled_at", post_id=post.id)
    if post.scheduled_at <= now:
        return "past", message("post.time_past", "scheduled_at", post_id=post.id)
    try:
        checked_parts(post.parts, split=False, post_id=post.id, network=network)
    except CampaignError as exc:
        return "text", exc.messages[0] if exc.messages else str(exc)
    try:
        check_images(post.images, post=f"Post {post.id}", network=network)
    except CampaignError as exc:
        return "image", exc.messages[0] if exc.messages else str(exc)
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
        problem = _schedule_problem(post, now, network_of(settings, post.account))
        if problem:
            result.refused.append((post.id, problem[1]))
            result.refusals[post.id] = problem[0]
            continue
        if post.status == PostStatus.draft:
            post.status = PostStatus.scheduled
            post.updated_at = now
            session.add(post)
        result.scheduled.append(post)
    session.commit()
    result.estimate = estimate(
        usage_of(result.scheduled, account_networks(settings)), settings.social.x.prices
    )
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


def problem_of(message: str) -> str:
    """Which known situation a stored error message tells, for the dashboard to word it:
    ``retry`` (the service will try again by itself), ``credits`` (X's 402), ``reply`` (X
    refused a reply of a thread), or "" (anything else, shown as it is)."""
    from campaign.social.x import problem_of as x_problem

    return "retry" if AUTO_RETRY in message else x_problem(message)


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
            f"Post {post_id}: waiting before publishing again; it stays scheduled and "
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
    if not _claim(session, post, now, claim_timeout(settings)):
        raise CampaignError(
            f"Post {post_id} is being published by another process (status {post.status})."
        )
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
