"""Audience groups: the recipients who get the same rendering of a newsletter.

A newsletter is rendered once per group (:func:`campaign.newsletters.render.render_groups`), so
a rule that splits the audience says what each group's rendering depends on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Generic, TypeVar

from campaign.newsletters.group_pass import as_local

S = TypeVar("S")


@dataclass
class AudienceGroup(Generic[S]):
    """Recipients who get the same rendering, and what their rendering depends on."""

    key: str
    members: list[S]
    context: dict[str, Any] = field(default_factory=dict)


def group_by_region(
    subscribers: Iterable[S],
    events: Iterable[Any],
    *,
    limit: int | None = None,
    fallback_events: Sequence[Any] = (),
) -> list[AudienceGroup[S]]:
    """Rule "events in the subscriber's region": one group per region present in the audience.

    Each group's context holds ``events`` (its region's events, chronological, at most
    ``limit``) and ``region``. Subscribers with no region get ``fallback_events`` (empty unless
    the caller chooses national highlights). Regions are compared as stored (canonical names,
    see :mod:`campaign.taxonomy`).
    """
    by_region: dict[str, list[Any]] = {}
    for event in events:
        by_region.setdefault(event.region or "", []).append(event)
    members: dict[str, list[S]] = {}
    for subscriber in subscribers:
        members.setdefault(getattr(subscriber, "region", "") or "", []).append(subscriber)
    groups = []
    for region, people in members.items():
        chosen = by_region.get(region, []) if region else list(fallback_events)
        chosen = sorted(chosen, key=lambda event: as_local(event.starts_at, UTC))
        groups.append(AudienceGroup(region, people, {"region": region, "events": chosen[:limit]}))
    return groups
