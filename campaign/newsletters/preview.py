"""What one subscriber would receive: events chosen by the newsletter's rule, checks, render.

Preview and test sends go through the same steps as the real sending will: the rule picks the
events (with "the subscriber's own region", each region is its own rendering), the checks of
:mod:`campaign.newsletters.checks` run on that rendering and stop on errors, then the compiled
newsletter is personalised for one recipient.

Links: the unsubscribe and "view in browser" URLs are built from ``[web] public_url`` with a
placeholder token (:data:`PLACEHOLDER_TOKEN`), and tracked links go straight to their target.
The tracking stage replaces :func:`recipient_for` with signed, per-delivery tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery, find_events
from campaign.mail.outbox import OutgoingMessage
from campaign.models import Event, Newsletter, Subscriber
from campaign.newsletters.checks import Issue, check_compiled, has_errors
from campaign.newsletters.records import SUBSCRIBER_REGION, iter_audience, stored_rule
from campaign.newsletters.render import (
    CompiledNewsletter,
    Recipient,
    RenderedMessage,
    render_group,
    sender_context,
)
from campaign.tracking.links import check_public_url

PLACEHOLDER_TOKEN = "apercu"
"""Stands for the recipient's signed token in links until the tracking stage issues real ones."""


def event_query(newsletter: Newsletter, settings: Any, region: str | None = None) -> EventQuery:
    """The catalogue query of the newsletter's rule; ``region`` fills "the subscriber's region".

    A subscriber with no region under that rule gets the events of every region (the national
    selection), still limited to the rule's maximum.
    """
    rule = stored_rule(newsletter.event_rule)
    zone = settings.zone
    start = datetime.combine(rule.date_from, time.min, tzinfo=zone) if rule.date_from else None
    end = (
        datetime.combine(rule.date_to + timedelta(days=1), time.min, tzinfo=zone)
        if rule.date_to
        else None
    )
    regions = list(rule.regions)
    if SUBSCRIBER_REGION in regions:
        regions = [region] if region else []
    return EventQuery(
        start=start,
        end=end,
        regions=regions,
        themes=list(rule.themes),
        types=list(rule.types),
        limit=rule.limit,
        order=rule.order,
    )


def per_region(newsletter: Newsletter) -> bool:
    """Whether each region gets its own rendering (rule "the subscriber's region")."""
    return SUBSCRIBER_REGION in (newsletter.event_rule.get("regions") or [])


def select_events(
    session: Session, newsletter: Newsletter, settings: Any, region: str | None = None
) -> list[Event]:
    return find_events(session, event_query(newsletter, settings, region))


def newsletter_context(
    newsletter: Newsletter, settings: Any, events: list[Event], region: str = ""
) -> dict[str, Any]:
    """What the templates see for one audience group."""
    sender = sender_context(settings)
    if newsletter.from_name:
        sender["name"] = newsletter.from_name
    context: dict[str, Any] = dict(newsletter.content or {})
    context.update(
        {
            "title": newsletter.title,
            "subject": newsletter.subject,
            "events": events,
            "region": region,
            "sender": sender,
        }
    )
    if newsletter.preheader:
        context["preview"] = newsletter.preheader
    return context


def compile_group(
    session: Session,
    newsletter: Newsletter,
    settings: Any,
    region: str = "",
    *,
    templates_dir: Path | str | None = None,
) -> tuple[CompiledNewsletter, list[Issue]]:
    """Render the group of ``region`` and check it; :class:`CampaignError` if a check fails."""
    events = select_events(
        session, newsletter, settings, region if per_region(newsletter) else None
    )
    group_region = region if per_region(newsletter) else ""
    context = newsletter_context(newsletter, settings, events, group_region)
    compiled = render_group(newsletter.template, context, settings, templates_dir=templates_dir)
    issues = check_compiled(compiled)
    if not events and _lists_events(newsletter):
        issues.append(
            Issue(
                "warning",
                f"{newsletter.template}: no event matches this newsletter's selection"
                f"{f' in {group_region}' if group_region else ''} (check the dates, regions, "
                "themes).",
            )
        )
    if has_errors(issues):
        lines = "\n".join(f"  {issue.level}: {issue.message}" for issue in issues)
        raise CampaignError(f"Newsletter {newsletter.id} cannot be sent as it is:\n{lines}")
    return compiled, issues


def _lists_events(newsletter: Newsletter) -> bool:
    rule = newsletter.event_rule or {}
    return bool(rule.get("from") or rule.get("to") or rule.get("regions") or rule.get("themes"))


def recipient_for(subscriber: Subscriber, settings: Any) -> Recipient:
    """The recipient with placeholder links (see the module docstring)."""
    base = settings.web.public_url
    return Recipient.from_subscriber(
        subscriber,
        unsubscribe_url=f"{base}/u/{PLACEHOLDER_TOKEN}",
        view_url=f"{base}/v/{PLACEHOLDER_TOKEN}",
    )


@dataclass
class Preview:
    subscriber: Subscriber
    message: RenderedMessage
    issues: list[Issue]
    compiled: CompiledNewsletter


def choose_subscriber(session: Session, newsletter: Newsletter, email: str | None) -> Subscriber:
    """The subscriber named by ``email`` (who must be in the audience), else the first one."""
    found = next(iter_audience(session, newsletter, email=email), None)
    if found is not None:
        return found
    if email:
        raise CampaignError(
            f"{email.strip()} is not in the audience of newsletter {newsletter.id} (not on its "
            "lists, not active, or outside its segment)."
        )
    raise CampaignError(
        f"Newsletter {newsletter.id} has nobody to preview for: its audience is empty "
        "(check its lists and segment, or give --as EMAIL)."
    )


def preview(
    session: Session,
    newsletter: Newsletter,
    settings: Any,
    email: str | None = None,
    *,
    templates_dir: Path | str | None = None,
) -> Preview:
    """What ``email`` (default: the first subscriber of the audience) would receive."""
    subscriber = choose_subscriber(session, newsletter, email)
    compiled, issues = compile_group(
        session, newsletter, settings, subscriber.region or "", templates_dir=templates_dir
    )
    message = compiled.personalise(recipient_for(subscriber, settings))
    return Preview(subscriber, message, issues, compiled)


def addressed_to(
    preview_: Preview, newsletter: Newsletter, settings: Any, addresses: list[str]
) -> list[OutgoingMessage]:
    """The preview addressed to each test address, subject prefixed with ``[TEST]``; refused
    over SMTP while its links could not be opened (see
    :func:`~campaign.tracking.links.check_public_url`)."""
    if not addresses:
        raise CampaignError("Give at least one address: --to ADDRESS.")
    check_public_url(settings, "A test message")
    message = preview_.message
    return [
        OutgoingMessage(
            from_address=newsletter.from_address or settings.mail.from_address,
            from_name=newsletter.from_name or settings.mail.from_name,
            reply_to=settings.mail.reply_to,
            to=address.strip(),
            subject=f"[TEST] {message.subject}",
            text=message.text,
            html=message.html,
        )
        for address in addresses
    ]
