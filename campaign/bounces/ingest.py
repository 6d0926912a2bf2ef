"""Applying a bounce or complaint notice to the delivery it is about, once.

Matching, most trustworthy first:

1. the **VERP token** of the address the notice was sent back to (``bounces+TOKEN@domain``):
   signed, it names the delivery and cannot be forged;
2. the original **Message-ID** quoted in the notice (for relays that rewrite the envelope
   sender): a signed token naming the delivery and its newsletter, so it cannot be guessed, and
   accepted only when the failed address is the delivery's own; complaint reports whose
   recipient was redacted by the provider are accepted on it alone.

Effects: a permanent failure (``Action: failed``, 5.x.x) marks the delivery ``bounced`` with the
diagnostic kept and, when the status blames the address rather than the message (see
:attr:`~campaign.bounces.notices.Failure.address_is_dead`), sets the subscriber ``bounced`` with
a consent log line (method ``bounce``). A transient one (``Action: delayed``, 4.x.x) is recorded
and changes nothing. A complaint sets the subscriber ``complained`` (never mailed again) with a
consent log line (method ``complaint``). Every notice is kept as :class:`~campaign.models.Bounce`
rows keyed by the notice's id and the address, so the same notice twice changes nothing.

A message delivered to the mailto address of List-Unsubscribe (``unsubscribe+TOKEN@domain``,
see :func:`~campaign.newsletters.queue.unsubscribe_address`), which reaches the same pipe or
maildir as bounces, is an unsubscribe request, not a notice: when its token verifies, the
person is unsubscribed by the very function of the one-click link (consent log method
``mailto``), and the request is kept as a ``Bounce`` row of kind ``unsubscribe`` so that the
same message twice changes nothing (a maildir run reads its old messages again). A forged or
missing token changes nothing and is reported as ignored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from campaign.audience.subscribers import change_status
from campaign.audience.subscriptions import unsubscribe_delivery
from campaign.bounces.notices import BounceNotice, Failure, read_notice
from campaign.models import (
    Bounce,
    BounceKind,
    ConsentAction,
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)
from campaign.tracking.tokens import BOUNCE, MESSAGE_ID, UNSUBSCRIBE_MAIL, Signer

if TYPE_CHECKING:
    from campaign.config import Settings

_OUR_ID = re.compile(r"^<([a-z2-7]+)@")
ACTOR = "system:bounces"
MAILTO = "mailto"  # the notice kind and consent method of a List-Unsubscribe mailto request


@dataclass
class FailureOutcome:
    email: str
    kind: str
    status: str
    diagnostic: str
    delivery_id: int | None = None
    matched_by: str = "none"
    changes: list[str] = field(default_factory=list)
    duplicate: bool = False


@dataclass
class IngestOutcome:
    """What one message was and what it changed."""

    source: str
    kind: str  # dsn, arf, heuristic, none, unreadable
    report_id: str
    subject: str = ""
    note: str = ""
    failures: list[FailureOutcome] = field(default_factory=list)

    @property
    def ignored(self) -> bool:
        return self.kind == "none" or not self.failures

    @property
    def unreadable(self) -> bool:
        return self.kind == BounceKind.unreadable

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "report_id": self.report_id,
            "subject": self.subject,
            "note": self.note,
            "failures": [failure.__dict__ for failure in self.failures],
        }


def _verp_deliveries(
    session: Session, notice: BounceNotice, signer: Signer, prefix: str
) -> list[Delivery]:
    pattern = re.compile(
        rf"^{re.escape(prefix)}\+([a-z2-7]+)@" if prefix else r"^[^+@]*\+([a-z2-7]+)@"
    )
    found: dict[int, Delivery] = {}
    for address in notice.addresses:
        match = pattern.match(address.lower())
        ids = signer.verify_address(match[1], BOUNCE, 1) if match else None
        if ids:
            delivery = session.get(Delivery, ids[0])
            if delivery is not None:
                found[ids[0]] = delivery
    return list(found.values())


def _by_message_id(
    session: Session, notice: BounceNotice, failure: Failure, signer: Signer
) -> Delivery | None:
    for message_id in notice.message_ids:
        match = _OUR_ID.match(message_id)
        ids = signer.verify_address(match[1], MESSAGE_ID, 2) if match else None
        if not ids:
            continue
        delivery = session.get(Delivery, ids[0])
        if delivery is None or delivery.newsletter_id != ids[1]:
            continue
        same_address = failure.email and failure.email == (delivery.email or "").lower()
        redacted_complaint = failure.kind == BounceKind.complaint and not failure.email
        if same_address or redacted_complaint:
            return delivery
    return None


def _match(
    verp: list[Delivery], session: Session, notice: BounceNotice, failure: Failure, signer: Signer
) -> tuple[Delivery | None, str]:
    if len(verp) == 1:
        return verp[0], "verp"
    for delivery in verp:  # a notice about several of our messages: the one for this address
        if failure.email and (delivery.email or "").lower() == failure.email:
            return delivery, "verp"
    found = _by_message_id(session, notice, failure, signer)
    return (found, "message-id") if found is not None else (None, "none")


def _apply(
    session: Session, failure: Failure, delivery: Delivery | None, notice: BounceNotice
) -> list[str]:
    changes: list[str] = []
    if delivery is None:
        return changes
    subscriber = session.get(Subscriber, delivery.subscriber_id) if delivery.subscriber_id else None
    source = f"report {notice.notice_id}"[:300]
    detail = " ".join(part for part in (failure.status, failure.diagnostic) if part)[:1000]
    if failure.kind == BounceKind.hard:
        if delivery.status != DeliveryStatus.bounced:
            delivery.status = DeliveryStatus.bounced
            delivery.last_reply = detail[:2000]
            delivery.next_attempt_at = None
            session.add(delivery)
            changes.append(f"delivery {delivery.id} bounced")
        if (
            subscriber is not None
            and failure.address_is_dead
            and subscriber.status in (SubscriberStatus.active, SubscriberStatus.pending)
            and change_status(
                session,
                subscriber,
                SubscriberStatus.bounced,
                ConsentAction.bounced,
                method="bounce",
                actor=ACTOR,
                source=source,
                detail=detail,
            )
        ):
            session.add(subscriber)
            changes.append(f"subscriber {subscriber.id} bounced")
    elif (
        failure.kind == BounceKind.complaint
        and subscriber is not None
        and change_status(
            session,
            subscriber,
            SubscriberStatus.complained,
            ConsentAction.complained,
            method="complaint",
            actor=ACTOR,
            source=source,
            detail=f"feedback-type {failure.action}",
        )
    ):
        session.add(subscriber)
        changes.append(f"subscriber {subscriber.id} complained (unsubscribed)")
    return changes


def ingest_notice(
    session: Session,
    data: bytes,
    signer: Signer,
    settings: Settings,
    *,
    source: str = "",
    extra_addresses: list[str] | None = None,
) -> IngestOutcome:
    """Read one message and apply it; commits nothing (the caller commits)."""
    notice = read_notice(data, extra_addresses=extra_addresses)
    outcome = IngestOutcome(
        source, notice.kind, notice.notice_id, subject=notice.subject, note=notice.note
    )
    if settings.mail.unsubscribe_prefix:
        deliveries = _mailto_request(notice, signer, settings.mail.unsubscribe_prefix)
        if deliveries == []:
            outcome.kind = "none"
            outcome.note = "unsubscribe request without a valid token (forged or altered)"
            return outcome
        if deliveries:
            return _ingest_mailto(session, notice, outcome, deliveries)
    if notice.kind == "none":
        return outcome
    verp = _verp_deliveries(session, notice, signer, settings.mail.return_path_prefix)
    for failure in notice.failures:
        delivery, matched_by = _match(verp, session, notice, failure, signer)
        address = (failure.email or (delivery.email if delivery else "") or "")[:320]
        result = FailureOutcome(
            address,
            failure.kind,
            failure.status,
            failure.diagnostic,
            delivery.id if delivery else None,
            matched_by,
        )
        outcome.failures.append(result)
        row = Bounce(
            report_id=notice.notice_id,
            email=address,
            delivery_id=delivery.id if delivery else None,
            subscriber_id=delivery.subscriber_id if delivery else None,
            kind=failure.kind,
            status=failure.status,
            action=failure.action,
            diagnostic=failure.diagnostic,
            matched_by=matched_by,
        )
        if not _record_once(session, row):
            result.duplicate = True
            continue
        result.changes = _apply(session, failure, delivery, notice)
    session.flush()
    return outcome


def _record_once(session: Session, row: Bounce) -> bool:
    """Add ``row`` unless its notice and address are recorded already; False if they were."""
    already = session.exec(
        select(Bounce.id).where(
            col(Bounce.report_id) == row.report_id, col(Bounce.email) == row.email
        )
    ).first()
    if already is not None:
        return False
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another process ingested the same notice just now
        return False
    return True


def _mailto_request(notice: BounceNotice, signer: Signer, prefix: str) -> list[int] | None:
    """The deliveries a message to ``prefix+TOKEN@…`` names by verified tokens; None when it
    was not sent to such an address (an empty list: sent to one, but no token verifies)."""
    pattern = re.compile(rf"^{re.escape(prefix.lower())}(?:\+([^@]*))?@")
    addressed = False
    found: list[int] = []
    for address in notice.recipients:
        match = pattern.match(address)
        if match is None:
            continue
        addressed = True
        ids = signer.verify_address(match[1] or "", UNSUBSCRIBE_MAIL, 1)
        if ids and ids[0] not in found:
            found.append(ids[0])
    return found if addressed else None


def _ingest_mailto(
    session: Session, notice: BounceNotice, outcome: IngestOutcome, deliveries: list[int]
) -> IngestOutcome:
    """Unsubscribe the person of each delivery named, as the one-click link does, once."""
    outcome.kind = MAILTO
    for delivery_id in deliveries:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:  # deleted since: nothing to act on
            continue
        address = (delivery.email or "").lower()[:320]
        result = FailureOutcome(
            address, BounceKind.unsubscribe, "", "", delivery_id, matched_by="token"
        )
        outcome.failures.append(result)
        row = Bounce(
            report_id=notice.notice_id,
            email=address,
            delivery_id=delivery_id,
            subscriber_id=delivery.subscriber_id,
            kind=BounceKind.unsubscribe,
            action=MAILTO,
            diagnostic=notice.subject,
            matched_by="token",
        )
        if not _record_once(session, row):
            result.duplicate = True
            continue
        subscriber = (
            session.get(Subscriber, delivery.subscriber_id) if delivery.subscriber_id else None
        )
        before = subscriber.status if subscriber is not None else None
        unsubscribe_delivery(
            session,
            delivery_id,
            detail=f"List-Unsubscribe mailto, message {notice.notice_id}"[:1000],
            method=MAILTO,
            commit=False,
        )
        if subscriber is not None and subscriber.status != before:
            result.changes.append(f"subscriber {subscriber.id} unsubscribed")
    if not outcome.failures:
        outcome.note = "unsubscribe request for a delivery that no longer exists"
    session.flush()
    return outcome


def _plain(text: str, limit: int) -> str:
    """Printable text only (no NUL, no control characters), at most ``limit`` characters."""
    return "".join(c if c.isprintable() else " " for c in text)[:limit]


def record_unreadable(
    session: Session, data: bytes, reason: str, *, source: str = ""
) -> IngestOutcome:
    """Keep a trace of a message that could not be read (it is set aside, not applied).

    Its row is keyed by a digest of its bytes, so the same message twice is kept once; its
    subject is kept with the reason so that an administrator can find it. Commits nothing.
    """
    report_id = "sha256:" + hashlib.sha256(data).hexdigest()
    head = data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    subject = re.search(rb"(?im)^subject:[ \t]*(.*)$", head)
    subject_text = _plain(subject[1].decode("utf-8", "replace").strip(), 200) if subject else ""
    outcome = IngestOutcome(source, BounceKind.unreadable, report_id, subject_text, reason)
    already = session.exec(select(Bounce.id).where(col(Bounce.report_id) == report_id)).first()
    if already is None:
        session.add(
            Bounce(
                report_id=report_id,
                email="",
                kind=BounceKind.unreadable,
                diagnostic=_plain(f"{reason}; subject: {subject_text}", 1000),
                matched_by="none",
            )
        )
        session.flush()
    return outcome
