"""What one subscriber would receive: events chosen by the newsletter's rule, checks, render.

Preview and test sends go through the same steps as the real sending will: the rule picks the
events still to come at the moment of sending (for a preview, now: an event already over is
never featured, however late the letter goes out), with "the subscriber's own region" each
region is its own rendering, and a group the rule finds no event for gets what the newsletter
chose for it (``when_no_events``: every region's events, the nearest regions', a text of its
own, or no letter at all, see :func:`group_events`). The checks of
:mod:`campaign.newsletters.checks` run on that rendering and stop on errors, then the compiled
newsletter is personalised for one recipient.

Links: the unsubscribe and "view in browser" URLs are built from ``[web] public_url`` with a
placeholder token (:data:`PLACEHOLDER_TOKEN`), and tracked links go straight to their target.
The tracking stage replaces :func:`recipient_for` with signed, per-delivery tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from campaign.addresses import normalise_email
from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery, find_events
from campaign.mail.transport import OutgoingMessage
from campaign.messages import Message
from campaign.models import Event, Newsletter, Subscriber, WhenNoEvents, utcnow
from campaign.newsletters.blocks import block_rules
from campaign.newsletters.checks import Issue, check_compiled, has_errors
from campaign.newsletters.records import SUBSCRIBER_REGION, iter_audience, stored_rule
from campaign.newsletters.render import (
    CompiledNewsletter,
    Recipient,
    RenderedMessage,
    render_group,
    sender_context,
)
from campaign.sender import with_sender
from campaign.taxonomy import Taxonomy
from campaign.tracking.links import check_public_url

if TYPE_CHECKING:
    from campaign.config import MailSettings, Settings

PLACEHOLDER_TOKEN = "apercu"
"""Stands for the recipient's signed token in links until the tracking stage issues real ones."""


def event_query(
    newsletter: Newsletter,
    settings: Settings,
    region: str | None = None,
    *,
    now: datetime | None = None,
) -> EventQuery:
    """The catalogue query of the newsletter's rule; ``region`` fills "the subscriber's region".

    A subscriber with no region under that rule gets the events of every region (the national
    selection), still limited to the rule's maximum. Only events not over at ``now`` (the
    sending time; default: this moment) are taken.
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
        still_on_at=now or utcnow(),
    )


def per_region(newsletter: Newsletter) -> bool:
    """Whether each region gets its own rendering (rule "the subscriber's region", in the
    newsletter's own rule or in one of its events blocks)."""
    rules = [newsletter.event_rule or {}, *block_rules(newsletter.blocks or [])]
    return any(SUBSCRIBER_REGION in (rule.get("regions") or []) for rule in rules)


def block_events(
    session: Session,
    newsletter: Newsletter,
    settings: Settings,
    region: str = "",
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The newsletter's blocks for the group of ``region``, each events block with the events
    its own rule finds at ``now`` (its "subscriber's region" being the group's region)."""
    resolved = []
    for block in newsletter.blocks or []:
        if block.get("type") == "events":
            rule = Newsletter(title="", subject="", template="", event_rule=block.get("rule") or {})
            query = event_query(rule, settings, region or None, now=now)
            block = {**block, "events": find_events(session, query)}
        resolved.append(block)
    return resolved


def select_events(
    session: Session,
    newsletter: Newsletter,
    settings: Settings,
    region: str | None = None,
    *,
    now: datetime | None = None,
) -> list[Event]:
    return find_events(session, event_query(newsletter, settings, region, now=now))


@dataclass(frozen=True)
class GroupEvents:
    """The events one audience group is shown, and what stands in for the rule's when it found
    none (``fallback``: "" for the rule's own events, else the ``when_no_events`` choice that
    applied: national, nearest, text or skip)."""

    events: list[Event] = field(default_factory=list)
    fallback: str = ""

    @property
    def skipped(self) -> bool:
        """The group gets no letter at all."""
        return self.fallback == WhenNoEvents.skip


def group_events(
    session: Session,
    newsletter: Newsletter,
    settings: Settings,
    region: str = "",
    *,
    now: datetime | None = None,
) -> GroupEvents:
    """The events of the group of ``region`` at ``now``: the rule's, or, when it finds none,
    what the newsletter chose for readers without events.

    ``nearest`` walks the taxonomy's neighbours of the region, nearest first, up to the rule's
    maximum; a region without neighbours (overseas, unknown) or whose neighbours have none
    gets the national selection. ``national`` is the rule without its regions. When nothing
    is found anywhere the group's events section stays empty (the checks say so).
    """
    now = now or utcnow()
    regional = per_region(newsletter)
    query = event_query(newsletter, settings, region if regional else None, now=now)
    events = find_events(session, query)
    if events or not lists_events(newsletter):
        return GroupEvents(events)
    choice = newsletter.when_no_events or WhenNoEvents.national
    if choice in (WhenNoEvents.text, WhenNoEvents.skip):
        return GroupEvents([], choice)
    if choice == WhenNoEvents.nearest and regional and region:
        near = _nearest_events(session, query, Taxonomy.from_settings(settings).nearest(region))
        if near:
            return GroupEvents(near, WhenNoEvents.nearest)
    if query.regions:
        national = find_events(session, replace(query, regions=[]))
        if national:
            return GroupEvents(national, WhenNoEvents.national)
    return GroupEvents([])


def _nearest_events(session: Session, query: EventQuery, regions: tuple[str, ...]) -> list[Event]:
    found: list[Event] = []
    for region in regions:
        room = query.limit - len(found) if query.limit else None
        if room is not None and room <= 0:
            break
        found += find_events(session, replace(query, regions=[region], limit=room))
    return found


def newsletter_context(
    newsletter: Newsletter,
    settings: Settings,
    events: list[Event],
    region: str = "",
    fallback: str = "",
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What the templates see for one audience group.

    ``events_fallback`` tells the template the events are not the group's own ("national",
    "nearest") or that ``no_events_text`` stands in their place ("text"). ``blocks``: the
    body with each events block's events (:func:`block_events`); default: as stored.
    """
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
            "blocks": (newsletter.blocks or []) if blocks is None else blocks,
            "events_fallback": fallback,
            "no_events_text": newsletter.no_events_text if fallback == WhenNoEvents.text else "",
        }
    )
    if newsletter.preheader:
        context["preview"] = newsletter.preheader
    return context


def compile_group(
    session: Session,
    newsletter: Newsletter,
    settings: Settings,
    region: str = "",
    *,
    templates_dir: Path | str | None = None,
    now: datetime | None = None,
    selection: GroupEvents | None = None,
) -> tuple[CompiledNewsletter, list[Issue]]:
    """Render the group of ``region`` with its events at ``now`` (or ``selection``, already
    chosen) and check it; :class:`CampaignError` if a check fails."""
    settings = with_sender(session, settings)  # the footer names the identity in force
    if selection is None:
        selection = group_events(session, newsletter, settings, region, now=now)
    events = selection.events
    group_region = region if per_region(newsletter) else ""
    blocks = block_events(session, newsletter, settings, group_region, now=now)
    context = newsletter_context(
        newsletter, settings, events, group_region, selection.fallback, blocks
    )
    compiled = render_group(newsletter.template, context, settings, templates_dir=templates_dir)
    issues = check_compiled(compiled)
    if selection.skipped:
        issues.append(
            Issue("warning", Message("check.readers_left_out", "events", {"region": group_region}))
        )
    elif not events and lists_events(newsletter) and not selection.fallback:
        issues.append(
            Issue(
                "warning",
                Message(
                    "check.no_event_to_come",
                    "events",
                    {"template": newsletter.template, "region": group_region},
                ),
            )
        )
    if has_errors(issues):
        raise CampaignError.of(
            "newsletter.checks_failed",
            id=newsletter.id,
            problems=[(issue.level, issue.message) for issue in issues],
        )
    return compiled, issues


def lists_events(newsletter: Newsletter) -> bool:
    """Whether the newsletter features events (its rule names days, regions or themes)."""
    rule = newsletter.event_rule or {}
    return bool(rule.get("from") or rule.get("to") or rule.get("regions") or rule.get("themes"))


def recipient_for(subscriber: Subscriber, settings: Settings) -> Recipient:
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
    mail: MailSettings | None = None  # the [mail] settings with the sender identity in force


def choose_subscriber(session: Session, newsletter: Newsletter, email: str | None) -> Subscriber:
    """The subscriber named by ``email`` (who must be in the audience), else the first one."""
    found = next(iter_audience(session, newsletter, email=email), None)
    if found is not None:
        return found
    if email:
        raise CampaignError.of(
            "preview.not_in_audience", "as_email", email=email.strip(), id=newsletter.id
        )
    raise CampaignError.of("preview.nobody", id=newsletter.id)


def preview(
    session: Session,
    newsletter: Newsletter,
    settings: Settings,
    email: str | None = None,
    *,
    templates_dir: Path | str | None = None,
    now: datetime | None = None,
) -> Preview:
    """What ``email`` (default: the first subscriber of the audience) would receive if the
    newsletter went out at ``now`` (default: this moment)."""
    settings = with_sender(session, settings)
    subscriber = choose_subscriber(session, newsletter, email)
    compiled, issues = compile_group(
        session,
        newsletter,
        settings,
        subscriber.region or "",
        templates_dir=templates_dir,
        now=now,
    )
    message = compiled.personalise(recipient_for(subscriber, settings))
    return Preview(subscriber, message, issues, compiled, settings.mail)


def addressed_to(
    preview_: Preview, newsletter: Newsletter, settings: Settings, addresses: list[str]
) -> list[OutgoingMessage]:
    """The preview addressed to each test address, subject prefixed with ``[TEST]``; refused
    over SMTP while its links could not be opened (see
    :func:`~campaign.tracking.links.check_public_url`)."""
    if not addresses:
        raise CampaignError.of("preview.no_test_address", "to")
    for address in addresses:  # a typo (no dot in the domain) is said, not sent to a relay
        normalise_email(address)
    check_public_url(settings, "A test message")
    message = preview_.message
    mail = preview_.mail or settings.mail
    return [
        OutgoingMessage(
            from_address=newsletter.from_address or mail.from_address,
            from_name=newsletter.from_name or mail.from_name,
            reply_to=mail.reply_to,
            to=address.strip(),
            subject=f"[TEST] {message.subject}",
            text=message.text,
            html=message.html,
        )
        for address in addresses
    ]
