"""Every aggregate query of the reports, in one module (the listmonk ``queries.sql`` idea).

The reports read what the other stages stored and never change it. The heavy figures (a year of
deliveries and hits: a million rows and several millions) are counted by the database in a few
grouped queries over the indexes ``ix_delivery_newsletter_status`` and ``ix_hit_report``, never by
loading rows into Python; only small results (a few hundred rows at most: links, regions, days,
bounce replies, posts, snapshots, one row per subscriber for the monthly list size) come back.
The queries are written with SQLAlchemy Core so that SQLite and PostgreSQL run the same text and
return the same figures (tests and ``bench/report.py`` check both).

Definitions (docs/reference/reports.md says the same to the team):

* addressed: delivery rows of the newsletter but those ``left_out``; delivered: rows ``sent``
  (accepted by the server, that is addressed minus bounced and failed once sending is over);
  bounces: rows ``bounced``. Left out: rows ``left_out``, readers the rule found no event for
  in a newsletter that skips them: never mailed, so counted apart, not as addressed.
* opens, clicks: human hits; machine opens and bot clicks apart. Unique opens/clicks: distinct
  deliveries among human hits; anonymous hits (no delivery) count in totals only.
* unsubscribes: distinct people whose ``unsubscribed`` consent line names the newsletter
  (:mod:`campaign.reports.attribution`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, distinct, false, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from campaign.models import (
    AccountSnapshot,
    ConsentAction,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    Hit,
    HitClass,
    HitKind,
    Link,
    Newsletter,
    Post,
    PostMetrics,
    PostStatus,
    SocialMention,
    Subscriber,
    SubscriberStatus,
    UTCDateTime,
)
from campaign.reports.attribution import SOURCE_PREFIX, newsletter_of
from campaign.reports.model import Period

_newsletter = Newsletter.__table__.c  # type: ignore[attr-defined]
_delivery = Delivery.__table__.c  # type: ignore[attr-defined]
_hit = Hit.__table__.c  # type: ignore[attr-defined]
_link = Link.__table__.c  # type: ignore[attr-defined]
_subscriber = Subscriber.__table__.c  # type: ignore[attr-defined]
_consent = ConsentEvent.__table__.c  # type: ignore[attr-defined]
_post = Post.__table__.c  # type: ignore[attr-defined]
_metrics = PostMetrics.__table__.c  # type: ignore[attr-defined]
_snapshot = AccountSnapshot.__table__.c  # type: ignore[attr-defined]
_mention = SocialMention.__table__.c  # type: ignore[attr-defined]


def _table(model: Any) -> Any:
    return model.__table__


IN_CHUNK = 900  # ids per IN (…) list: SQLite allows 999 parameters in one statement
FIRST_DAYS = 7

LEFT = {
    SubscriberStatus.unsubscribed: "unsubscribes",
    SubscriberStatus.bounced: "bounced",
    SubscriberStatus.complained: "complained",
}
"""Statuses that take someone off the list, and the monthly column each one is counted in."""


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


def _within(column: Any, period: Period) -> list[Any]:
    conditions = []
    start, end = period.starts_at(), period.ends_before()
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


# --- newsletters --------------------------------------------------------------------------------


@dataclass
class NewsletterFigures:
    """The figures of one sent newsletter (see the module docstring for each definition)."""

    id: int
    title: str
    sent_at: datetime
    anonymous: bool = False
    addressed: int = 0
    delivered: int = 0
    bounces: int = 0
    failed: int = 0
    opens: int = 0
    clicks: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0
    machine_opens: int = 0
    bot_clicks: int = 0
    unsubscribes: int = 0
    left_out: int = 0

    @property
    def not_sent(self) -> int:
        """Rows still pending, deferred or being sent (or left unsent by a cancellation)."""
        return self.addressed - self.delivered - self.bounces - self.failed

    def uniques(self) -> tuple[int | None, int | None]:
        """Unique opens and clicks; unknown (None) when the newsletter tracked anonymously."""
        if self.anonymous:
            return None, None
        return self.unique_opens, self.unique_clicks

    @property
    def open_rate(self) -> float | None:
        opens, _ = self.uniques()
        return opens / self.delivered if opens is not None and self.delivered else None

    @property
    def click_rate(self) -> float | None:
        _, clicks = self.uniques()
        return clicks / self.delivered if clicks is not None and self.delivered else None

    @property
    def click_to_open(self) -> float | None:
        opens, clicks = self.uniques()
        return clicks / opens if clicks is not None and opens else None


def newsletter_figures(
    session: Session, period: Period, ids: Sequence[int] | None = None
) -> list[NewsletterFigures]:
    """The figures of every newsletter whose sending began in ``period`` (or of ``ids``), by date.

    Five grouped queries whatever the number of newsletters: the newsletters, their deliveries by
    status, their hits by kind and class, distinct deliveries among human hits, unsubscribes.
    """
    query = select(
        _newsletter.id, _newsletter.title, _newsletter.sent_at, _newsletter.anonymous_tracking
    ).where(_newsletter.sent_at.is_not(None), *_within(_newsletter.sent_at, period))
    if ids is not None:
        query = query.where(_newsletter.id.in_(list(ids)))
    figures = {
        row.id: NewsletterFigures(row.id, row.title, row.sent_at, bool(row.anonymous_tracking))
        for row in session.execute(query.order_by(_newsletter.sent_at, _newsletter.id))
    }
    if not figures:
        return []
    wanted = list(figures)
    for chunk in _chunks(wanted):
        _count_deliveries(session, chunk, figures)
        _count_hits(session, chunk, figures)
    _count_unsubscribes(session, figures)
    return list(figures.values())


def _count_deliveries(
    session: Session, ids: Sequence[int], figures: dict[int, NewsletterFigures]
) -> None:
    rows = session.execute(
        select(_delivery.newsletter_id, _delivery.status, func.count())
        .where(_delivery.newsletter_id.in_(ids))
        .group_by(_delivery.newsletter_id, _delivery.status)
    )
    for newsletter_id, status, number in rows:
        figure = figures[newsletter_id]
        if status == DeliveryStatus.left_out:
            figure.left_out += number
            continue
        figure.addressed += number
        if status == DeliveryStatus.sent:
            figure.delivered += number
        elif status == DeliveryStatus.bounced:
            figure.bounces += number
        elif status == DeliveryStatus.failed:
            figure.failed += number


_TOTALS = {
    (HitKind.open, True): "opens",
    (HitKind.click, True): "clicks",
    (HitKind.open, False): "machine_opens",
    (HitKind.click, False): "bot_clicks",
}
_NOT_HUMAN = [c.value for c in HitClass if c != HitClass.human]

# One newsletter, one kind, human or not: the number of hits. With equality on the first
# columns of ix_hit_report each count walks one short range of the index; a few hundred of
# these small counts are faster, on SQLite, than one GROUP BY over the whole index.
_HIT_TOTAL = {
    human: select(func.count()).where(
        _hit.newsletter_id == bindparam("newsletter"),
        _hit.kind == bindparam("kind"),
        _hit.classification == HitClass.human if human else _hit.classification.in_(_NOT_HUMAN),
    )
    for human in (True, False)
}
# Distinct deliveries among one newsletter's human hits of one kind. The GROUP BY follows the
# index order (newsletter, kind, classification, delivery): no sort, no temporary table, where
# count(DISTINCT …) builds one for every group. Anonymous hits (no delivery) are left out.
_HIT_PEOPLE = select(func.count()).select_from(
    select(_hit.delivery_id)
    .where(
        _hit.newsletter_id == bindparam("newsletter"),
        _hit.kind == bindparam("kind"),
        _hit.classification == HitClass.human,
        _hit.delivery_id.is_not(None),
    )
    .group_by(_hit.delivery_id)
    .subquery()
)


def _count_hits(
    session: Session, ids: Sequence[int], figures: dict[int, NewsletterFigures]
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        _count_hits_grouped(session, ids, figures)
        return
    for newsletter_id in ids:
        figure = figures[newsletter_id]
        for (kind, human), name in _TOTALS.items():
            number = session.execute(
                _HIT_TOTAL[human], {"newsletter": newsletter_id, "kind": kind.value}
            ).scalar_one()
            setattr(figure, name, number)
        for kind in HitKind:
            number = session.execute(
                _HIT_PEOPLE, {"newsletter": newsletter_id, "kind": kind.value}
            ).scalar_one()
            setattr(figure, f"unique_{kind.value}s", number)


def _count_hits_grouped(
    session: Session, ids: Sequence[int], figures: dict[int, NewsletterFigures]
) -> None:
    """PostgreSQL: one grouped query over the index; its sorted DISTINCT beats hundreds of
    small queries there (measured by bench/report.py), where SQLite is the other way round."""
    rows = session.execute(
        select(
            _hit.newsletter_id,
            _hit.kind,
            _hit.classification,
            func.count(),
            func.count(distinct(_hit.delivery_id)),
        )
        .where(_hit.newsletter_id.in_(ids))
        .group_by(_hit.newsletter_id, _hit.kind, _hit.classification)
    )
    for newsletter_id, kind, classification, total, people in rows:
        human = classification == HitClass.human
        name = _TOTALS.get((kind, human))
        if name is None:
            continue
        figure = figures[newsletter_id]
        setattr(figure, name, getattr(figure, name) + total)
        if human:
            setattr(figure, f"unique_{kind}s", people)


def _count_unsubscribes(session: Session, figures: dict[int, NewsletterFigures]) -> None:
    people: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        select(_consent.source, _consent.subscriber_id).where(
            _consent.action == ConsentAction.unsubscribed,
            _consent.source.like(SOURCE_PREFIX + "%"),
        )
    )
    for source, subscriber_id in rows:
        newsletter_id = newsletter_of(source)
        if newsletter_id in figures:
            people[newsletter_id].add(subscriber_id)
    for newsletter_id, who in people.items():
        figures[newsletter_id].unsubscribes = len(who)


# --- one newsletter in detail ---------------------------------------------------------------------


@dataclass
class LinkFigures:
    url: str
    clicks: int
    unique_clicks: int
    bot_clicks: int


def link_figures(session: Session, newsletter_id: int) -> list[LinkFigures]:
    """Every link of the newsletter with its human clicks, distinct clickers and bot clicks."""
    human_click = and_(_hit.kind == HitKind.click, _hit.classification == HitClass.human)
    bot_click = and_(_hit.kind == HitKind.click, _hit.classification != HitClass.human)
    rows = session.execute(
        select(
            _link.url,
            func.count(case((human_click, 1))),
            func.count(distinct(case((human_click, _hit.delivery_id)))),
            func.count(case((bot_click, 1))),
        )
        .select_from(_table(Link).outerjoin(_table(Hit), _hit.link_id == _link.id))
        .where(_link.newsletter_id == newsletter_id)
        .group_by(_link.id, _link.url)
    )
    links = [LinkFigures(url, clicks, unique, bots) for url, clicks, unique, bots in rows]
    return sorted(links, key=lambda link: (-link.clicks, -link.unique_clicks, link.url))


@dataclass
class RegionFigures:
    region: str
    addressed: int = 0
    delivered: int = 0
    bounces: int = 0
    left_out: int = 0
    opens: int = 0
    unique_opens: int = 0
    clicks: int = 0
    unique_clicks: int = 0

    @property
    def open_rate(self) -> float | None:
        return self.unique_opens / self.delivered if self.delivered else None

    @property
    def click_rate(self) -> float | None:
        return self.unique_clicks / self.delivered if self.delivered else None


def _region() -> Any:
    # The region the message was rendered for, else the subscriber's; literal '' (no bound
    # parameter) so that PostgreSQL sees the same expression in SELECT and GROUP BY.
    empty: ColumnElement[str] = literal_column("''")
    return func.coalesce(func.nullif(_delivery.group_key, empty), _subscriber.region, empty)


def region_figures(session: Session, newsletter_id: int) -> list[RegionFigures]:
    """Deliveries, opens and clicks per region; anonymous hits belong to no region."""
    regions: dict[str, RegionFigures] = {}

    def region(name: str | None) -> RegionFigures:
        name = name or ""
        return regions.setdefault(name, RegionFigures(name))

    joined = _table(Delivery).outerjoin(
        _table(Subscriber), _subscriber.id == _delivery.subscriber_id
    )
    per_delivery = (
        select(_region().label("region"), _delivery.status)
        .select_from(joined)
        .where(_delivery.newsletter_id == newsletter_id)
        .subquery()
    )
    for name, status, number in session.execute(
        select(per_delivery.c.region, per_delivery.c.status, func.count()).group_by(
            per_delivery.c.region, per_delivery.c.status
        )
    ):
        figure = region(name)
        if status == DeliveryStatus.left_out:
            figure.left_out += number
            continue
        figure.addressed += number
        if status == DeliveryStatus.sent:
            figure.delivered += number
        elif status == DeliveryStatus.bounced:
            figure.bounces += number
    per_hit = (
        select(_region().label("region"), _hit.kind, _hit.delivery_id)
        .select_from(
            _table(Hit)
            .join(_table(Delivery), _delivery.id == _hit.delivery_id)
            .outerjoin(_table(Subscriber), _subscriber.id == _delivery.subscriber_id)
        )
        .where(_hit.newsletter_id == newsletter_id, _hit.classification == HitClass.human)
        .subquery()
    )
    for name, kind, total, unique in session.execute(
        select(
            per_hit.c.region,
            per_hit.c.kind,
            func.count(),
            func.count(distinct(per_hit.c.delivery_id)),
        ).group_by(per_hit.c.region, per_hit.c.kind)
    ):
        figure = region(name)
        if kind == HitKind.open:
            figure.opens, figure.unique_opens = total, unique
        elif kind == HitKind.click:
            figure.clicks, figure.unique_clicks = total, unique
    return sorted(regions.values(), key=lambda r: (-r.addressed, r.region == "", r.region))


@dataclass
class DayFigures:
    number: int  # 1 = the day sending began
    day: date
    opens: int = 0
    clicks: int = 0
    machine_opens: int = 0
    bot_clicks: int = 0


def first_days(
    session: Session, newsletter_id: int, sent_at: datetime, zone: ZoneInfo
) -> list[DayFigures]:
    """Opens and clicks on each of the first seven local days, the sending day being day 1.

    Days are cut at local midnight (so a day may last 23 or 25 hours around a clock change);
    the cut is computed here and handed to the database as UTC bounds, which works the same on
    every engine.
    """
    first = sent_at.astimezone(zone).date()
    days = [first + timedelta(days=offset) for offset in range(FIRST_DAYS + 1)]
    bounds = [datetime.combine(day, time.min, tzinfo=zone) for day in days]
    number = case(*((_hit.at < bounds[i + 1], i + 1) for i in range(FIRST_DAYS)))
    numbered = (
        select(number.label("number"), _hit.kind, _hit.classification)
        .where(_hit.newsletter_id == newsletter_id, _hit.at >= bounds[0], _hit.at < bounds[-1])
        .subquery()
    )
    result = [DayFigures(i + 1, days[i]) for i in range(FIRST_DAYS)]
    for day_number, kind, classification, count in session.execute(
        select(
            numbered.c.number, numbered.c.kind, numbered.c.classification, func.count()
        ).group_by(numbered.c.number, numbered.c.kind, numbered.c.classification)
    ):
        name = _TOTALS[(HitKind(kind), classification == HitClass.human)]
        figure = result[day_number - 1]
        setattr(figure, name, getattr(figure, name) + count)
    return result


@dataclass
class BounceReason:
    status: str  # bounced or failed
    code: str  # enhanced status code (5.1.1) or basic code (550), or ""
    reply: str  # the reply with addresses taken out
    count: int


_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BASIC = re.compile(r"^\s*([245]\d\d)\b")
_ADDRESS = re.compile(r"<[^>]*>|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAX_REPLY = 200


def reply_reason(reply: str) -> tuple[str, str]:
    """A server reply reduced to (code, text without addresses) so equal reasons group together."""
    enhanced = _ENHANCED.search(reply)
    basic = _BASIC.search(reply)
    code = enhanced.group(1) if enhanced else basic.group(1) if basic else ""
    text = " ".join(_ADDRESS.sub("<…>", reply).split())
    if len(text) > MAX_REPLY:
        text = text[: MAX_REPLY - 1].rstrip() + "…"
    return code, text


def bounce_reasons(session: Session, newsletter_id: int) -> list[BounceReason]:
    """Bounced and failed deliveries grouped by their server reply, the most frequent first."""
    groups: dict[tuple[str, str, str], int] = defaultdict(int)
    rows = session.execute(
        select(_delivery.status, _delivery.last_reply).where(
            _delivery.newsletter_id == newsletter_id,
            _delivery.status.in_([DeliveryStatus.bounced, DeliveryStatus.failed]),
        )
    )
    for status, reply in rows:
        code, text = reply_reason(reply or "")
        groups[(status, code, text)] += 1
    reasons = [BounceReason(*key, count) for key, count in groups.items()]
    return sorted(reasons, key=lambda r: (r.status != DeliveryStatus.bounced, -r.count, r.code))


# --- social ---------------------------------------------------------------------------------------


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
    names = sorted(set(snapshots) | {post.account for post in posts})
    start = period.starts_at()
    result = []
    for name in names:
        figure = AccountFigures(name)
        taken = snapshots.get(name, [])
        before = [s for s in taken if start is not None and s.at <= start]
        inside = [s for s in taken if period.contains(s.at)]
        figure.first = before[-1] if before else (inside[0] if inside else None)
        figure.last = inside[-1] if inside else None
        if figure.first and figure.last and figure.first.at <= figure.last.at:
            figure.series = [s for s in taken if figure.first.at <= s.at <= figure.last.at]
            synced = [s for s in figure.series[1:] if not s.typed]
            if synced or not figure.first.typed:
                figure.mentions = sum(s.mentions_since_last for s in synced)
        else:
            figure.first = figure.last = None
        for post in posts:
            if post.account != name:
                continue
            figure.posts += 1
            figure.measured_posts += 1 if post.measured_at else 0
            figure.reposts += post.reposts or 0
            figure.reposted_posts += 1 if post.reposts else 0
            figure.impressions += post.impressions or 0
            figure.likes += post.likes or 0
        result.append(figure)
    return result


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


# --- subscribers --------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    month: date  # its first day
    joined: int = 0
    unsubscribes: int = 0
    bounced: int = 0
    complained: int = 0
    subscribers: int = 0  # on the list at the end of the month


@dataclass
class GroupFigures:
    name: str
    subscribers: int = 0  # on the list at the end of the period
    joined: int = 0  # during the period
    left: int = 0  # during the period


@dataclass
class SubscriberFigures:
    months: list[MonthFigures]
    by_region: list[GroupFigures]
    by_source: list[GroupFigures]


def _month(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def subscriber_figures(session: Session, period: Period, now: datetime) -> SubscriberFigures:
    """List size at the end of each month, people joining and leaving, by region and source.

    Built from each person's row: joined when the imported file said (``joined_at``), else when
    created, left when their status became
    unsubscribed, bounced or complained (``status_changed_at``). People still awaiting
    confirmation are not counted. One pass over one row per subscriber (their dates only).
    """
    zone = period.zone
    people = []
    for row in session.execute(
        select(
            func.coalesce(_subscriber.joined_at, _subscriber.created_at, type_=UTCDateTime()).label(
                "joined_at"
            ),
            _subscriber.status,
            _subscriber.status_changed_at,
            _subscriber.region,
            _subscriber.source,
        ).where(_subscriber.status != SubscriberStatus.pending)
    ):
        joined = _month(row.joined_at, zone)
        left = _month(row.status_changed_at, zone) if row.status in LEFT else None
        people.append((joined, left, row.status, row.region or "", row.source or ""))
    first = period.start.replace(day=1) if period.start else None
    if first is None:
        first = min((joined for joined, *_ in people), default=_month(now, zone))
    last = period.end.replace(day=1) if period.end else _month(now, zone)
    months: list[MonthFigures] = []
    month = first
    while month <= last:
        months.append(MonthFigures(month))
        month = _next_month(month)
    index = {figure.month: figure for figure in months}
    before = 0  # net size before the first month shown
    regions: dict[str, GroupFigures] = {}
    sources: dict[str, GroupFigures] = {}
    for joined, left, status, region, source in people:
        groups = (
            regions.setdefault(region, GroupFigures(region)),
            sources.setdefault(source, GroupFigures(source)),
        )
        if joined > last:
            continue
        if joined < first:
            before += 1
        elif joined in index:
            index[joined].joined += 1
            for group in groups:
                group.joined += 1
        if left is None or left > last:
            for group in groups:
                group.subscribers += 1
            continue
        if left < first:
            before -= 1
        elif left in index:
            figure = index[left]
            setattr(figure, LEFT[status], getattr(figure, LEFT[status]) + 1)
            for group in groups:
                group.left += 1
    size = before
    for figure in months:
        size += figure.joined - figure.unsubscribes - figure.bounced - figure.complained
        figure.subscribers = size

    def ordered(groups: dict[str, GroupFigures]) -> list[GroupFigures]:
        kept = [g for g in groups.values() if g.subscribers or g.joined or g.left]
        return sorted(kept, key=lambda g: (-g.subscribers, g.name == "", g.name))

    return SubscriberFigures(months, ordered(regions), ordered(sources))


def known_accounts(session: Session) -> set[str]:
    """Every account name found in posts or account measurements."""
    names = set(session.execute(select(_post.account).distinct()).scalars())
    names |= set(session.execute(select(_mention.account).distinct()).scalars())
    return names | set(session.execute(select(_snapshot.account).distinct()).scalars())
