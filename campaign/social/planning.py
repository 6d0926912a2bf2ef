"""Planning posts from the events catalogue: a few events a day, varied, none featured twice.

The 2011 report says what worked: three or four events every day of the Mois. For each local day
(Europe/Paris by default: 09:00 stays 09:00 across the end-of-October clock change) and each
posting time, one event is chosen:

- among the events taking place that day where they take place (an event at 00:30 on 5
  November in Paris belongs to 5 November, a 23:30 evening in Guyane to its own day, not to the
  next Paris one), still to come when the post goes out, compared as instants (an 18:00
  workshop in La Réunion has started before a 17:30 Paris post); an all-day event is on all
  its day, so any post of that day may feature it;
- never one already featured by a post that is not cancelled (this run's or an earlier one's);
- preferring a region and a theme not yet seen that day, then the regions and themes featured
  least so far in the plan, so the whole country and every theme get their turn.

With ``theme_of_the_day`` each day is given one theme (the one with the most events left,
favouring themes not yet given a day) and its posts feature that theme's events. Posts are
created as drafts with their time set, for the team to review and schedule. A posting time
that already has a post for the account is left alone, so running the plan again fills only
what is missing.

Given several accounts (X, Mastodon, Bluesky…), each chosen event makes one draft per account,
written and cut for that account's network; a posting time that already has a post on any of
them is left alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.events import when
from campaign.events.catalogue import EventQuery, find_events
from campaign.messages import Message, message
from campaign.models import Event, Post, PostStatus, utcnow
from campaign.social.compose import EVENT_TEMPLATE, event_post_text
from campaign.social.cost import Estimate, account_networks, estimate, usage_of
from campaign.social.limits import account_limit
from campaign.social.networks import account_settings, network_of, transport_for
from campaign.social.posts import create_post

MAX_DAYS = 366


@dataclass
class PlannedPost:
    """One draft created by the plan, with what it features and what was shortened."""

    post: Post
    event: Event
    day: date
    shortened: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """The drafts created, what could not be planned and why, and what publishing them costs."""

    planned: list[PlannedPost] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)  # worded by each door
    estimate: Estimate | None = None
    dry_run: bool = False


def parse_times(text: str) -> list[time]:
    """``"09:00,12:30,17:30"`` → sorted local times of day."""
    times: set[time] = set()
    for item in text.split(","):
        item = item.strip()
        match = re.fullmatch(r"(\d{1,2})[:hH](\d{2})", item)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise CampaignError.of("planner.bad_time", "times", item=item)
        times.add(time(int(match[1]), int(match[2])))
    if not times:
        raise CampaignError.of("planner.no_times", "times")
    return sorted(times)


def _last_chance(event: Event, zone: ZoneInfo) -> datetime:
    """Until when a post may announce the event as to come: its start (an all-day event: its
    end), so that the events that will soon be out of reach go first."""
    return when.deadline(event, zone) if when.is_all_day(event, zone) else event.starts_at


def _featured(session: Session) -> set[int]:
    """Events featured by any post that is not cancelled."""
    rows = session.exec(select(Post.event_ids).where(Post.status != PostStatus.cancelled))
    return {int(event_id) for ids in rows for event_id in (ids or [])}


def featured_event_ids(session: Session) -> set[int]:
    """Events already featured by a post that is not cancelled: the plan never takes them."""
    return _featured(session)


def _taken_slots(session: Session, account: str, start: datetime, end: datetime) -> dict:
    query = (
        select(Post)
        .where(Post.account == account)
        .where(Post.status != PostStatus.cancelled)
        .where(col(Post.scheduled_at) >= start)
        .where(col(Post.scheduled_at) < end)
    )
    return {post.scheduled_at: post.id for post in session.exec(query)}


def _day_theme(
    candidates: Sequence[Event], first_slot: datetime, theme_days: Counter[str], zone: ZoneInfo
) -> str | None:
    counts = Counter(
        event.theme
        for event in candidates
        if event.theme and when.is_to_come(event, first_slot, zone)
    )
    if not counts:
        return None
    return min(counts, key=lambda theme: (theme_days[theme], -counts[theme], theme))


def _rank(
    event: Event,
    regions_today: set[str],
    themes_today: set[str],
    region_uses: Counter[str],
    theme_uses: Counter[str],
    zone: ZoneInfo,
) -> tuple[Any, ...]:
    """Lower is better: new region and theme today first, then the least featured so far."""
    return (
        (event.region in regions_today) + (event.theme in themes_today),
        region_uses[event.region] + theme_uses[event.theme],
        _last_chance(event, zone),
        event.id,
    )


def plan_event_posts(
    session: Session,
    settings: Settings,
    *,
    account: str = "",
    accounts: Sequence[str] = (),
    date_from: date,
    date_to: date,
    times: Sequence[time],
    per_day: int | None = None,
    theme_of_the_day: bool = False,
    template: str = EVENT_TEMPLATE,
    templates_dir: Path | str | None = None,
    now: datetime | None = None,
) -> Plan:
    """Create draft posts featuring each day's events (see the module docstring for the rules).

    ``times`` are local times of day; ``per_day`` posts a day go out at the first ``per_day``
    of them (all of them by default). ``accounts`` (with ``account`` first if given): one
    draft per account for each event, its text written for the account's network. Returns the
    drafts, notes on what could not be planned (past times, days short of events, shortened
    texts) and the X cost estimate.
    """
    names = list(dict.fromkeys([*([account] if account else []), *accounts]))
    if not names:
        raise CampaignError.of("post.no_account", "accounts")
    for name in names:
        account_settings(settings, name)
    slots_of_day = _slots_of_day(times, per_day, date_from, date_to)
    planner = _Planner(
        session,
        settings,
        names,
        now=now or utcnow(),
        theme_of_the_day=theme_of_the_day,
        template=template,
        templates_dir=templates_dir,
        featured=_featured(session),
    )
    planner.note_taken(date_from, date_to)
    day = date_from
    while day <= date_to:
        planner.plan_day(day, slots_of_day)
        day += timedelta(days=1)

    plan = planner.plan
    posts = [planned.post for planned in plan.planned]
    plan.estimate = estimate(usage_of(posts, account_networks(settings)), settings.social.x.prices)
    plan.dry_run = any(transport_for(settings, name).dry_run for name in names)
    return plan


def _slots_of_day(
    times: Sequence[time], per_day: int | None, date_from: date, date_to: date
) -> list[time]:
    """The local times of day the plan posts at, once the request is checked."""
    chosen = sorted(set(times))
    if not chosen:
        raise CampaignError.of("planner.no_times", "times")
    per_day = len(chosen) if per_day is None else per_day
    if not 1 <= per_day <= len(chosen):
        raise CampaignError.of(
            "planner.per_day_out_of_range", "per_day", per_day=per_day, most=len(chosen)
        )
    if date_to < date_from:
        raise CampaignError.of("period.end_before_start", "to", start=date_from, end=date_to)
    if (date_to - date_from).days >= MAX_DAYS:
        raise CampaignError.of("planner.too_many_days", "to", days=MAX_DAYS)
    return chosen[:per_day]


@dataclass
class _Planner:
    """One run of the plan: what is featured and taken so far, and the drafts made."""

    session: Session
    settings: Settings
    names: list[str]
    now: datetime
    theme_of_the_day: bool
    template: str
    templates_dir: Path | str | None
    featured: set[int]
    taken: dict[datetime, int | None] = field(default_factory=dict)
    region_uses: Counter[str] = field(default_factory=Counter)
    theme_uses: Counter[str] = field(default_factory=Counter)
    theme_days: Counter[str] = field(default_factory=Counter)
    plan: Plan = field(default_factory=Plan)

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def note_taken(self, date_from: date, date_to: date) -> None:
        """The posting times of the period that already have a post on one of the accounts."""
        window_start = datetime.combine(date_from, time.min, tzinfo=self.zone)
        window_end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=self.zone)
        for name in reversed(self.names):  # the first account's post is the one named
            self.taken.update(_taken_slots(self.session, name, window_start, window_end))

    def plan_day(self, day: date, slots_of_day: Sequence[time]) -> None:
        zone = self.zone
        # zoneinfo turns each local wall time into the right UTC instant, clock change included.
        slots = [datetime.combine(day, moment, tzinfo=zone) for moment in slots_of_day]
        candidates = self._candidates(day)
        open_slots = self._open_slots(slots)
        day_theme = None
        if self.theme_of_the_day and open_slots:
            day_theme = _day_theme(candidates, open_slots[0], self.theme_days, zone)
            if day_theme:
                self.theme_days[day_theme] += 1
        regions_today: set[str] = set()
        themes_today: set[str] = set()
        for slot in open_slots:
            eligible = self._eligible(candidates, slot, day_theme)
            if not eligible:
                self.plan.notes.append(message("planner.no_event_left", slot=slot))
                continue
            used = (regions_today, themes_today, self.region_uses, self.theme_uses, zone)
            chosen = min(eligible, key=lambda event: _rank(event, *used))
            assert chosen.id is not None
            for name in self.names:
                _draft(
                    self.session,
                    self.settings,
                    self.plan,
                    name,
                    chosen,
                    slot,
                    day,
                    self.template,
                    self.templates_dir,
                )
            candidates.remove(chosen)
            self.featured.add(chosen.id)
            regions_today.add(chosen.region)
            themes_today.add(chosen.theme)
            self.region_uses[chosen.region] += 1
            self.theme_uses[chosen.theme] += 1

    def _candidates(self, day: date) -> list[Event]:
        """The events of ``day`` where they take place, not featured yet."""
        day_start = datetime.combine(day, time.min, tzinfo=self.zone)
        day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.zone)
        # A day wider on each side: the events' own days differ from Paris days by hours.
        query = EventQuery(start=day_start - timedelta(days=1), end=day_end + timedelta(days=1))
        return [
            event
            for event in find_events(self.session, query)
            if event.id not in self.featured and when.is_on_day(event, day, self.zone)
        ]

    def _open_slots(self, slots: Sequence[datetime]) -> list[datetime]:
        """The slots still to come and free on every account (the others get a note)."""
        open_slots = []
        for slot in slots:
            if slot <= self.now:
                self.plan.notes.append(message("planner.slot_past", slot=slot))
            elif slot in self.taken:
                self.plan.notes.append(
                    message("planner.slot_taken", slot=slot, post_id=self.taken[slot])
                )
            else:
                open_slots.append(slot)
        return open_slots

    def _eligible(
        self, candidates: Sequence[Event], slot: datetime, day_theme: str | None
    ) -> list[Event]:
        """The candidates still to come at ``slot``, those of the day's theme if any are left."""
        eligible = [event for event in candidates if when.is_to_come(event, slot, self.zone)]
        if day_theme:
            on_theme = [event for event in eligible if event.theme == day_theme]
            if on_theme:
                return on_theme
            if eligible:
                self.plan.notes.append(
                    message("planner.theme_exhausted", slot=slot, theme=day_theme)
                )
        return eligible


def _draft(
    session: Session,
    settings: Settings,
    plan: Plan,
    account: str,
    event: Event,
    slot: datetime,
    day: date,
    template: str,
    templates_dir: Path | str | None,
) -> None:
    """The draft featuring ``event`` at ``slot`` on ``account``, written for its network."""
    assert event.id is not None
    composed = event_post_text(
        event,
        slot,
        settings,
        template=template,
        templates_dir=templates_dir,
        network=network_of(settings, account),
        limit=account_limit(session, settings, account),
    )
    post = create_post(
        session,
        settings,
        account=account,
        text=composed.text,
        scheduled_at=slot,
        event_ids=[event.id],
        draft=True,
        # Remembered so that a move writes it again (from the shipped templates).
        template=template if templates_dir is None else "",
    )
    plan.planned.append(PlannedPost(post, event, day, composed.shortened))
    if composed.shortened:
        plan.notes.append(
            message(
                "planner.shortened",
                post_id=post.id,
                event=event.source_id,
                details=list(composed.shortened),
            )
        )
