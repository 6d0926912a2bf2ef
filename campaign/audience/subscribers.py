"""Subscribers: add, find, list, unsubscribe, export, and what RGPD asks for (show, erase).

Every change of status writes a line in the consent log, and nothing here ever turns someone who
unsubscribed, bounced or complained back into an active subscriber: only that person's own
confirmed request may (the subscribe form of the tracking stage).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from campaign.audience.emails import normalise_email
from campaign.audience.lists import get_or_create_list, require_list
from campaign.cells import csv_writer
from campaign.errors import CampaignError
from campaign.files import open_private
from campaign.models import (
    SUPPRESSED,
    Bounce,
    ConsentAction,
    ConsentEvent,
    Delivery,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
    SubscriberStatus,
    utcnow,
)

PROFILE_FIELDS = ("first_name", "last_name", "organisation", "region", "postcode", "language")
EXPORT_COLUMNS = (
    "email",
    *PROFILE_FIELDS,
    "status",
    "lists",
    "source",
    "created_at",
    "updated_at",
)


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


def add_subscriber(
    session: Session,
    email: str,
    *,
    list_names: Iterable[str] = (),
    profile: dict[str, str] | None = None,
    status: SubscriberStatus = SubscriberStatus.active,
    actor: str,
    method: str = "manual",
    source: str = "",
) -> tuple[Subscriber, str]:
    """Add or update one person. Returns the subscriber and "added", "updated" or "unchanged"."""
    address = normalise_email(email)
    profile = {key: value.strip() for key, value in (profile or {}).items() if value is not None}
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise CampaignError(f"Unknown subscriber field(s): {', '.join(sorted(unknown))}.")
    subscriber = session.exec(select(Subscriber).where(Subscriber.email == address)).first()
    outcome = "unchanged"
    if subscriber is None:
        subscriber = Subscriber(email=address, status=status, source=source or method, **profile)
        session.add(subscriber)
        session.flush()
        log_consent(
            session, subscriber, ConsentAction.subscribed, method=method, actor=actor, source=source
        )
        outcome = "added"
    else:
        changed = {k: v for k, v in profile.items() if v and getattr(subscriber, k) != v}
        for key, value in changed.items():
            setattr(subscriber, key, value)
        if changed:
            subscriber.updated_at = utcnow()
            outcome = "updated"
    for name in list_names:
        mailing_list = get_or_create_list(session, name)
        if join_list(session, subscriber, mailing_list, method=method, actor=actor, source=source):
            outcome = "updated" if outcome == "unchanged" else outcome
    session.flush()
    return subscriber, outcome


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


def unsubscribe(
    session: Session,
    email: str,
    *,
    actor: str,
    method: str = "manual",
    list_name: str | None = None,
    source: str = "",
) -> bool:
    """Unsubscribe from everything, or only from one list. True if anything changed."""
    subscriber = require_subscriber(session, email)
    if list_name is None:
        return change_status(
            session,
            subscriber,
            SubscriberStatus.unsubscribed,
            ConsentAction.unsubscribed,
            method=method,
            actor=actor,
            source=source,
        )
    mailing_list = require_list(session, list_name)
    membership = session.exec(
        select(Membership).where(
            Membership.subscriber_id == subscriber.id, Membership.list_id == mailing_list.id
        )
    ).first()
    if membership is None or membership.unsubscribed_at is not None:
        return False
    membership.unsubscribed_at = utcnow()
    log_consent(
        session,
        subscriber,
        ConsentAction.unsubscribed,
        method=method,
        actor=actor,
        source=source,
        mailing_list=mailing_list,
    )
    return True


def _list_names(session: Session, subscriber_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for start in range(0, len(subscriber_ids), 900):  # stay under SQLite's parameter limit
        chunk = subscriber_ids[start : start + 900]
        rows = session.exec(
            select(Membership.subscriber_id, MailingList.name)
            .join(MailingList, MailingList.id == Membership.list_id)
            .where(Membership.subscriber_id.in_(chunk), Membership.unsubscribed_at.is_(None))
            .order_by(MailingList.name)
        )
        for subscriber_id, name in rows:
            names.setdefault(subscriber_id, []).append(name)
    return names


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def subscriber_json(subscriber: Subscriber, lists: list[str]) -> dict[str, Any]:
    """The stable JSON shape of a subscriber (``subscribers list --json``)."""
    return {
        "email": subscriber.email,
        **{key: getattr(subscriber, key) for key in PROFILE_FIELDS},
        "status": subscriber.status,
        "lists": lists,
        "attributes": subscriber.attributes,
        "source": subscriber.source,
        "created_at": _iso(subscriber.created_at),
        "updated_at": _iso(subscriber.updated_at),
    }


def iter_subscribers(
    session: Session,
    *,
    status: SubscriberStatus | None = None,
    list_name: str | None = None,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Subscribers as JSON-ready dicts, oldest first, read in batches (exports of any size)."""
    query = select(Subscriber).where(Subscriber.erased_at.is_(None)).order_by(Subscriber.id)
    if status is not None:
        query = query.where(Subscriber.status == status)
    if list_name is not None:
        mailing_list = require_list(session, list_name)
        query = query.join(Membership, Membership.subscriber_id == Subscriber.id).where(
            Membership.list_id == mailing_list.id, Membership.unsubscribed_at.is_(None)
        )
    last_id = 0
    while True:
        page = session.exec(query.where(Subscriber.id > last_id).limit(batch)).all()
        if not page:
            return
        names = _list_names(session, [s.id for s in page])
        for subscriber in page:
            yield subscriber_json(subscriber, names.get(subscriber.id, []))
        last_id = page[-1].id


def export_subscribers(
    session: Session,
    path: Path,
    *,
    status: SubscriberStatus | None = None,
    list_name: str | None = None,
    delimiter: str = ";",
) -> int:
    """Write a CSV that French Excel opens as it is (UTF-8 with BOM, ';'). Returns the rows.

    The file is owner-only, and text that Excel would run as a formula (a first name typed in
    the public form as ``=HYPERLINK(…)``) starts with ``'`` (:mod:`campaign.cells`).
    """
    count = 0
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv_writer(handle, delimiter=delimiter)
        writer.writerow(EXPORT_COLUMNS)
        for row in iter_subscribers(session, status=status, list_name=list_name):
            row["lists"] = ", ".join(row["lists"])
            writer.writerow([row[column] or "" for column in EXPORT_COLUMNS])
            count += 1
    return count


def describe_subscriber(session: Session, email: str) -> dict[str, Any]:
    """Everything held about one person (RGPD right of access)."""
    subscriber = require_subscriber(session, email)
    memberships = session.exec(
        select(Membership, MailingList)
        .join(MailingList, MailingList.id == Membership.list_id)
        .where(Membership.subscriber_id == subscriber.id)
        .order_by(MailingList.name)
    ).all()
    consent = session.exec(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    ).all()
    deliveries = session.exec(
        select(Delivery, Newsletter)
        .join(Newsletter, Newsletter.id == Delivery.newsletter_id)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Delivery.created_at, Delivery.id)
    ).all()
    list_names = {m.id: ml.name for m, ml in memberships}
    current = [ml.name for m, ml in memberships if m.unsubscribed_at is None]
    return {
        **subscriber_json(subscriber, current),
        "status_changed_at": _iso(subscriber.status_changed_at),
        "memberships": [
            {
                "list": ml.name,
                "subscribed_at": _iso(m.subscribed_at),
                "unsubscribed_at": _iso(m.unsubscribed_at),
            }
            for m, ml in memberships
        ],
        "consent_log": [
            {
                "at": _iso(event.at),
                "action": event.action,
                "method": event.method,
                "source": event.source,
                "actor": event.actor,
                "list": list_names.get(event.list_id) if event.list_id else None,
                "detail": event.detail,
            }
            for event in consent
        ],
        "deliveries": [
            {
                "newsletter": newsletter.title,
                "newsletter_id": newsletter.id,
                "address": delivery.email,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "last_reply": delivery.last_reply,
                "sent_at": _iso(delivery.sent_at),
            }
            for delivery, newsletter in deliveries
        ],
    }


def erase_subscriber(session: Session, email: str, *, actor: str) -> None:
    """Delete a person's personal data (RGPD right to erasure) and keep the anonymous counts.

    The row stays, stripped of every personal field, so that list sizes over time, per-region
    counts and past newsletter figures do not change; it no longer counts as a member of any
    list and can never be mailed (it has no address). Its consent log keeps the dates and
    actions (no personal data) and ends with an "erased" line; its deliveries keep their status
    but lose the address and the server's reply (which often quotes the address).
    """
    subscriber = require_subscriber(session, email)
    address = subscriber.email
    subscriber.email = None
    subscriber.first_name = subscriber.last_name = subscriber.organisation = ""
    subscriber.postcode = ""
    subscriber.attributes = {}
    if subscriber.status not in SUPPRESSED:
        subscriber.status = SubscriberStatus.unsubscribed
        subscriber.status_changed_at = utcnow()
    subscriber.erased_at = subscriber.updated_at = utcnow()
    for event in session.exec(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
    ):
        event.detail = ""
    # Deliveries keep their status (the newsletter's figures) but not the address.
    session.exec(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id)
        .values(email="", last_reply="")
    )
    # Bounce and complaint reports about them keep their kind and date, not the address.
    session.exec(
        update(Bounce)
        .where(or_(col(Bounce.subscriber_id) == subscriber.id, col(Bounce.email) == address))
        .values(email="", diagnostic="")
    )
    log_consent(session, subscriber, ConsentAction.erased, method="manual", actor=actor)
    session.flush()
