"""Before sending: which readers the rule finds no event for, and which events are already over.

A newsletter of regional events sent to 18 regions may leave one of them (Corse, a small
overseas region) with nothing in the chosen days, and a letter sent late would feature events
already held. :func:`coverage` counts, for the audience as it is now, the readers of each
audience group with the number of the rule's events still to come for them, the readers whose
region the taxonomy does not know (their region can match no event), and the rule's events
left out as already over. It returns figures, not sentences: :func:`coverage_issues` gives them
as messages, which the CLI words in English; the dashboard words the figures in its templates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from campaign.events.catalogue import find_events, over_at
from campaign.messages import message
from campaign.models import Newsletter, WhenNoEvents, utcnow
from campaign.newsletters.checks import Issue
from campaign.newsletters.preview import event_query, lists_events, per_region
from campaign.newsletters.records import count_audience, iter_audience
from campaign.taxonomy import Taxonomy

if TYPE_CHECKING:
    from campaign.config import Settings


@dataclass(frozen=True)
class GroupCoverage:
    """One audience group: its region ("" for readers without one), readers, events for them."""

    region: str
    readers: int
    events: int
    known: bool = True  # the taxonomy knows the region ("" counts as known: national)


@dataclass
class Coverage:
    """What :func:`coverage` found; ``total_events``: the rule's events still to come."""

    regional: bool
    choice: str
    groups: list[GroupCoverage] = field(default_factory=list)
    over: int = 0
    total_events: int = 0

    @property
    def empty(self) -> list[GroupCoverage]:
        """Groups of a known region (or none) whose events section would be empty."""
        return [group for group in self.groups if group.known and not group.events]

    @property
    def unknown(self) -> list[GroupCoverage]:
        """Groups whose region the taxonomy does not know, most readers first."""
        found = [group for group in self.groups if not group.known]
        return sorted(found, key=lambda group: (-group.readers, group.region))

    @property
    def unknown_readers(self) -> int:
        return sum(group.readers for group in self.unknown)


def coverage(
    session: Session,
    newsletter: Newsletter,
    settings: Settings,
    *,
    now: datetime | None = None,
    taxonomy: Taxonomy | None = None,
) -> Coverage:
    """The rule's events per audience group if the newsletter went out at ``now``.

    One catalogue query (the rule over every region, without its maximum) and one walk of the
    audience. A newsletter whose rule features no event has nothing to count.
    """
    now = now or utcnow()
    regional = per_region(newsletter)
    result = Coverage(regional, newsletter.when_no_events or WhenNoEvents.national)
    if not lists_events(newsletter):
        return result
    taxonomy = taxonomy or Taxonomy.from_settings(settings)
    query = event_query(newsletter, settings, None, now=now)
    query.limit = query.still_on_at = None
    matching = find_events(session, query)
    still_on = [event for event in matching if over_at(event) > now]
    result.over = len(matching) - len(still_on)
    result.total_events = len(still_on)
    if not regional:
        readers = sum(1 for _ in iter_audience(session, newsletter))
        result.groups = [GroupCoverage("", readers, len(still_on))]
        return result
    by_region = Counter(event.region for event in still_on)
    readers_by_region = Counter(
        person.region or "" for person in iter_audience(session, newsletter)
    )
    result.groups = [
        GroupCoverage(
            region,
            readers,
            by_region[region] if region else len(still_on),
            known=not region or region in taxonomy.regions,
        )
        for region, readers in sorted(readers_by_region.items())
    ]
    return result


def audience_size(session: Session, newsletter: Newsletter, found: Coverage) -> int:
    """How many people ``newsletter`` reaches, from what :func:`coverage` ``found``: the
    readers of its groups; counted apart only when it counted none (a rule without events)."""
    if found.groups:
        return sum(group.readers for group in found.groups)
    return count_audience(session, newsletter)


def coverage_issues(found: Coverage) -> list[Issue]:
    """The findings as warnings (nothing here stops a send), each a message the door words.

    ``what``: what the readers concerned get, a choice of :class:`WhenNoEvents` or
    ``nothing`` (an empty events section: no event anywhere)."""
    issues: list[Issue] = []
    if found.over:
        issues.append(Issue("warning", message("coverage.events_over", count=found.over)))
    nothing_anywhere = not found.total_events and found.choice in (
        WhenNoEvents.national,
        WhenNoEvents.nearest,
    )
    what = "nothing" if nothing_anywhere else None
    for group in found.empty:
        issues.append(
            Issue(
                "warning",
                message(
                    "coverage.group_without_events",
                    region=group.region,
                    regional=found.regional,
                    readers=group.readers,
                    what=what or str(WhenNoEvents(found.choice)),
                ),
            )
        )
    if found.unknown:
        choice = WhenNoEvents(found.choice)
        if choice == WhenNoEvents.nearest:
            choice = WhenNoEvents.national  # an unknown region has no neighbours
        issues.append(
            Issue(
                "warning",
                message(
                    "coverage.unknown_regions",
                    "audience.region",
                    readers=found.unknown_readers,
                    shown=[(group.region, group.readers) for group in found.unknown[:10]],
                    more=max(len(found.unknown) - 10, 0),
                    what=what or str(choice),
                ),
            )
        )
    return issues
