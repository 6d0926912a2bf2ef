"""What the subscribers' pages share: the admin guard, the consent log's method, a person
or 404 and their lists."""

from __future__ import annotations

from fastapi import Depends, HTTPException
from sqlmodel import Session

from campaign.audience import subscribers as audience
from campaign.dashboard import pagekit
from campaign.models import Subscriber

ADMIN = [Depends(pagekit.require_admin)]
METHOD = "admin"  # the consent log's method for what an admin does on the dashboard


def person_or_404(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.erased_at is not None or not subscriber.email:
        raise HTTPException(404)
    return subscriber


def list_memberships(session: Session, subscriber: Subscriber) -> list[dict[str, object]]:
    data = audience.describe_subscriber(session, subscriber.email or "")
    return [
        {"list": m["list"], "left": m["unsubscribed_at"] is not None} for m in data["memberships"]
    ]
