"""Mailing lists ("Newsletter nationale", "Organisateurs", "Presse") and their counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from campaign.errors import CampaignError
from campaign.models import MailingList, Membership, Subscriber, SubscriberStatus


def find_list(session: Session, name: str) -> MailingList | None:
    return session.exec(select(MailingList).where(MailingList.name == name.strip())).first()


def require_list(session: Session, name: str) -> MailingList:
    found = find_list(session, name)
    if found is None:
        names = (
            ", ".join(session.exec(select(MailingList.name).order_by(MailingList.name))) or "none"
        )
        raise CampaignError(
            f"No list named {name!r} (existing lists: {names}). "
            f"Create it with: campaign lists create {name!r}"
        )
    return found


def create_list(session: Session, name: str, description: str = "") -> MailingList:
    name = name.strip()
    if not name:
        raise CampaignError("A list needs a name.")
    if find_list(session, name) is not None:
        raise CampaignError(f"A list named {name!r} already exists.")
    mailing_list = MailingList(name=name, description=description)
    session.add(mailing_list)
    session.flush()
    return mailing_list


def get_or_create_list(session: Session, name: str) -> MailingList:
    return find_list(session, name) or create_list(session, name)


def list_counts(session: Session) -> list[dict[str, Any]]:
    """Each list with its number of current members per subscriber status."""
    statuses = [status.value for status in SubscriberStatus]
    rows = session.exec(
        select(MailingList.id, Subscriber.status, func.count())
        .join(Membership, Membership.list_id == MailingList.id)
        .join(Subscriber, Subscriber.id == Membership.subscriber_id)
        .where(Membership.unsubscribed_at.is_(None), Subscriber.erased_at.is_(None))
        .group_by(MailingList.id, Subscriber.status)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for list_id, status, count in rows:
        counts.setdefault(list_id, {})[status] = count
    result = []
    for mailing_list in session.exec(select(MailingList).order_by(MailingList.name)):
        per_status = {status: counts.get(mailing_list.id, {}).get(status, 0) for status in statuses}
        result.append(
            {
                "name": mailing_list.name,
                "description": mailing_list.description,
                "total": sum(per_status.values()),
                **per_status,
            }
        )
    return result
