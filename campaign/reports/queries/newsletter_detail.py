"""One newsletter in detail: its links, regions, first days and bounce replies."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from campaign.models import (
    Delivery,
    DeliveryStatus,
    Hit,
    HitClass,
    HitKind,
    Link,
    Subscriber,
)
from campaign.reports.queries.common import (
    _delivery,
    _hit,
    _link,
    _subscriber,
    _table,
)
from campaign.reports.queries.newsletters import _TOTALS

FIRST_DAYS = 7  # the days after sending the detailed report counts hits for, one by one


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
