"""The figures of every newsletter sent in a period: one grouped query per measure.

See :mod:`campaign.reports.queries` for what each figure counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, distinct, func, select
from sqlalchemy.orm import Session

from campaign.models import (
    ConsentAction,
    DeliveryStatus,
    HitClass,
    HitKind,
)
from campaign.reports.attribution import SOURCE_PREFIX, newsletter_of
from campaign.reports.model import Period
from campaign.reports.queries.common import (
    _chunks,
    _consent,
    _delivery,
    _hit,
    _newsletter,
    _within,
)


@dataclass
class NewsletterFigures:
    """The figures of one sent newsletter (:mod:`campaign.reports.queries` defines each)."""

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
