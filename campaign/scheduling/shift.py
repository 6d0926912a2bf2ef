"""A calendar replayed from now, for the demo: a campaign of months in a couple of minutes.

:func:`shift_calendar` keeps the order of a checked calendar's newsletters and posts and gives
them new times, one every ``gap`` from ``start``. Each "events of the day" rule brings its first
few posts (their events chosen as on their real day, so they announce real events of the
catalogue) as plain posts among the others, each written again for its new time ("Demain",
the date…); one whose events are over by then is refused by the sync, saying why. Newsletters
keep their event selection (the catalogue's real dates), and recurring jobs are left out: the
demo shows a campaign going out, not a weekly chore. The result is synced like any calendar,
under its own name, so the real calendar's rows are never touched.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Event
from campaign.scheduling.calendar import Calendar, NewsletterEntry, PostEntry
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.selection import fill_slots, rule_slots
from campaign.scheduling.sync import SyncSummary, apply_calendars
from campaign.social.compose import rule_post_text
from campaign.social.limits import account_limit
from campaign.social.moving import over_problem
from campaign.social.networks import network_of


def _handle(settings: Settings, account: str) -> str:
    found = settings.social.accounts.get(account)
    return found.handle if found is not None else ""


def _rule_posts(
    calendar: Calendar,
    session: Session,
    settings: Settings,
    posts_per_rule: int,
    events: dict[int, list[Event]],
) -> list[tuple[datetime, int, PostEntry]]:
    """The first ``posts_per_rule`` posts of each "events of the day" rule as plain posts
    (their events chosen as on their real day), at their real time; ``events`` gets the
    events of each (by the post's ``id()``)."""
    items: list[tuple[datetime, int, PostEntry]] = []
    for rule in calendar.recurring:
        if rule.kind != "event-posts" or rule.account is None:
            continue
        slots = fill_slots(
            session, settings, rule, rule_slots(rule, calendar.stem, settings.zone), ()
        )
        for slot in [slot for slot in slots if slot.events][:posts_per_rule]:
            key = f"{rule.key}.{slot.local:%Y-%m-%dT%H-%M}"
            post = PostEntry(
                key,
                rule.line,
                rule.account,
                slot.at,
                slot.text,
                slot.parts,
                [],
                slot.event_ids,
                template=rule.template,
                others=dict(slot.others),
            )
            events[id(post)] = slot.events
            items.append((slot.at, 2, post))
    return items


def _rewritten(
    post: PostEntry, announced: list[Event], session: Session, settings: Settings
) -> PostEntry:
    """``post`` written again for its new time ("Demain", the date…), on each account."""

    def written(account: str) -> tuple[str, list[str]]:
        return rule_post_text(
            post.template,
            announced,
            post.at,
            settings,
            _handle(settings, account),
            network_of(settings, account),
            account_limit(session, settings, account),
        )

    text, parts = written(post.account)
    others = {account: written(account) for account in post.others}
    return dataclasses.replace(post, text=text, parts=parts, others=others)


def shift_calendar(
    calendar: Calendar,
    session: Session,
    settings: Settings,
    *,
    start: datetime,
    gap: timedelta = timedelta(seconds=5),
    posts_per_rule: int = 3,
    name: str | None = None,
    segment: dict[str, Any] | None = None,
) -> Calendar:
    """A copy of ``calendar`` whose entries go out from ``start``, in order, ``gap`` apart.

    ``segment`` replaces every newsletter's segment (the demo narrows them to one region, so
    that a year of newsletters goes out in seconds rather than minutes).
    """
    items: list[tuple[datetime, int, NewsletterEntry | PostEntry]] = []
    events: dict[int, list[Event]] = {}  # the events of each "events of the day" post
    items.extend((letter.at, 0, letter) for letter in calendar.newsletters)
    items.extend((one_off.at, 1, one_off) for one_off in calendar.posts)
    items.extend(_rule_posts(calendar, session, settings, posts_per_rule, events))
    items.sort(key=lambda item: (item[0], item[1]))
    shifted = Calendar(path=calendar.path, name=name or f"demo-{calendar.stem}")
    for number, (_at, _kind, entry) in enumerate(items):
        moved = dataclasses.replace(entry, at=start + number * gap)
        announced = events.get(id(entry))
        if announced and over_problem(announced, moved.at, settings) is None:
            # Written again for its new time; one whose events are over by then keeps its
            # text, and the sync refuses it, saying why.
            moved = cast(PostEntry, moved)  # only posts announce events
            moved = _rewritten(moved, announced, session, settings)
        if isinstance(moved, NewsletterEntry):
            if segment is not None:
                moved = dataclasses.replace(moved, segment=dict(segment))
            shifted.newsletters.append(moved)
        else:
            shifted.posts.append(moved)
    return shifted


def replay_calendar(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    start: datetime,
    gap: timedelta = timedelta(seconds=5),
    posts_per_rule: int = 3,
    segment: dict[str, Any] | None = None,
) -> SyncSummary:
    """Check the calendar at ``path``, replay it from ``start`` and sync that (the demo's step).

    Raises :class:`CampaignError` listing the problems when the calendar has errors.
    """
    calendar = check_calendar(path, settings, session, now=start)
    if calendar.errors:
        lines = "\n".join(f"  {problem}" for problem in calendar.errors)
        raise CampaignError(f"The calendar {path} has errors:\n{lines}")
    shifted = shift_calendar(
        calendar,
        session,
        settings,
        start=start,
        gap=gap,
        posts_per_rule=posts_per_rule,
        segment=segment,
    )
    return apply_calendars(session, settings, [shifted], {shifted.stem}, now=start)
