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
from typing import Any, cast

from sqlalchemy import Engine, case, or_, update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.models import Post, PostStatus, utcnow
from campaign.social import Outgoing, SocialTransport, TransportError, allowed
from campaign.social.cards import card_for
from campaign.social.cost import Estimate, account_networks, estimate, usage_of
from campaign.social.length import (
    NO_THREADS,
    check_length,
    join_thread,
    limit_for,
    split_thread,
)
from campaign.social.limits import account_limit
from campaign.social.media import check_images, keep_images, outgoing_images
from campaign.social.moving import rewrite_for, text_digest
from campaign.social.networks import account_settings, network_of, transport_for

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)  # the longest wait between two automatic tries
# In the stored reason of a post the service will try again by itself (the dashboard words it).
AUTO_RETRY = "tried again automatically"
# Which posts may be claimed for publishing: :mod:`.allowed` decides, the claim's SQL applies it.
PUBLISHABLE = allowed.ALLOWED[allowed.PUBLISH]
_SEPARATOR = re.compile(r"^\s*---+\s*$", re.MULTILINE)
_UNSET: Any = object()


class RetryLater(CampaignError):
    """The network asked us to wait, or the post waits before its next automatic try: it is
    kept and may be published after ``retry_at``."""

    def __init__(self, message: str | Message, retry_at: datetime) -> None:
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
    limit: int | None = None,
) -> list[str]:
    """Every part as ``network`` will count it; with ``split``, a part too long becomes several.

    ``post_id`` (or, before the post exists, ``account``): the post the CLI's message names
    (neither: "The post"). ``limit``: the account's server's own (:func:`account_limit`). On a
    network without threads (LinkedIn) the parts become one post, which ``split`` cannot
    shorten."""
    parts = join_thread(list(parts), network)
    result: list[str] = []
    several = len(parts) > 1
    own = limit
    limit = limit_for(network, own)
    for number, part in enumerate(parts, 1):
        part = part.strip()
        if not part:
            continue
        length, valid = check_length(part, network, own)
        if valid:
            result.append(part)
        elif split and network not in NO_THREADS:
            result.extend(split_thread(part, network, own))
        else:
            code = "post.part_too_long" if several else "post.too_long"
            raise CampaignError.of(
                "post.too_long_one_post" if network in NO_THREADS else code,
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
    own = account_limit(session, settings, account)
    if parts is None:
        source = (text or "").strip()
        pieces = checked_parts([source], split=split, network=network, limit=own) if source else []
    else:
        pieces = checked_parts(parts, split=split, network=network, limit=own)
    if not pieces:
        raise CampaignError.of("post.empty", "text", post_id=0)
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise CampaignError.of("post.time_without_zone", "scheduled_at")
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
        own = account_limit(session, settings, name)
        if name in variants:
            checked_parts(variants[name], split=split, network=network, account=name, limit=own)
        elif parts is None:
            source = (text or "").strip()
            if source:
                checked_parts([source], split=split, network=network, account=name, limit=own)
        else:
            checked_parts(parts, split=split, network=network, account=name, limit=own)
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
        raise CampaignError.of("post.unknown", post_id=post_id)
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
    """Change what is given of a post not yet (even partly) published; its status is kept,
    except that a missed or failed post given a new time is scheduled again.

    ``scheduled_at=None`` removes the time (a scheduled post then goes back to draft);
    ``images=[]`` removes the images. A post generated from events given a new time without a
    new text is written again for that time, or the move is refused (:mod:`.moving`). A new
    time alone is a move (:mod:`.allowed`): a thread stopped half-way may be moved, not edited.
    """
    post = get_post(session, post_id)
    label = f"Post {post_id}"
    network = network_of(settings, post.account)
    own = account_limit(session, settings, post.account)
    moving = scheduled_at is not _UNSET and scheduled_at is not None
    moving_only = moving and text is None and parts is None and images is None
    allowed.check(post, allowed.MOVE if moving_only else allowed.EDIT)
    if scheduled_at is not _UNSET and scheduled_at is not None and scheduled_at.tzinfo is None:
        raise CampaignError.of("post.time_without_zone", "scheduled_at")
    if moving and text is None and parts is None and not post.remote_ids:  # before any change
        rewritten = rewrite_for(session, settings, post, cast(datetime, scheduled_at))
        if rewritten is not None:
            post.parts = checked_parts(
                rewritten.parts, split=True, post_id=post_id, network=network, limit=own
            )
            post.text = rewritten.text
            post.generated_digest = rewritten.digest
    if text is not None:
        post.parts = checked_parts([text], split=split, post_id=post_id, network=network, limit=own)
        post.text = text.strip()
    elif parts is not None:
        post.parts = checked_parts(parts, split=split, post_id=post_id, network=network, limit=own)
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
        if moving and post.status in (PostStatus.missed, PostStatus.failed):
            post.status = PostStatus.scheduled  # as a calendar sync does for a new time
            post.last_error = ""
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
    allowed.check(post, allowed.CANCEL)
    claimed = session.execute(
        update(Post)
        .where(col(Post.id) == post_id)
        .where(col(Post.status) != PostStatus.publishing)
        .values(status=PostStatus.cancelled, updated_at=utcnow())
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise CampaignError.of("post.being_published", post_id=post_id)
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

    :func:`edit_post` with a new time alone (a move, :mod:`.allowed`): a post the scheduler
    marked ``missed`` (its time passed while no service ran) or that ``failed`` (X refused or
    failed; a thread resumes from its first part not on X) is scheduled again, as a calendar
    sync does when an entry gets a new time. A time already past is refused: the
    scheduler would publish the post at once or mark it missed, never what the person meant.
    A post generated from events is written again for the new time, or refused
    (:class:`~campaign.social.moving.MoveRefused`) keeping its time (see :mod:`.moving`).
    """
    if scheduled_at.tzinfo is None:
        raise CampaignError.of("post.time_without_zone", "scheduled_at")
    if scheduled_at <= (now or utcnow()):
        raise CampaignError.of("schedule.time_past", "at", at=scheduled_at)
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


def _schedule_problem(
    post: Post, now: datetime, network: str, limit: int | None = None
) -> tuple[str, Message | str] | None:
    """Why this post cannot be scheduled now, as (code, message), or None."""
    if post.status == PostStatus.scheduled:
        return None  # already scheduled: nothing to do, not a problem
    if allowed.may(post, allowed.SCHEDULE) is not None:
        return "not-draft", message("post.not_draft", status=post.status)
    if post.scheduled_at is None:
        return "no-time", message("post.no_time", "scheduled_at", post_id=post.id)
    if post.scheduled_at <= now:
        return "past", message("post.time_past", "scheduled_at", post_id=post.id)
    try:
        checked_parts(post.parts, split=False, post_id=post.id, network=network, limit=limit)
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
        own = account_limit(session, settings, post.account)
        problem = _schedule_problem(post, now, network_of(settings, post.account), own)
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
    if post.status != PostStatus.publishing:  # an abandoned claim is taken over below
        allowed.check(post, allowed.PUBLISH)
    if post.not_before and now < post.not_before:
        local = post.not_before.astimezone(settings.zone)
        raise RetryLater(
            message("post.waiting", post_id=post_id, at=local, error=post.last_error or ""),
            post.not_before,
        )
    transport = transport or transport_for(settings, post.account)
    if transport.dry_run and post.remote_ids and not post.dry_run:
        raise CampaignError.of(
            "post.credentials_missing", "account", post_id=post_id, account=post.account
        )
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
