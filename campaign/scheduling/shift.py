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
from campaign.scheduling.sync import SyncReport, apply_calendars
from campaign.social.compose import rule_post_text
from campaign.social.limits import account_limit
from campaign.social.moving import over_problem
from campaign.social.networks import network_of


def _handle(settings: Settings, account: str) -> str:
    found = settings.social.accounts.get(account)
    return found.handle if found is not None else ""


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
    items.sort(key=lambda item: (item[0], item[1]))
    shifted = Calendar(path=calendar.path, name=name or f"demo-{calendar.stem}")
    for number, (_at, _kind, entry) in enumerate(items):
        moved = dataclasses.replace(entry, at=start + number * gap)
        announced = events.get(id(entry))
        if announced and over_problem(announced, moved.at, settings) is None:
            # Written again for its new time ("Demain", the date…); one whose events are over
            # by then keeps its text, and the sync refuses it, saying why.
            moved = cast(PostEntry, moved)  # only posts announce events
            text, parts = rule_post_text(
                moved.template,
                announced,
                moved.at,
                settings,
                _handle(settings, moved.account),
                network_of(settings, moved.account),
                account_limit(session, settings, moved.account),
            )
            others = {
                account: rule_post_text(
                    moved.template,
                    announced,
                    moved.at,
                    settings,
                    _handle(settings, account),
                    network_of(settings, account),
                    account_limit(session, settings, account),
                )
                for account in moved.others
            }
            moved = dataclasses.replace(moved, text=text, parts=parts, others=others)
        if isinstance(moved, NewsletterEntry) and segment is not None:
            moved = dataclasses.replace(moved, segment=dict(segment))
        if isinstance(moved, NewsletterEntry):
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
) -> SyncReport:
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
