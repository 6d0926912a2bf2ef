"""How far a newsletter's sending has gone: its delivery rows counted by status, and the
figures a confirmation (cancel, send now) gives of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from campaign.models import Delivery, DeliveryStatus, Newsletter
from campaign.newsletters.records import count_audience

# Rows no relay has taken yet: those a cancel stops, those a run leaves to send.
UNSENT_ROWS = (DeliveryStatus.pending, DeliveryStatus.deferred, DeliveryStatus.sending)

# Rows whose message went out of our hands: accepted by a relay, or bounced back after.
GONE_ROWS = (DeliveryStatus.sent, DeliveryStatus.bounced)


def counts(session: Session, newsletter_id: int) -> dict[str, int]:
    """Delivery rows of a newsletter by status."""
    rows = session.exec(
        select(Delivery.status, func.count())
        .where(Delivery.newsletter_id == newsletter_id)
        .group_by(Delivery.status)
    ).all()
    return {status: number for status, number in rows}


def unsent(by_status: dict[str, int]) -> int:
    """How many of these rows (:func:`counts`) no relay has taken yet."""
    return sum(by_status.get(status, 0) for status in UNSENT_ROWS)


@dataclass(frozen=True)
class Situation:
    """Who a newsletter goes to and what already left."""

    audience: int
    """Before sending, the audience as it stands; once sending, the rows fixed then."""
    queued: int
    """Delivery rows written when sending began (0 before)."""
    left: int
    """Messages gone out: sent, or bounced after being sent."""
    waiting: int
    """Rows no relay has taken yet (:data:`UNSENT_ROWS`)."""


def situation(session: Session, newsletter: Newsletter) -> Situation:
    """The figures of :class:`Situation` for this newsletter, now."""
    assert newsletter.id is not None
    by_status = counts(session, newsletter.id)
    queued = sum(by_status.values())
    return Situation(
        audience=queued if queued else count_audience(session, newsletter),
        queued=queued,
        left=sum(by_status.get(status, 0) for status in GONE_ROWS),
        waiting=unsent(by_status),
    )
