"""Posts generated from events, given a new time: written again for it, or refused.

A post the planner, an "events of the day" rule or ``post create --template --event`` wrote
says when its events are as seen from its own time ("Aujourd'hui à 18h30", "Demain", "Jeudi 5
novembre"). Moved to another time (the dashboard calendar, ``reschedule_post``, ``post edit
--at``, a calendar sync or replay), it would lie. So it is written again from its template
and events for the new time, or the move is refused, the post keeping its time, when:

- one of its events is over by then (or no longer in the catalogue);
- its text is no longer exactly what was generated (``Post.generated_digest``): a person
  edited it, and their words are never replaced silently. They give the new text with the new
  time in the same step (the CLI's edit with both, or the text form of the post's page
  with its date), and their text goes out as written.

Posts a person wrote (no ``template``) move as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.events import when
from campaign.models import Event, Post

OVER = "over"
EDITED = "edited"
GONE = "gone"


def text_digest(text: str) -> str:
    """What ``Post.generated_digest`` holds: the SHA-256 of the text as generated."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_generated(post: Post) -> bool:
    return bool(post.template and post.event_ids)


def edited_by_hand(post: Post) -> bool:
    """Generated from events, and its text changed since (a digest is needed to tell)."""
    return is_generated(post) and text_digest(post.text) != post.generated_digest


class MoveRefused(CampaignError):
    """The post cannot say the truth at the new time; it keeps its old one.

    ``reason``: :data:`OVER` (``event`` is over at ``at``), :data:`GONE` (an event left the
    catalogue) or :data:`EDITED` (its text was edited by hand). The message is English, for
    the CLI; the dashboard says it in French from these fields.
    """

    def __init__(
        self,
        message: str,
        *,
        post_id: int | None,
        reason: str,
        at: datetime,
        event: Event | None = None,
        ends_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.post_id = post_id
        self.reason = reason
        self.at = at
        self.event_title = event.title if event is not None else ""
        self.ends_at = ends_at


@dataclass
class Rewritten:
    text: str
    parts: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return text_digest(self.text)


def _events(session: Session, post: Post) -> list[Event | None]:
    return [session.get(Event, event_id) for event_id in post.event_ids]


def over_problem(
    events: list[Event], at: datetime, settings: Settings
) -> tuple[Event, datetime] | None:
    """The first event already over at ``at``, with the instant it ended."""
    for event in events:
        if when.is_over(event, at, settings.zone):
            return event, when.deadline(event, settings.zone)
    return None


def over_message(label: str, event: Event, ends_at: datetime, settings: Settings) -> str:
    local = ends_at.astimezone(settings.zone)
    return (
        f"{label} announces event {event.source_id} ({event.title!r}), over by then (it ends "
        f"{local:%d/%m/%Y %H:%M} {local.tzname()}): it keeps its time; give it a time before "
        "then, or cancel it."
    )


def edited_message(label: str, post_id: int | None) -> str:
    return (
        f"{label} was generated from its event(s) and its text was edited by hand since, so it "
        "is not written again for the new time (its words may name the wrong day): it keeps its "
        "time; give its text for the new day together with the new time (post "
        f"{post_id}'s text and date in one change)."
    )


def rewrite_for(session: Session, settings: Settings, post: Post, at: datetime) -> Rewritten | None:
    """The post's text written again for ``at``; None when it is not generated from events or
    its time does not change. Raises :class:`MoveRefused` (nothing changed) when it cannot be."""
    if not is_generated(post) or post.scheduled_at == at:
        return None
    label = f"Post {post.id}"
    found = _events(session, post)
    if any(event is None for event in found):
        raise MoveRefused(
            f"{label} announces an event no longer in the catalogue: it keeps its time; edit "
            "its text, or cancel it.",
            post_id=post.id,
            reason=GONE,
            at=at,
        )
    events = [event for event in found if event is not None]
    over = over_problem(events, at, settings)
    if over is not None:
        event, ends_at = over
        raise MoveRefused(
            over_message(label, event, ends_at, settings),
            post_id=post.id,
            reason=OVER,
            at=at,
            event=event,
            ends_at=ends_at,
        )
    if edited_by_hand(post):
        raise MoveRefused(edited_message(label, post.id), post_id=post.id, reason=EDITED, at=at)
    return render_for(session, settings, post, events, at)


def render_for(
    session: Session, settings: Settings, post: Post, events: list[Event], at: datetime
) -> Rewritten:
    """The text of ``post``'s template for ``events`` at ``at``: posts of a calendar are filled
    as their "events of the day" rule fills them, the others as the post planner does."""
    from campaign.social.compose import event_post_text, rule_post_text
    from campaign.social.limits import account_limit
    from campaign.social.networks import network_of

    if post.schedule_key is not None:
        account = settings.social.accounts.get(post.account)
        handle = account.handle if account is not None else ""
        network = account.network if account is not None else "x"
        limit = account_limit(session, settings, post.account)  # its instance's, when known
        text, parts = rule_post_text(post.template, events, at, settings, handle, network, limit)
        return Rewritten(text, parts)
    composed = event_post_text(
        events[0], at, settings, template=post.template, network=network_of(settings, post.account)
    )
    return Rewritten(composed.text, [composed.text])
