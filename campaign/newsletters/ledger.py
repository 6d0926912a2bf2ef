"""The ledger of a send: each claimed row's reply written on its row, and the run's tally.

Replies are collected per batch and written in a few statements (one bulk ``UPDATE`` for the rows
sent with the same reply); a permanent bounce also turns the subscriber ``bounced``, with a line
in the consent log. See :mod:`.queue` for when they are committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlmodel import Session

from campaign.mail.outbox import SendResult
from campaign.messages import message
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from campaign.newsletters.claims import Claimed

if TYPE_CHECKING:
    from campaign.config import Settings

# Enhanced status codes of a permanent bounce: bad mailbox or domain (5.1.x), mailbox disabled.
_HARD_BOUNCE = re.compile(r"\b5\.(?:1\.\d{1,3}|2\.1)\b")


@dataclass
class SendSummary:
    newsletter_id: int
    sent: int = 0
    deferred: int = 0
    bounced: int = 0
    failed: int = 0
    left_out: int = 0  # not sent on purpose: no event for them and the newsletter skips them
    remaining: int = 0  # still pending, deferred or sending after the run
    waiting: int = 0  # deferred rows, tried again from next_attempt_at
    next_attempt_at: datetime | None = None  # the earliest of them
    status: str = ""  # the newsletter's status at the end
    stopped: str = ""  # why the run ended early, if it did
    bounced_subscribers: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.bounced + self.failed


def is_hard_bounce(reply: str) -> bool:
    """Whether a 5xx reply says the address does not exist (5.1.x) or is disabled (5.2.1)."""
    return bool(_HARD_BOUNCE.search(reply))


def retry_delay(attempts: int, settings: Settings) -> timedelta:
    """How long a message deferred ``attempts`` times waits before its next try."""
    minutes = list(settings.mail.retry_minutes) or [0]
    return timedelta(minutes=minutes[min(attempts, len(minutes)) - 1])


_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
_RECORD = (
    _DELIVERY.update()
    .where(_DELIVERY.c.id == bindparam("v_id"))
    .values(
        {
            name: bindparam(f"v_{name}")
            for name in (
                "status", "attempts", "last_reply", "updated_at", "sent_at", "next_attempt_at",
            )
        }
    )
)  # fmt: skip
# The rows sent with one reply: the statement the queue runs most (one per commit window), so it
# is built once and its compiled form cached, not rebuilt for each window.
_RECORD_SENT = (
    _DELIVERY.update()
    .where(_DELIVERY.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=DeliveryStatus.sent,
        attempts=_DELIVERY.c.attempts + 1,
        last_reply=bindparam("reply"),
        updated_at=bindparam("now"),
        sent_at=bindparam("now"),
        next_attempt_at=None,
    )
)


class Recorder:
    """Collects the outcome of each row of a batch and writes them in a few statements."""

    def __init__(
        self, settings: Settings, summary: SendSummary, session: Session, newsletter_id: int
    ) -> None:
        self.settings = settings
        self.summary = summary
        self.session = session
        self.newsletter_id = newsletter_id
        self.now = utcnow()
        self.changes: list[dict[str, Any]] = []
        self.hard_bounces: list[tuple[Claimed, str]] = []

    def result(self, row: Claimed, result: SendResult) -> None:
        attempts = row.attempts + 1
        reply = (result.error or (f"{result.code}" if result.code else ""))[:2000]
        change: dict[str, Any] = {
            "id": row.id,
            "attempts": attempts,
            "last_reply": reply,
            "updated_at": self.now,
            "sent_at": None,
            "next_attempt_at": None,
        }
        outcome = result.outcome
        summary = self.summary
        if outcome == "sent":
            change.update(status=DeliveryStatus.sent, sent_at=self.now)
            summary.sent += 1
        elif outcome == "deferred" and attempts < self.settings.mail.max_attempts:
            change.update(
                status=DeliveryStatus.deferred,
                next_attempt_at=self.now + retry_delay(attempts, self.settings),
            )
            summary.deferred += 1
        elif outcome == "bounced":
            change["status"] = DeliveryStatus.bounced
            summary.bounced += 1
            if is_hard_bounce(result.error) and row.subscriber_id is not None:
                self.hard_bounces.append((row, result.error))
        else:
            change["status"] = DeliveryStatus.failed
            summary.failed += 1
        self.changes.append(change)

    def left_out(self, row: Claimed) -> None:
        """A row not sent on purpose: the rule found no event for its group (skip)."""
        self.changes.append(
            {
                "id": row.id,
                "attempts": row.attempts,
                "last_reply": str(message("delivery.left_out")),  # stored as the CLI says it
                "updated_at": self.now,
                "sent_at": None,
                "next_attempt_at": None,
                "status": DeliveryStatus.left_out,
            }
        )
        self.summary.left_out += 1

    def release(self, row: Claimed) -> None:
        """A row claimed but not tried goes back to the queue, due at once."""
        self.changes.append(
            {
                "id": row.id,
                "attempts": row.attempts,
                "last_reply": "",
                "updated_at": self.now,
                "sent_at": None,
                "next_attempt_at": None,
                "status": DeliveryStatus.deferred if row.attempts else DeliveryStatus.pending,
            }
        )

    def commit(self) -> None:
        """Write what was collected and commit it."""
        self.write(self.session, self.newsletter_id)
        self.session.commit()
        self.now = utcnow()

    def write(self, session: Session, newsletter_id: int) -> None:
        # Rows sent with the same reply (nearly all of a batch) in one UPDATE; the others in
        # one executemany; both without the ORM's bookkeeping.
        sent: dict[str, list[int]] = {}
        others = []
        for change in self.changes:
            if change["status"] == DeliveryStatus.sent:
                sent.setdefault(change["last_reply"], []).append(change["id"])
            else:
                others.append({f"v_{key}": value for key, value in change.items()})
        connection = session.connection()  # Core statements compiled once (see _RECORD_SENT)
        for reply, ids in sent.items():
            connection.execute(_RECORD_SENT, {"ids": ids, "reply": reply, "now": self.now})
        if others:
            connection.execute(_RECORD, others)
        for row, reply in self.hard_bounces:
            assert row.subscriber_id is not None
            if _mark_bounced(session, row.subscriber_id, newsletter_id, row.id, reply):
                self.summary.bounced_subscribers.append(row.subscriber_id)
        self.changes = []
        self.hard_bounces = []


def _mark_bounced(
    session: Session, subscriber_id: int, newsletter_id: int, delivery_id: int, reply: str
) -> bool:
    """An active subscriber whose address is dead becomes ``bounced``, with a consent log line."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status != SubscriberStatus.active:
        return False
    now = utcnow()
    subscriber.status = SubscriberStatus.bounced
    subscriber.status_changed_at = now
    subscriber.updated_at = now
    session.add(subscriber)
    session.add(
        ConsentEvent(
            subscriber_id=subscriber_id,
            action=ConsentAction.bounced,
            method="bounce",
            source=f"newsletter {newsletter_id}, delivery {delivery_id}",
            actor="system:sending",
            detail=reply[:1000],
        )
    )
    return True
