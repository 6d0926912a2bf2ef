"""Posts: write them, review and schedule them, publish them exactly once.

Writing checks every part as its network counts it (:mod:`.parts`); scheduling checks a
reviewed draft again; publishing, a small state machine kept in the database that never sends a
part twice and tries again after a network's failure, is :mod:`.publishing`'s. The names of
those modules and of :mod:`.post_queries` are importable from here too.

These functions are the library the scheduler calls; the CLI only parses and prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import update
from sqlmodel import Session, col

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.models import Post, PostStatus, utcnow
from campaign.social import allowed
from campaign.social.cost import Estimate, account_networks, estimate, usage_of
from campaign.social.limits import account_limit
from campaign.social.media import check_images, keep_images
from campaign.social.moving import rewrite_for, text_digest
from campaign.social.networks import account_settings, network_of, transport_for
from campaign.social.parts import checked_parts, text_of, thread_parts
from campaign.social.post_queries import due_post_ids, get_post, list_posts
from campaign.social.publishing import (
    RetryLater,
    claim_timeout,
    problem_of,
    publish_post,
)

__all__ = [
    "RetryLater",
    "ScheduleResult",
    "cancel_post",
    "checked_parts",
    "claim_timeout",
    "create_post",
    "create_posts",
    "due_post_ids",
    "edit_post",
    "get_post",
    "list_posts",
    "problem_of",
    "publish_post",
    "reschedule_post",
    "schedule_post",
    "schedule_posts",
    "thread_parts",
]

_UNSET: Any = object()


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
    filled_by_hand: bool = False,
) -> Post:
    """Store a new post: one ``text`` (cut into a thread with ``split``) or given ``parts``.

    Lengths are checked the way X counts them and images the way X takes them. The post is
    ``scheduled`` when it has a time, unless ``draft`` (for review first, as planned posts are).
    ``template``: the post template the text was generated from with ``event_ids``, so that a
    move writes it again for its new time (see :mod:`campaign.social.moving`); not kept when
    the text was ``filled_by_hand`` too (values a move could not give again) or features no
    event.
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
    draft = _is_draft(settings, scheduled_at, draft, now)
    # Kept in the media folder: the only place the dashboard shows a post's images from.
    stored_images = keep_images(check_images(images, network=network), settings.dashboard.media_dir)
    post = Post(
        account=account,
        text=text_of(pieces) if parts is not None else (text or "").strip(),
        parts=pieces,
        images=stored_images,
        scheduled_at=scheduled_at,
        status=PostStatus.draft if draft else PostStatus.scheduled,
        event_ids=list(event_ids),
    )
    if template and post.event_ids and not filled_by_hand:
        post.template = template
        post.generated_digest = text_digest(post.text)
    session.add(post)
    session.commit()
    session.refresh(post)
    return post


def _is_draft(
    settings: Settings, scheduled_at: datetime | None, draft: bool | None, now: datetime | None
) -> bool:
    """Whether a new post is a draft (by default, when it has no time), once its time is
    checked: with a zone, and still to come for a post scheduled at once."""
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise CampaignError.of("post.time_without_zone", "scheduled_at")
    if draft is None:
        draft = scheduled_at is None
    if not draft and scheduled_at is not None and scheduled_at <= (now or utcnow()):
        raise CampaignError.of(
            "post.create_time_past", "scheduled_at", at=scheduled_at.astimezone(settings.zone)
        )
    return draft


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
    network = network_of(settings, post.account)
    own = account_limit(session, settings, post.account)
    moving = scheduled_at is not _UNSET and scheduled_at is not None
    moving_only = moving and text is None and parts is None and images is None
    allowed.check(post, allowed.MOVE if moving_only else allowed.EDIT)
    if moving and cast(datetime, scheduled_at).tzinfo is None:
        raise CampaignError.of("post.time_without_zone", "scheduled_at")
    if moving and text is None and parts is None and not post.remote_ids:  # before any change
        _rewrite(session, settings, post, cast(datetime, scheduled_at), network, own)
    _new_text(post, text, parts, split=split, network=network, limit=own)
    if images is not None:
        post.images = keep_images(
            check_images(images, post=f"Post {post_id}", network=network),
            settings.dashboard.media_dir,
        )
    if scheduled_at is not _UNSET:
        _new_time(post, scheduled_at)
    post.updated_at = utcnow()
    session.add(post)
    session.commit()
    session.refresh(post)
    return post


def _rewrite(
    session: Session,
    settings: Settings,
    post: Post,
    scheduled_at: datetime,
    network: str,
    limit: int | None,
) -> None:
    """A post generated from events, moved without a new text: written again for its new time
    (:func:`~campaign.social.moving.rewrite_for` refuses the move when it cannot be)."""
    rewritten = rewrite_for(session, settings, post, scheduled_at)
    if rewritten is not None:
        post.parts = checked_parts(
            rewritten.parts, split=True, post_id=post.id, network=network, limit=limit
        )
        post.text = rewritten.text
        post.generated_digest = rewritten.digest


def _new_text(
    post: Post,
    text: str | None,
    parts: Sequence[str] | None,
    *,
    split: bool,
    network: str,
    limit: int | None,
) -> None:
    """The post's new ``text`` (or new ``parts``), each part checked; neither: kept."""
    if text is not None:
        post.parts = checked_parts(
            [text], split=split, post_id=post.id, network=network, limit=limit
        )
        post.text = text.strip()
    elif parts is not None:
        post.parts = checked_parts(
            parts, split=split, post_id=post.id, network=network, limit=limit
        )
        post.text = text_of(post.parts)


def _new_time(post: Post, scheduled_at: datetime | None) -> None:
    """The post's new time (``None``: none, a scheduled post going back to draft); a missed or
    failed post given a time is scheduled again."""
    post.scheduled_at = scheduled_at
    post.not_before = None
    if scheduled_at is None and post.status == PostStatus.scheduled:
        post.status = PostStatus.draft
    if scheduled_at is not None and post.status in (PostStatus.missed, PostStatus.failed):
        post.status = PostStatus.scheduled  # as a calendar sync does for a new time
        post.last_error = ""


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


def schedule_post(
    session: Session,
    settings: Settings,
    post_id: int,
    scheduled_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> ScheduleResult:
    """Give one post a new time when ``scheduled_at`` is given and, a draft, approve it.

    Refused (:mod:`.allowed`) as a move when a time is given, else as an approval. The move is
    :func:`reschedule_post`'s (a missed or failed post is then scheduled again; a generated
    one may be refused with :class:`~campaign.social.moving.MoveRefused`); a post still a
    draft after it goes through :func:`schedule_posts`, whose result says why if refused. A
    post no longer a draft is scheduled already: the result holds it alone, with no estimate.
    """
    post = get_post(session, post_id)
    allowed.check(post, allowed.MOVE if scheduled_at is not None else allowed.SCHEDULE)
    if scheduled_at is not None:
        post = reschedule_post(session, settings, post_id, scheduled_at, now=now)
    if post.status != PostStatus.draft:
        return ScheduleResult(scheduled=[post])
    return schedule_posts(session, settings, [post_id], now=now)
