"""A subscriber's record and consent log: what every change to a person is made of.

Finding a person by address, cleaning their profile, joining them to a list and changing their
status each write the consent log line that proves what happened, by whom and why; the rest of
:mod:`campaign.audience` builds on these.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, select

from campaign.addresses import normalise_email
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

PROFILE_FIELDS = ("first_name", "last_name", "organisation", "region", "postcode", "language")
PROFILE_LIMITS = {
    "first_name": 200,
    "last_name": 200,
    "organisation": 300,
    "region": 100,
    "postcode": 20,
    "language": 10,
}
# Consent-log methods of what an administrator does; any other unsubscription (a link, a form,
# a mail client's List-Unsubscribe) was the person's own, and only their new consent undoes it.
ADMIN_METHODS = frozenset({"manual", "admin"})
# Characters no form or spreadsheet means (PostgreSQL refuses NUL); tabs and breaks are kept.
_CONTROL = {chr(code) for code in range(32) if chr(code) not in "\t\n\r"} | {"\x7f"}


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    return session.exec(
        select(Subscriber).where(Subscriber.email == normalise_email(email))
    ).first()


def require_subscriber(session: Session, email: str) -> Subscriber:
    found = find_subscriber(session, email)
    if found is None:
        raise CampaignError(f"No subscriber with the address {email.strip()!r}.")
    return found


def log_consent(
    session: Session,
    subscriber: Subscriber,
    action: ConsentAction,
    *,
    method: str,
    actor: str,
    source: str = "",
    detail: str = "",
    mailing_list: MailingList | None = None,
) -> None:
    assert subscriber.id is not None  # saved (flushed) before its consent is logged
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id,
            list_id=mailing_list.id if mailing_list else None,
            action=action,
            method=method,
            actor=actor,
            source=source,
            detail=detail,
        )
    )


def join_list(
    session: Session,
    subscriber: Subscriber,
    mailing_list: MailingList,
    *,
    method: str,
    actor: str,
    source: str = "",
) -> bool:
    """Put the subscriber on the list; True if that changed anything.

    Someone who left this list is not put back by an import or an admin: only by themselves.
    """
    membership = session.exec(
        select(Membership).where(
            Membership.subscriber_id == subscriber.id, Membership.list_id == mailing_list.id
        )
    ).first()
    if membership is not None:
        return False
    assert subscriber.id is not None and mailing_list.id is not None  # both saved rows
    session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    log_consent(
        session,
        subscriber,
        ConsentAction.subscribed,
        method=method,
        actor=actor,
        source=source,
        mailing_list=mailing_list,
    )
    return True


def clean_profile(profile: Mapping[str, str | None]) -> dict[str, str]:
    """Profile fields as stored: trimmed, known, within their column's size, no control
    character."""
    cleaned = {key: value.strip() for key, value in profile.items() if value is not None}
    unknown = set(cleaned) - set(PROFILE_FIELDS)
    if unknown:
        raise CampaignError(f"Unknown subscriber field(s): {', '.join(sorted(unknown))}.")
    for key, value in cleaned.items():
        if len(value) > PROFILE_LIMITS[key]:
            raise CampaignError(f"{key} has at most {PROFILE_LIMITS[key]} characters.")
        if any(char in _CONTROL for char in value):
            raise CampaignError(f"{key} holds a control character: remove it.")
    return cleaned


def change_status(
    session: Session,
    subscriber: Subscriber,
    status: SubscriberStatus,
    action: ConsentAction,
    *,
    method: str,
    actor: str,
    source: str = "",
    detail: str = "",
    mailing_list: MailingList | None = None,
) -> bool:
    """Set a new status and log why (for ``mailing_list``, when one is the reason); True if it
    changed."""
    if subscriber.status == status:
        return False
    subscriber.status = status
    subscriber.status_changed_at = subscriber.updated_at = utcnow()
    log_consent(
        session,
        subscriber,
        action,
        method=method,
        actor=actor,
        source=source,
        detail=detail,
        mailing_list=mailing_list,
    )
    return True
