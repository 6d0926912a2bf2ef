"""Measuring the accounts and their posts over time, for the year-end report.

Each sync appends rows, never overwrites: per published post a :class:`PostMetrics` (its
public figures, plus impressions while X still gives them: the first 30 days), per account an
:class:`AccountSnapshot` (followers, post count, and the posts mentioning it since the previous
snapshot). The report then reads evolutions ("+10 followers a day") from the rows.

A thread is measured by its first part (the one people see and repost). The first sync of an
account only notes the newest mention (reading older ones costs credits and would not be "since
the last sync"); mentions are counted from then on. Accounts in dry run are skipped, and an
account that fails does not stop the others.

Where X charges for the figures the team does not buy, a person types the follower count read on
the account's page (:func:`record_followers`): a snapshot marked ``typed``, which a sync never
takes as its previous one (it holds no mention id, and mentions before it would be lost).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import (
    AccountSnapshot,
    Post,
    PostMetrics,
    PostStatus,
    SocialMention,
    utcnow,
)
from campaign.social import Mentioned, SocialTransport, TransportError, Usage
from campaign.social.cost import Estimate, estimate
from campaign.social.limits import known_limit, store_limit
from campaign.social.networks import NETWORK_NAMES, account_settings, transport_for

log = logging.getLogger(__name__)

NON_PUBLIC_WINDOW = timedelta(days=30) - timedelta(hours=1)  # a margin for clocks that differ


@dataclass
class AccountSync:
    """What one account's sync did: ``status`` is ``synced``, ``dry run`` or ``failed``."""

    account: str
    handle: str
    status: str
    message: str = ""
    snapshot: AccountSnapshot | None = None
    posts_measured: int = 0
    posts_missing: list[int] = field(default_factory=list)
    mentions_kept: int = 0  # mentions and reposts stored with their authors (influencers)
    cost: Estimate | None = None


def _previous_snapshot(session: Session, account: str) -> AccountSnapshot | None:
    query = (
        select(AccountSnapshot)
        .where(AccountSnapshot.account == account)
        .where(col(AccountSnapshot.typed).is_(False))
        .order_by(col(AccountSnapshot.at).desc(), col(AccountSnapshot.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def _published_posts(session: Session, account: str) -> list[Post]:
    query = (
        select(Post)
        .where(Post.account == account)
        .where(Post.status == PostStatus.published)
        .where(col(Post.dry_run).is_(False))
        .order_by(col(Post.id))
    )
    return [post for post in session.exec(query) if post.remote_ids]


def _sync_account(
    session: Session, settings: Settings, name: str, transport: SocialTransport, now: datetime
) -> AccountSync:
    handle = account_settings(settings, name).handle
    network = NETWORK_NAMES[account_settings(settings, name).network]
    result = AccountSync(account=name, handle=handle, status="synced")
    figures = transport.account()
    notes = []
    if figures.username.lower() != handle.lower():
        notes.append(f"the credentials are those of @{figures.username}, not @{handle}")
    previous = _previous_snapshot(session, name)
    mentions = transport.mentions(
        (previous.last_mention_id or None) if previous else None,
        since_time=previous.at if previous else None,
    )
    result.mentions_kept = _keep_mentions(
        session, name, account_settings(settings, name).network, mentions.items
    )
    notes.extend(_learn_limit(session, name, transport, now))
    if previous is None:
        notes.append("first sync: mentions are counted from now on")
    elif not mentions.complete:
        notes.append(f"more mentions than {network} lists (counted the {mentions.count} it gives)")
    _measure_posts(session, name, transport, now, result)
    snapshot = AccountSnapshot(
        account=name,
        at=now,
        followers=figures.followers,
        posts=figures.posts,
        mentions_since_last=mentions.count,
        last_mention_id=mentions.newest_id or (previous.last_mention_id if previous else ""),
    )
    session.add(snapshot)
    session.commit()
    session.refresh(snapshot)
    result.snapshot = snapshot
    if result.posts_missing:
        notes.append(
            f"{len(result.posts_missing)} post(s) not found on {network} (deleted?): "
            + ", ".join(str(post_id) for post_id in result.posts_missing)
        )
    result.message = "; ".join(notes)
    return result


def _measure_posts(
    session: Session, account: str, transport: SocialTransport, now: datetime, result: AccountSync
) -> None:
    """Add a :class:`PostMetrics` row per published post of ``account`` the network still
    knows (impressions asked for while X gives them); the others go to ``posts_missing``."""
    posts = _published_posts(session, account)
    recent = [p for p in posts if p.published_at and now - p.published_at < NON_PUBLIC_WINDOW]
    older = [p for p in posts if p not in recent]
    measured = {}
    if recent:
        measured.update(transport.fetch_metrics([p.remote_ids[0] for p in recent]))
    if older:
        ids = [p.remote_ids[0] for p in older]
        measured.update(transport.fetch_metrics(ids, non_public=False))
    for post in posts:
        assert post.id is not None
        found = measured.get(post.remote_ids[0])
        if found is None:
            result.posts_missing.append(post.id)
            continue
        session.add(
            PostMetrics(
                post_id=post.id,
                at=now,
                impressions=found.impressions,
                likes=found.likes,
                reposts=found.reposts,
                replies=found.replies,
                quotes=found.quotes,
            )
        )
        result.posts_measured += 1


def _keep_mentions(
    session: Session, account: str, network: str, items: tuple[Mentioned, ...]
) -> int:
    """Store the mentions and reposts not stored yet (a remote id is kept once per account);
    returns how many were new."""
    known: set[str] = set()
    ids = list(dict.fromkeys(item.remote_id for item in items))
    for start in range(0, len(ids), 500):
        query = (
            select(SocialMention.remote_id)
            .where(SocialMention.account == account)
            .where(col(SocialMention.remote_id).in_(ids[start : start + 500]))
        )
        known.update(session.exec(query))
    added = 0
    for item in items:
        if item.remote_id in known:
            continue
        known.add(item.remote_id)
        session.add(
            SocialMention(
                account=account,
                network=network,
                remote_id=item.remote_id[:300],
                kind=item.kind,
                author_handle=item.author[:300],
                author_followers=max(0, min(item.followers or 0, MAX_FOLLOWERS)),
                at=item.at,
            )
        )
        added += 1
    return added


def _learn_limit(
    session: Session, account: str, transport: SocialTransport, now: datetime
) -> list[str]:
    """Read once the longest post the account's server takes, where the server sets it."""
    read = getattr(transport, "max_characters", None)
    if read is None or known_limit(session, account) is not None:
        return []
    try:
        limit = read()
    except TransportError as exc:
        return [f"the instance's post length limit could not be read ({exc})"]
    if limit is None:
        return []
    store_limit(session, account, limit, now)
    return []


def sync_metrics(
    session: Session,
    settings: Settings,
    account: str | None = None,
    *,
    transports: Mapping[str, SocialTransport] | None = None,
    now: datetime | None = None,
) -> list[AccountSync]:
    """Append a snapshot of every live account (or of ``account``) and of its posts' figures.

    Returns one :class:`AccountSync` per account, in name order, with what X billed for it.
    ``transports`` replaces the transport of an account (the scheduler may share its own).
    """
    now = now or utcnow()
    names = [account] if account else sorted(settings.social.accounts)
    for name in names:
        account_settings(settings, name)  # an unknown name is an error before any request
    results = []
    for name in names:
        transport = (transports or {}).get(name) or transport_for(settings, name)
        handle = settings.social.accounts[name].handle
        if transport.dry_run:
            results.append(
                AccountSync(
                    account=name,
                    handle=handle,
                    status="dry run",
                    message="skipped: no credentials, so nothing is published or measured",
                )
            )
            continue
        if not getattr(transport, "measures", True):  # LinkedIn: no figures for this token
            results.append(
                AccountSync(
                    account=name,
                    handle=handle,
                    status="not measured",
                    message=(
                        f"skipped: {NETWORK_NAMES[settings.social.accounts[name].network]} gives "
                        "no figures to a posting token; type the followers by hand"
                    ),
                )
            )
            continue
        before = Usage()
        before.add(transport.usage)
        try:
            result = _sync_account(session, settings, name, transport, now)
        except TransportError as exc:
            session.rollback()
            log.warning("metrics of %s: %s", name, exc)
            result = AccountSync(account=name, handle=handle, status="failed", message=str(exc))
        spent = Usage()
        spent.add(transport.usage)
        for key in spent.__dataclass_fields__:
            setattr(spent, key, getattr(spent, key) - getattr(before, key))
        result.cost = estimate(spent, settings.social.x.prices)
        results.append(result)
    return results


MAX_FOLLOWERS = 2**31 - 1  # what the column holds; no account comes near it


class FollowersRefused(CampaignError):
    """A typed follower count that cannot be recorded; ``reason`` names what is wrong
    (``account``, ``count``, ``day``) for the dashboard, which says it in French."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class TypedFollowers:
    """What :func:`record_followers` did: the snapshot, and the count it replaced, if any."""

    snapshot: AccountSnapshot
    replaced: int | None


def account_named(settings: Settings, known: set[str], text: str) -> str:
    """The account ``text`` names: a configured account's name or handle (``@Mois_ESS``), or
    an account already in the data; anything else is refused, so a typo makes no new account."""
    wanted = text.strip().removeprefix("@").lower()
    for name, account in settings.social.accounts.items():
        if wanted in (name.lower(), account.handle.lower()):
            return name
    for name in known:
        if wanted == name.lower():
            return name
    choices = sorted(set(settings.social.accounts) | known)
    raise FollowersRefused(
        "account",
        f"{text!r} is not an account; known: {', '.join(choices) or 'none'} "
        "(see `campaign social accounts`).",
    )


def typed_moment(day: date, zone: ZoneInfo) -> datetime:
    """When a count typed for ``day`` stands: the day's first instant, local time.

    So a count typed for 1 January is the one a year's report starts from (the start is the
    last measurement at or before the period's first instant), and one for 31 December is its
    last of the year.
    """
    return datetime.combine(day, time.min, tzinfo=zone)


def record_followers(
    session: Session,
    account: str,
    count: int,
    day: date,
    zone: ZoneInfo,
    *,
    today: date | None = None,
) -> TypedFollowers:
    """Record ``count`` followers of ``account`` on ``day``, typed in by a person.

    One typed count per account and day: typing the same day again corrects it. ``account`` is
    the account's name as the rest of the data knows it (checked by the caller).
    """
    if not 0 <= count <= MAX_FOLLOWERS:
        raise FollowersRefused("count", f"{count} followers: give a number from 0 up.")
    today = today or utcnow().astimezone(zone).date()
    if day > today:
        raise FollowersRefused(
            "day", f"{day.isoformat()} is in the future: type the count read on a past day."
        )
    moment = typed_moment(day, zone)
    query = (
        select(AccountSnapshot)
        .where(AccountSnapshot.account == account)
        .where(col(AccountSnapshot.typed).is_(True))
        .where(AccountSnapshot.at == moment)
    )
    snapshot = session.exec(query).first()
    replaced = snapshot.followers if snapshot else None
    if snapshot is None:
        snapshot = AccountSnapshot(account=account, at=moment, typed=True)
    snapshot.followers = count
    session.add(snapshot)
    session.commit()
    session.refresh(snapshot)
    return TypedFollowers(snapshot, replaced)


def typed_followers(session: Session, limit: int = 50) -> list[AccountSnapshot]:
    """The latest follower counts typed in, newest day first (for the page that takes them)."""
    query = (
        select(AccountSnapshot)
        .where(col(AccountSnapshot.typed).is_(True))
        .order_by(col(AccountSnapshot.at).desc(), col(AccountSnapshot.account))
        .limit(limit)
    )
    return list(session.exec(query))
