"""The social report: posts, accounts (followers, mentions) and who spoke of us."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from campaign.models import (
    PostStatus,
)
from campaign.reports.model import Period
from campaign.reports.queries.common import (
    _chunks,
    _mention,
    _metrics,
    _post,
    _snapshot,
    _within,
)


@dataclass
class PostFigures:
    id: int
    account: str
    published_at: datetime
    text: str
    measured_at: datetime | None = None
    impressions: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None


def post_figures(
    session: Session, period: Period, accounts: Sequence[str] = ()
) -> list[PostFigures]:
    """Posts published (not in dry run) during the period, each with its latest measurement."""
    query = select(_post.id, _post.account, _post.published_at, _post.text).where(
        _post.status == PostStatus.published,
        _post.dry_run == false(),
        _post.published_at.is_not(None),
        *_within(_post.published_at, period),
    )
    if accounts:
        query = query.where(_post.account.in_(list(accounts)))
    posts = {
        row.id: PostFigures(row.id, row.account, row.published_at, row.text)
        for row in session.execute(query.order_by(_post.published_at, _post.id))
    }
    for chunk in _chunks(list(posts)):
        rows = session.execute(
            select(
                _metrics.post_id,
                _metrics.at,
                _metrics.impressions,
                _metrics.likes,
                _metrics.reposts,
                _metrics.replies,
                _metrics.quotes,
            )
            .where(_metrics.post_id.in_(chunk))
            .order_by(_metrics.post_id, _metrics.at, _metrics.id)
        )
        for row in rows:  # ordered by time: the last one read is the latest
            post = posts[row.post_id]
            post.measured_at = row.at
            post.impressions, post.likes = row.impressions, row.likes
            post.reposts, post.replies, post.quotes = row.reposts, row.replies, row.quotes
    return list(posts.values())


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    followers: int
    posts: int
    mentions_since_last: int
    typed: bool = False  # a follower count typed by hand: no posts or mentions measured


@dataclass
class AccountFigures:
    account: str
    first: Snapshot | None = None  # the measurement the period starts from
    last: Snapshot | None = None  # the last measurement of the period
    series: list[Snapshot] = field(default_factory=list)  # first .. last, for the chart
    mentions: int | None = None  # unknown when only typed counts cover the period
    posts: int = 0
    measured_posts: int = 0  # posts with at least one measurement
    reposted_posts: int = 0
    reposts: int = 0
    impressions: int = 0
    likes: int = 0

    def typed(self) -> tuple[bool, bool]:
        """Whether the start and the end follower counts were typed by hand."""
        return bool(self.first and self.first.typed), bool(self.last and self.last.typed)

    @property
    def new_followers(self) -> int | None:
        return self.last.followers - self.first.followers if self.first and self.last else None

    @property
    def followers_per_day(self) -> float | None:
        """New followers per day between the two measurements (None under one day apart)."""
        if not (self.first and self.last):
            return None
        days = (self.last.at - self.first.at).total_seconds() / 86400
        return (self.last.followers - self.first.followers) / days if days >= 1 else None


def account_figures(
    session: Session, period: Period, posts: list[PostFigures], accounts: Sequence[str] = ()
) -> list[AccountFigures]:
    """Each account's followers at the start and end of the period, mentions and post figures.

    The start is the last measurement taken at or before the period's first instant (else the
    first one inside it); the end, the last measurement inside the period. Mentions add up the
    ``mentions_since_last`` of the measurements after the start, up to the end; a follower count
    typed by hand counts as a measurement of followers only (mentions stay unknown when no sync
    measured them).
    """
    snapshots = _snapshots(session, accounts)
    names = sorted(set(snapshots) | {post.account for post in posts})
    result = []
    for name in names:
        figure = AccountFigures(name)
        _measure_span(figure, snapshots.get(name, []), period)
        _add_posts(figure, [post for post in posts if post.account == name])
        result.append(figure)
    return result


def _snapshots(session: Session, accounts: Sequence[str]) -> dict[str, list[Snapshot]]:
    """Every account's measurements, oldest first (of ``accounts`` only when some are named)."""
    query = select(
        _snapshot.account,
        _snapshot.at,
        _snapshot.followers,
        _snapshot.posts,
        _snapshot.mentions_since_last,
        _snapshot.typed,
    ).order_by(_snapshot.account, _snapshot.at, _snapshot.id)
    if accounts:
        query = query.where(_snapshot.account.in_(list(accounts)))
    snapshots: dict[str, list[Snapshot]] = defaultdict(list)
    for row in session.execute(query):
        snapshots[row.account].append(
            Snapshot(row.at, row.followers, row.posts, row.mentions_since_last, bool(row.typed))
        )
    return snapshots


def _measure_span(figure: AccountFigures, taken: list[Snapshot], period: Period) -> None:
    """Set the start, the end, the series and the mentions (see :func:`account_figures`)."""
    first, last = _ends(taken, period)
    if first is None or last is None or first.at > last.at:
        return
    figure.first, figure.last = first, last
    figure.series = [s for s in taken if first.at <= s.at <= last.at]
    synced = [s for s in figure.series[1:] if not s.typed]
    if synced or not first.typed:
        figure.mentions = sum(s.mentions_since_last for s in synced)


def _ends(taken: list[Snapshot], period: Period) -> tuple[Snapshot | None, Snapshot | None]:
    """The measurement the period starts from and the last one inside it, if any."""
    start = period.starts_at()
    before = [s for s in taken if start is not None and s.at <= start]
    inside = [s for s in taken if period.contains(s.at)]
    first = before[-1] if before else (inside[0] if inside else None)
    return first, inside[-1] if inside else None


def _add_posts(figure: AccountFigures, posts: list[PostFigures]) -> None:
    """Add up the figures of the account's own posts."""
    for post in posts:
        figure.posts += 1
        figure.measured_posts += 1 if post.measured_at else 0
        figure.reposts += post.reposts or 0
        figure.reposted_posts += 1 if post.reposts else 0
        figure.impressions += post.impressions or 0
        figure.likes += post.likes or 0


@dataclass
class Influencer:
    """Someone who mentioned or reposted our accounts in the period, with their audience."""

    network: str
    author: str
    followers: int = 0  # as the network gave it with their latest mention or repost
    mentions: int = 0
    reposts: int = 0
    accounts: list[str] = field(default_factory=list)  # ours they spoke of, in name order
    last_at: datetime | None = None


def influencer_figures(
    session: Session, period: Period, accounts: Sequence[str] = ()
) -> list[Influencer]:
    """The authors of the mentions and reposts stored by the syncs in the period, ranked by
    their own followers (most first), then by how often they spoke of us.

    An author is one handle on one network (a handle on X and the same on Bluesky are two
    rows); their follower count is the one given with their latest mention of the period.
    """
    query = select(
        _mention.network,
        _mention.author_handle,
        _mention.author_followers,
        _mention.kind,
        _mention.account,
        _mention.at,
    ).where(_mention.author_handle != "", *_within(_mention.at, period))
    if accounts:
        query = query.where(_mention.account.in_(list(accounts)))
    found: dict[tuple[str, str], Influencer] = {}
    for row in session.execute(query.order_by(_mention.at, _mention.id)):
        key = (row.network, row.author_handle.lower())
        figure = found.setdefault(key, Influencer(row.network, row.author_handle))
        figure.followers, figure.last_at = row.author_followers, row.at  # the latest wins
        if row.kind == "repost":
            figure.reposts += 1
        else:
            figure.mentions += 1
        if row.account not in figure.accounts:
            figure.accounts = sorted([*figure.accounts, row.account])
    return sorted(
        found.values(),
        key=lambda f: (-f.followers, -(f.mentions + f.reposts), f.author.lower(), f.network),
    )


def known_accounts(session: Session) -> set[str]:
    """Every account name found in posts or account measurements."""
    names = set(session.execute(select(_post.account).distinct()).scalars())
    names |= set(session.execute(select(_mention.account).distinct()).scalars())
    return names | set(session.execute(select(_snapshot.account).distinct()).scalars())
