"""The "events of the day" rule: which events each post of @Mois_ESS announces.

What worked for the team (2011 report): three or four events every day of the Mois. A rule
gives the days and the times of the posts; each post announces ``per_post`` events that start
later that same day (an all-day event fits any post of its day), never an event announced
before, and within a day it varies regions and daily themes. The choice is deterministic (a
stable hash breaks ties, not the order of the import), so syncing twice chooses the same events
and the second sync changes nothing.

The posting helper's ``plan_event_posts`` is meant to replace :func:`choose_events` at merge.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from campaign.config import Settings
from campaign.events import when
from campaign.events.catalogue import EventQuery, find_events
from campaign.models import Event
from campaign.scheduling import timing
from campaign.scheduling.calendar import RecurringEntry
from campaign.social.compose import rule_post_text
from campaign.social.limits import account_limit


@dataclass
class Slot:
    """One post of a recurring rule: when, and (once chosen) what it says."""

    key: str
    local: datetime  # naive, in the configured zone
    at: datetime  # UTC
    events: list[Event] = field(default_factory=list)
    text: str = ""  # for the rule's first account
    parts: list[str] = field(default_factory=list)
    # The rule's other accounts: (text, parts) of each, written for its network.
    others: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    @property
    def event_ids(self) -> list[int]:
        return [event.id for event in self.events if event.id is not None]


def slot_key(stem: str, rule_key: str, local: datetime) -> str:
    """``mois-ess-2026/evenements-du-jour/2026-11-02T09:00``: stable whatever the events."""
    return f"{stem}/{rule_key}/{local:%Y-%m-%dT%H:%M}"


def rule_slots(rule: RecurringEntry, stem: str, zone: ZoneInfo) -> list[Slot]:
    """Every slot of the rule, each local time converted to UTC on its own day."""
    assert rule.date_from and rule.date_to
    return [
        Slot(slot_key(stem, rule.key, local), local, timing.to_utc(local, zone))
        for local in timing.occurrences(rule.date_from, rule.date_to, rule.times, rule.days)
    ]


def events_by_day(
    session: Session, rule: RecurringEntry, zone: ZoneInfo
) -> dict[date, list[Event]]:
    """The rule's events grouped by the day they start on where they take place (a 23:30
    evening in Guyane is on its own day, though it is the next day in Paris)."""
    assert rule.date_from and rule.date_to
    # A day wider on each side: the events' own days differ from Paris days by hours.
    query = EventQuery(
        start=datetime.combine(rule.date_from - timedelta(days=1), time.min, tzinfo=zone),
        end=datetime.combine(rule.date_to + timedelta(days=2), time.min, tzinfo=zone),
        regions=list(rule.regions),
        themes=list(rule.themes),
        types=list(rule.types),
    )
    days: dict[date, list[Event]] = {}
    for event in find_events(session, query):
        day = when.first_day(event, zone)
        if rule.date_from <= day <= rule.date_to:
            days.setdefault(day, []).append(event)
    return days


def _tie_breaker(salt: str, event: Event) -> str:
    return hashlib.sha256(f"{salt}|{event.source_id}".encode()).hexdigest()


def choose_events(
    candidates: Sequence[Event],
    count: int,
    used: set[int],
    regions_today: Counter[str],
    themes_today: Counter[str],
    salt: str,
    soon: Callable[[Event], bool] = lambda event: True,
) -> list[Event]:
    """Up to ``count`` events not in ``used``: those ``soon`` accepts (starting before the day's
    next post) first, then the least-shown region and daily theme of the day.

    ``used``, ``regions_today`` and ``themes_today`` are updated with the events chosen.
    """
    chosen: list[Event] = []
    pool = [event for event in candidates if event.id not in used]
    while pool and len(chosen) < count:
        best = min(
            pool,
            key=lambda event: (
                not soon(event),
                regions_today[event.region],
                themes_today[event.theme],
                _tie_breaker(salt, event),
            ),
        )
        chosen.append(best)
        pool.remove(best)
        assert best.id is not None
        used.add(best.id)
        regions_today[best.region] += 1
        themes_today[best.theme] += 1
    return chosen


def _handles(settings: Settings, accounts: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(handle, network) of each account; no account: X's rules with no handle."""
    known = settings.social.accounts
    return {
        name: (known[name].handle, known[name].network) if name in known else ("", "x")
        for name in accounts or [""]
    }


def fill_slots(
    session: Session,
    settings: Settings,
    rule: RecurringEntry,
    slots: Iterable[Slot],
    used: Iterable[int],
) -> list[Slot]:
    """Choose the events of ``slots`` (in time order) and write their text.

    ``used``: events already announced by posts of this rule that are not planned again
    (published, or past). Slots left without events are returned with ``events == []``.
    """
    zone = settings.zone
    days = events_by_day(session, rule, zone)
    used_ids = set(used)
    accounts = rule.accounts or ([rule.account] if rule.account else [])
    per_day: dict[date, tuple[Counter[str], Counter[str]]] = {}
    result: list[Slot] = []
    for slot in sorted(slots, key=lambda item: item.at):
        day = slot.local.date()
        regions_today, themes_today = per_day.setdefault(day, (Counter(), Counter()))
        candidates = [event for event in days.get(day, []) if when.is_to_come(event, slot.at, zone)]
        later = [clock for clock in rule.times if clock > slot.local.time()]
        next_post = timing.to_utc(datetime.combine(day, later[0]), zone) if later else None

        def soon(event: Event, next_post: datetime | None = next_post) -> bool:
            return next_post is None or event.starts_at < next_post

        slot.events = choose_events(
            candidates, rule.per_post, used_ids, regions_today, themes_today, slot.key, soon
        )
        if slot.events:
            # The same events on every account, each text written for its own network.
            texts = {
                name: rule_post_text(
                    rule.template,
                    slot.events,
                    slot.at,
                    settings,
                    *where,
                    limit=account_limit(session, settings, name) if name else None,
                )
                for name, where in _handles(settings, accounts).items()
            }
            first, *others = texts
            slot.text, slot.parts = texts[first]
            slot.others = {name: texts[name] for name in others}
        result.append(slot)
    return result
