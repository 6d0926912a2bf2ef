"""Claiming delivery rows for a run of the queue: which rows may be taken now, and taking them.

A claimed row is ``sending`` until its reply is recorded (:mod:`.ledger`); rows left ``sending``
by a crash are claimable again after ``[mail] claim_timeout``. See :mod:`.queue` for the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from campaign.models import Delivery, DeliveryStatus, utcnow


def claimable(newsletter_id: Any, now: datetime, stale_before: datetime) -> Any:
    """Rows a run may take now: pending, deferred and due, or abandoned while sending.

    ``newsletter_id`` is an id, or a column for a correlated query over several newsletters
    (the send worker's "which newsletters have work now").
    """
    return (
        col(Delivery.newsletter_id) == newsletter_id,
        or_(
            col(Delivery.status) == DeliveryStatus.pending,
            (col(Delivery.status) == DeliveryStatus.deferred)
            & or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
            (col(Delivery.status) == DeliveryStatus.sending)
            & (col(Delivery.updated_at) < stale_before),
        ),
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    subscriber_id: int | None
    email: str
    group_key: str
    attempts: int


_CLAIMED_COLUMNS = (
    col(Delivery.id),
    col(Delivery.subscriber_id),
    col(Delivery.email),
    col(Delivery.group_key),
    col(Delivery.attempts),
)


def claim(session: Session, newsletter_id: int, stale_after: timedelta, size: int) -> list[Claimed]:
    """Mark up to ``size`` rows ``sending`` for this run and commit; the rows claimed.

    One ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`` per kind of claimable row
    (pending first, then deferred and due, then abandoned), until ``size`` are taken: atomic on
    SQLite (one writer at a time), and on PostgreSQL the inner ``FOR UPDATE SKIP LOCKED`` lets
    concurrent senders take different rows instead of waiting for each other. Asking for one
    status at a time lets the database walk its (newsletter, status) index in id order; one
    query with the three conditions OR-ed made SQLite sort every row of the newsletter for
    each batch, a cost that grew with the audience.
    """
    now = utcnow()
    stale_before = now - stale_after
    kinds = (
        (col(Delivery.status) == DeliveryStatus.pending,),
        (
            col(Delivery.status) == DeliveryStatus.deferred,
            or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
        ),
        (
            col(Delivery.status) == DeliveryStatus.sending,
            col(Delivery.updated_at) < stale_before,
        ),
    )
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows: list[Claimed] = []
    for conditions in kinds:
        if len(rows) >= size:
            break
        chosen = (
            select(Delivery.id)
            .where(col(Delivery.newsletter_id) == newsletter_id, *conditions)
            .order_by(col(Delivery.id))
            .limit(size - len(rows))
        )
        if postgresql:
            chosen = chosen.with_for_update(skip_locked=True)
        statement = (
            update(Delivery)
            .where(col(Delivery.id).in_(chosen.scalar_subquery()))
            .values(status=DeliveryStatus.sending, updated_at=now)
            .returning(*_CLAIMED_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        rows += [Claimed(*row) for row in session.execute(statement).all()]
    session.commit()
    rows.sort(key=lambda row: row.id)
    return rows
