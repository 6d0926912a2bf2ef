"""`schedule check`: a calendar read, and each entry tried the way it will run.

Reading (:mod:`.calendar`) catches what is wrong in the file itself. This adds what only a trial
shows: each newsletter is rendered with today's catalogue (the events still to come at its
sending time) and put through the pre-send checks (a
``prix-ess`` newsletter without ``action_url`` fails here, not at 10:00 on the day), and each
"events of the day" rule is planned against the catalogue (days without an event to announce,
texts that X would only take as a thread). Nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Newsletter, utcnow
from campaign.newsletters.checks import check_newsletter
from campaign.newsletters.preview import block_events, newsletter_context, select_events
from campaign.scheduling.calendar import Calendar, NewsletterEntry, problem_at, read_calendar
from campaign.scheduling.selection import fill_slots, rule_slots
from campaign.social.limits import account_limits


def transient_newsletter(entry: NewsletterEntry, list_ids: list[int] | None = None) -> Newsletter:
    """The newsletter an entry describes, not added to any session."""
    return Newsletter(
        title=entry.title,
        subject=entry.subject,
        preheader=entry.preheader,
        from_name=entry.from_name,
        from_address=entry.from_address,
        template=entry.template,
        list_ids=list(list_ids or []),
        segment=dict(entry.segment),
        event_rule=dict(entry.event_rule),
        content=dict(entry.content),
        blocks=[dict(block) for block in entry.blocks],
        anonymous_tracking=entry.anonymous_tracking,
        when_no_events=entry.when_no_events,
        no_events_text=entry.no_events_text,
        scheduled_at=entry.at,
    )


def _try_newsletters(session: Session, settings: Settings, calendar: Calendar) -> None:
    for entry in calendar.newsletters:
        newsletter = transient_newsletter(entry)
        try:
            # The events still to come when it goes out, as the send will take them.
            events = select_events(session, newsletter, settings, now=entry.at)
            blocks = block_events(session, newsletter, settings, now=entry.at)
            context = newsletter_context(newsletter, settings, events, blocks=blocks)
            issues = check_newsletter(entry.template, context, settings)
        except CampaignError as exc:
            problem_at(calendar, "error", "newsletter", entry.key, entry.line, str(exc))
            continue
        for issue in issues:
            problem_at(
                calendar,
                issue.level,
                "newsletter",
                entry.key,
                entry.line,
                f"as rendered today: {issue.message}",
            )


def _try_event_posts(session: Session, settings: Settings, calendar: Calendar) -> None:
    for rule in calendar.recurring:
        if rule.kind != "event-posts":
            continue
        try:
            slots = fill_slots(
                session, settings, rule, rule_slots(rule, calendar.stem, settings.zone), ()
            )
        except CampaignError as exc:
            problem_at(calendar, "error", "recurring", rule.key, rule.line, str(exc))
            continue
        empty = [slot for slot in slots if not slot.events]
        threads = [  # on any of the rule's accounts, as its network counts
            slot
            for slot in slots
            if len(slot.parts) > 1 or any(len(parts) > 1 for _text, parts in slot.others.values())
        ]
        if empty:
            first = ", ".join(f"{slot.local:%d/%m %H:%M}" for slot in empty[:5])
            more = "…" if len(empty) > 5 else ""
            problem_at(
                calendar,
                "warning",
                "recurring",
                rule.key,
                rule.line,
                f"{len(empty)} of {len(slots)} posts have no event left to announce with "
                f"today's catalogue ({first}{more}); they are not created (import the events, "
                "then sync again)",
            )
        if threads:
            problem_at(
                calendar,
                "warning",
                "recurring",
                rule.key,
                rule.line,
                f"{len(threads)} posts are too long for one post and will go out as threads "
                f"(first: {threads[0].local:%d/%m %H:%M}); shorten the template",
            )


def check_calendar(
    path: Path, settings: Settings, session: Session, *, now: datetime | None = None
) -> Calendar:
    """Read ``path`` and try its entries; problems are on the result, nothing is written."""
    calendar = read_calendar(
        path,
        settings,
        session=session,
        now=now or utcnow(),
        limits=account_limits(session, settings),  # each Mastodon instance's, once read
    )
    if calendar.source is not None:  # the file parsed: try what it declares
        _try_newsletters(session, settings, calendar)
        _try_event_posts(session, settings, calendar)
    calendar.problems.sort(key=lambda problem: (problem.line, problem.level))
    return calendar
