"""The tables, limits and conditions every report query shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from campaign.models import (
    AccountSnapshot,
    ConsentEvent,
    Delivery,
    Hit,
    Link,
    Newsletter,
    Post,
    PostMetrics,
    SocialMention,
    Subscriber,
)
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
