"""The audience of a newsletter: who receives it now, from its lists and segment.

Applied on use, never stored: someone who joins a list or leaves it before the send is counted
as the lists say at that moment (a send fixes its audience once, see :mod:`.queue`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlmodel import Session, col, select

from campaign.models import Membership, Newsletter, Subscriber, SubscriberStatus
from campaign.taxonomy import fold

# Segment keys that are subscriber columns; any other key is one of the imported attributes.
SEGMENT_COLUMNS = ("region", "language", "organisation")


def _matches(value: Any, accepted: Sequence[str]) -> bool:
    wanted = {fold(str(item)) for item in accepted}
    values = value if isinstance(value, list) else [value]
    return any(fold(str(item)) in wanted for item in values if item is not None)


def iter_audience(
    session: Session, newsletter: Newsletter, *, email: str | None = None
) -> Iterator[Subscriber]:
    """Who receives ``newsletter`` now, oldest subscriber first.

    Active, not erased subscribers currently on one of its lists (leaving a list ends the
    membership), narrowed by the segment: region and language are compared as stored,
    organisation and attributes regardless of case and accents. ``email`` keeps only that person.
    """
    members = select(Membership.subscriber_id).where(
        col(Membership.list_id).in_(newsletter.list_ids),
        col(Membership.unsubscribed_at).is_(None),
    )
    statement = select(Subscriber).where(
        col(Subscriber.id).in_(members),
        Subscriber.status == SubscriberStatus.active,
        col(Subscriber.erased_at).is_(None),
        col(Subscriber.email).is_not(None),
    )
    segment = dict(newsletter.segment or {})
    for key in ("region", "language"):
        if segment.get(key):
            statement = statement.where(col(getattr(Subscriber, key)).in_(segment.pop(key)))
    if email is not None:
        statement = statement.where(Subscriber.email == email.strip().lower())
    # Streamed in chunks: a whole audience never sits in memory at once.
    statement = statement.order_by(col(Subscriber.id)).execution_options(yield_per=1000)
    for subscriber in session.exec(statement):
        if all(
            _matches(
                getattr(subscriber, key)
                if key in SEGMENT_COLUMNS
                else (subscriber.attributes or {}).get(key),
                accepted,
            )
            for key, accepted in segment.items()
            if accepted
        ):
            yield subscriber


def count_audience(session: Session, newsletter: Newsletter) -> int:
    return sum(1 for _ in iter_audience(session, newsletter))
