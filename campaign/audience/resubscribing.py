"""Undoing an unsubscription: who may be made active again, by whom, and with what proof.

Nothing silently turns someone who unsubscribed, bounced or complained back into an active
subscriber: an administrator may, through :func:`resubscribe`, only when told that the person
gave their consent again (when they had unsubscribed themselves) and forced for an address that
bounced or complained. :func:`resubscription` tells the doors which question to ask first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from campaign.audience.consent import ADMIN_METHODS, change_status, log_consent, require_subscriber
from campaign.audience.lists import require_list
from campaign.errors import CampaignError
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    SubscriberStatus,
    utcnow,
)


@dataclass
class Resubscription:
    """What undoing an unsubscription would be, for the doors to ask the right question.

    ``undo``: False when there is nothing to undo (an active member). ``blocked``: the status
    (bounced, complained) that only a forced resubscription overrides. ``pending``: waiting for
    the person's own confirmation, which nobody else may give. ``self_at``: when the person
    unsubscribed themselves (a link, a form): only their new consent allows undoing it.
    """

    email: str
    list_name: str | None
    undo: bool
    blocked: str = ""
    pending: bool = False
    self_at: datetime | None = None
    self_method: str = ""


FORCE_NEEDED = "force"  # bounced or complained: only when forced
CONSENT_NEEDED = "consent"  # unsubscribed themselves: only with their new consent, said so


class ResubscribeRefused(CampaignError):
    """A resubscription refused until the person doing it forces it or vouches for consent;
    ``reason`` (FORCE_NEEDED or CONSENT_NEEDED) lets each door say how, in its own words."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def membership_of(
    session: Session, subscriber: Subscriber, mailing_list: MailingList
) -> Membership | None:
    """The person's membership row of a list (current or left), or None."""
    return session.exec(
        select(Membership).where(
            Membership.subscriber_id == subscriber.id, Membership.list_id == mailing_list.id
        )
    ).first()


def _last_unsubscription(
    session: Session, subscriber: Subscriber, mailing_list: MailingList | None
) -> ConsentEvent | None:
    query = select(ConsentEvent).where(
        ConsentEvent.subscriber_id == subscriber.id,
        ConsentEvent.action == ConsentAction.unsubscribed,
    )
    if mailing_list is None:
        query = query.where(col(ConsentEvent.list_id).is_(None))
    else:
        query = query.where(ConsentEvent.list_id == mailing_list.id)
    return session.exec(
        query.order_by(col(ConsentEvent.at).desc(), col(ConsentEvent.id).desc())
    ).first()


def resubscription(
    session: Session, subscriber: Subscriber, list_name: str | None = None
) -> Resubscription:
    """What :func:`resubscribe` would do for this person (and list), and what it needs."""
    blocked = (
        subscriber.status
        if subscriber.status in (SubscriberStatus.bounced, SubscriberStatus.complained)
        else ""
    )
    found = Resubscription(
        email=subscriber.email or "", list_name=None, undo=False, blocked=blocked
    )
    if list_name is None:
        found.pending = subscriber.status == SubscriberStatus.pending
        found.undo = subscriber.status != SubscriberStatus.active and not found.pending
        mailing_list = None
    else:
        mailing_list = require_list(session, list_name)
        found.list_name = mailing_list.name
        membership = membership_of(session, subscriber, mailing_list)
        found.undo = membership is None or membership.unsubscribed_at is not None
    if found.undo and (list_name is not None or subscriber.status == SubscriberStatus.unsubscribed):
        last = _last_unsubscription(session, subscriber, mailing_list)
        if last is not None and last.method not in ADMIN_METHODS:
            found.self_at, found.self_method = last.at, last.method
    return found


def resubscribe(
    session: Session,
    email: str,
    *,
    actor: str,
    method: str = "manual",
    list_name: str | None = None,
    consent: bool = False,
    force: bool = False,
    source: str = "",
) -> bool:
    """Make an unsubscribed person active again (``list_name``: put them back on that list).
    True if anything changed.

    Refused for someone who unsubscribed themselves unless ``consent`` (the administrator
    states that the person asked again: RGPD allows it only then), for a bounced or
    complained address unless ``force``, and for someone waiting to confirm their address.
    """
    subscriber = require_subscriber(session, email)
    check = resubscription(session, subscriber, list_name)
    if not _allowed(check, consent=consent, force=force):
        return False
    detail = "; ".join(
        part
        for part in (
            f"forced over status {check.blocked}" if check.blocked else "",
            "with the person's new consent" if check.self_at is not None else "",
        )
        if part
    )
    if list_name is None or check.blocked:
        change_status(
            session,
            subscriber,
            SubscriberStatus.active,
            ConsentAction.resubscribed,
            method=method,
            actor=actor,
            source=source,
            detail=detail,
        )
    if list_name is not None:
        _rejoin(
            session,
            subscriber,
            require_list(session, list_name),
            method=method,
            actor=actor,
            source=source,
            detail=detail,
        )
    session.add(subscriber)
    session.flush()
    return True


def _allowed(check: Resubscription, *, consent: bool, force: bool) -> bool:
    """Whether there is anything to undo; raises when it may not be undone as asked."""
    if check.pending:
        raise CampaignError(
            f"{check.email} has not confirmed their address yet: only their confirmation "
            "makes them active."
        )
    if not check.undo:
        return False
    if check.blocked and not force:
        why = (
            "bounced (the address does not exist or refuses mail)"
            if (check.blocked == SubscriberStatus.bounced)
            else "complained (marked a newsletter as spam)"
        )
        raise ResubscribeRefused(
            f"{check.email} {why}: not resubscribed. Force it only if you know the address "
            "works again and the person wants the newsletters.",
            reason=FORCE_NEEDED,
        )
    if check.self_at is not None and not consent:
        raise ResubscribeRefused(
            f"{check.email} unsubscribed themselves on {check.self_at:%Y-%m-%d} "
            f"({check.self_method}): resubscribe them only with their new consent, and say "
            "that they gave it.",
            reason=CONSENT_NEEDED,
        )
    return True


def _rejoin(
    session: Session,
    subscriber: Subscriber,
    mailing_list: MailingList,
    *,
    method: str,
    actor: str,
    source: str,
    detail: str,
) -> None:
    """Put the person back on the list (their membership row reused) and log it."""
    membership = membership_of(session, subscriber, mailing_list)
    if membership is None:
        assert subscriber.id is not None and mailing_list.id is not None  # both saved rows
        membership = Membership(subscriber_id=subscriber.id, list_id=mailing_list.id)
    membership.unsubscribed_at = None
    membership.subscribed_at = utcnow()
    session.add(membership)
    log_consent(
        session,
        subscriber,
        ConsentAction.resubscribed,
        method=method,
        actor=actor,
        source=source,
        detail=detail,
        mailing_list=mailing_list,
    )
