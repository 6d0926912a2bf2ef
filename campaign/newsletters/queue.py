"""Sending a newsletter through the delivery queue (DESIGN.md, "Delivery queue").

:func:`snapshot` writes one ``pending`` delivery row per member of the audience; from then on the
rows, not the audience, say who still has to be mailed. :func:`send_newsletter` claims rows in
batches, personalises the newsletter compiled once per audience group (never per recipient),
hands the batch to the transport and records each reply on its row, committing after every batch:
a crash, a pause or a transport that gives up leaves the queue resumable by running it again.

Claiming is safe with several senders: PostgreSQL takes rows with ``FOR UPDATE SKIP LOCKED``;
SQLite, which serialises writers, with an ``UPDATE … WHERE status = <the status it had>`` per row.
A claimed row is ``sending`` until its reply is recorded; rows left ``sending`` by a crash are
taken again after ``stale_after`` (those few may be mailed twice, the price of not losing them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, update
from sqlmodel import Session, col, select

from campaign.errors import CampaignError
from campaign.mail.outbox import OutgoingMessage, SendResult, Transport, TransportError
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    Newsletter,
    NewsletterStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from campaign.newsletters.preview import compile_group, per_region
from campaign.newsletters.records import get_newsletter, iter_audience
from campaign.newsletters.render import CompiledNewsletter
from campaign.tracking.links import TrackedLinks, register_links
from campaign.tracking.tokens import Signer, signer_for

BATCH_SIZE = 100
MAX_ATTEMPTS = 5
"""A message still deferred after this many tries is marked failed."""
STALE_AFTER = timedelta(minutes=15)

# Enhanced status codes of a permanent bounce: bad mailbox or domain (5.1.x), mailbox disabled.
_HARD_BOUNCE = re.compile(r"\b5\.(?:1\.\d{1,3}|2\.1)\b")

Progress = Callable[[int, int], None]
"""Called after each batch with (rows handled in this run, rows to send when it started)."""


@dataclass
class SendSummary:
    newsletter_id: int
    sent: int = 0
    deferred: int = 0
    bounced: int = 0
    failed: int = 0
    remaining: int = 0  # still pending or deferred after the run
    status: str = ""  # the newsletter's status at the end
    stopped: str = ""  # why the run ended early, if it did
    bounced_subscribers: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.bounced + self.failed


def is_hard_bounce(reply: str) -> bool:
    """Whether a 5xx reply says the address does not exist (5.1.x) or is disabled (5.2.1)."""
    return bool(_HARD_BOUNCE.search(reply))


def message_id(delivery_id: int, newsletter_id: int, domain: str) -> str:
    """The Message-ID of a delivery: replies and bounces quoting it name the row."""
    return f"<d{delivery_id}.n{newsletter_id}@{domain}>"


# --- snapshot and status changes ----------------------------------------------------------------


def snapshot(session: Session, newsletter: Newsletter) -> int:
    """One pending delivery per audience member not queued yet; the number added.

    A draft or scheduled newsletter becomes ``sending``. A newsletter already sending is not
    snapshotted again (its audience was fixed when sending began), a sent one adds nobody; a
    paused or cancelled one is refused with the command to use instead.
    """
    if newsletter.status == NewsletterStatus.paused:
        raise CampaignError(
            f"Newsletter {newsletter.id} is paused; `campaign newsletter resume {newsletter.id}` "
            "carries on sending."
        )
    if newsletter.status == NewsletterStatus.cancelled:
        raise CampaignError(f"Newsletter {newsletter.id} was cancelled; it cannot be sent.")
    if newsletter.status in (NewsletterStatus.sending, NewsletterStatus.sent):
        return 0
    assert newsletter.id is not None
    queued = set(
        session.exec(
            select(Delivery.subscriber_id).where(Delivery.newsletter_id == newsletter.id)
        ).all()
    )
    regional = per_region(newsletter)
    added = 0
    for subscriber in iter_audience(session, newsletter):
        if subscriber.id in queued or not subscriber.email:
            continue
        session.add(
            Delivery(
                newsletter_id=newsletter.id,
                subscriber_id=subscriber.id,
                email=subscriber.email,
                group_key=(subscriber.region or "") if regional else "",
            )
        )
        added += 1
    newsletter.status = NewsletterStatus.sending
    newsletter.sent_at = newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return added


def _change_status(
    session: Session, newsletter_id: int, allowed: Sequence[str], new: str, verb: str
) -> Newsletter:
    newsletter = get_newsletter(session, newsletter_id)
    if newsletter.status not in allowed:
        raise CampaignError(
            f"Newsletter {newsletter_id} is {newsletter.status}; only a "
            f"{' or '.join(allowed)} newsletter can be {verb}."
        )
    newsletter.status = new
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


def pause(session: Session, newsletter_id: int) -> Newsletter:
    """Stop sending after the current batch; :func:`resume` carries on."""
    return _change_status(
        session, newsletter_id, (NewsletterStatus.sending,), NewsletterStatus.paused, "paused"
    )


def resume(session: Session, newsletter_id: int) -> Newsletter:
    """A paused newsletter is sending again (run :func:`send_newsletter` to send the rest)."""
    return _change_status(
        session, newsletter_id, (NewsletterStatus.paused,), NewsletterStatus.sending, "resumed"
    )


def cancel(session: Session, newsletter_id: int) -> Newsletter:
    """Nothing more will be sent; rows not sent yet stay as they are, for the record."""
    return _change_status(
        session,
        newsletter_id,
        (
            NewsletterStatus.draft,
            NewsletterStatus.scheduled,
            NewsletterStatus.sending,
            NewsletterStatus.paused,
        ),
        NewsletterStatus.cancelled,
        "cancelled",
    )


def counts(session: Session, newsletter_id: int) -> dict[str, int]:
    """Delivery rows of a newsletter by status."""
    rows = session.exec(
        select(Delivery.status, func.count())
        .where(Delivery.newsletter_id == newsletter_id)
        .group_by(Delivery.status)
    ).all()
    return {status: number for status, number in rows}


# --- sending ------------------------------------------------------------------------------------


def _claimable(newsletter_id: int, started: datetime, stale_before: datetime) -> Any:
    """Rows this run may take: pending, deferred before it started, or abandoned while sending."""
    return (
        col(Delivery.newsletter_id) == newsletter_id,
        or_(
            col(Delivery.status) == DeliveryStatus.pending,
            (col(Delivery.status) == DeliveryStatus.deferred)
            & (col(Delivery.updated_at) < started),
            (col(Delivery.status) == DeliveryStatus.sending)
            & (col(Delivery.updated_at) < stale_before),
        ),
    )


def _claim(
    session: Session,
    newsletter_id: int,
    started: datetime,
    stale_before: datetime,
    size: int,
) -> list[Delivery]:
    """Mark up to ``size`` rows ``sending`` for this run and commit; the rows claimed."""
    now = utcnow()
    statement = (
        select(Delivery)
        .where(*_claimable(newsletter_id, started, stale_before))
        .order_by(col(Delivery.id))
        .limit(size)
    )
    claimed: list[Delivery] = []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.exec(statement.with_for_update(skip_locked=True)).all()
        for row in rows:
            row.status = DeliveryStatus.sending
            row.updated_at = now
            session.add(row)
            claimed.append(row)
    else:
        for row in session.exec(statement).all():
            result = session.execute(
                update(Delivery)
                .where(
                    col(Delivery.id) == row.id,
                    col(Delivery.status) == row.status,
                    col(Delivery.updated_at) == row.updated_at,
                )
                .values(status=DeliveryStatus.sending, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row)
        for row in claimed:
            session.refresh(row)
    session.commit()
    return claimed


def _sender(newsletter: Newsletter, settings: Any) -> tuple[str, str]:
    return (
        newsletter.from_address or settings.mail.from_address,
        newsletter.from_name or settings.mail.from_name,
    )


@dataclass(frozen=True)
class _Group:
    """One audience group compiled for sending: its newsletter and its signed links."""

    compiled: CompiledNewsletter
    links: TrackedLinks


def _compile(
    session: Session, newsletter: Newsletter, settings: Any, signer: Signer, group_key: str
) -> _Group:
    compiled, _ = compile_group(session, newsletter, settings, group_key)
    assert newsletter.id is not None
    link_ids = register_links(session, newsletter.id, compiled.links)
    tracked = TrackedLinks(
        public_url=settings.web.public_url,
        signer=signer,
        newsletter_id=newsletter.id,
        link_ids=link_ids,
        anonymous=newsletter.anonymous_tracking or settings.tracking.anonymous,
    )
    return _Group(compiled, tracked)


def _message(
    delivery: Delivery,
    subscriber: Subscriber,
    newsletter: Newsletter,
    group: _Group,
    settings: Any,
) -> OutgoingMessage:
    address, name = _sender(newsletter, settings)
    domain = address.rpartition("@")[2] or "localhost"
    assert delivery.id is not None
    recipient = group.links.recipient(subscriber, delivery.id)
    rendered = group.compiled.personalise(recipient)
    assert delivery.id is not None and newsletter.id is not None
    list_key = newsletter.list_ids[0] if newsletter.list_ids else newsletter.id
    headers = {
        "List-Unsubscribe": (
            f"<{recipient.unsubscribe_url}>, <mailto:{address}?subject=unsubscribe>"
        ),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<list{list_key}.{domain}>",
    }
    return OutgoingMessage(
        from_address=address,
        from_name=name,
        reply_to=settings.mail.reply_to,
        to=delivery.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        message_id=message_id(delivery.id, newsletter.id, domain),
    )


def _record(session: Session, delivery: Delivery, result: SendResult, summary: SendSummary) -> None:
    now = utcnow()
    outcome = result.outcome
    delivery.attempts += 1
    delivery.updated_at = now
    delivery.last_reply = (result.error or (f"{result.code}" if result.code else ""))[:2000]
    if outcome == "sent":
        delivery.status = DeliveryStatus.sent
        delivery.sent_at = now
        summary.sent += 1
    elif outcome == "deferred" and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.deferred
        summary.deferred += 1
    elif outcome == "bounced":
        delivery.status = DeliveryStatus.bounced
        summary.bounced += 1
        if is_hard_bounce(result.error) and delivery.subscriber_id is not None:
            _mark_bounced(session, delivery.subscriber_id, delivery, result.error)
            summary.bounced_subscribers.append(delivery.subscriber_id)
    else:
        delivery.status = DeliveryStatus.failed
        summary.failed += 1
    session.add(delivery)


def _mark_bounced(session: Session, subscriber_id: int, delivery: Delivery, reply: str) -> None:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status != SubscriberStatus.active:
        return
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
            source=f"newsletter {delivery.newsletter_id}, delivery {delivery.id}",
            actor="system:sending",
            detail=reply[:1000],
        )
    )


def _unsettled(rows: Sequence[Delivery]) -> list[Delivery]:
    return [row for row in rows if row.status == DeliveryStatus.sending]


def _release(session: Session, rows: Sequence[Delivery]) -> None:
    """Rows claimed but not tried go back to the queue."""
    now = utcnow()
    for row in rows:
        row.status = DeliveryStatus.deferred if row.attempts else DeliveryStatus.pending
        row.updated_at = now
        session.add(row)


def send_newsletter(
    engine: Engine,
    newsletter_id: int,
    settings: Any,
    transport: Transport,
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    stale_after: timedelta = STALE_AFTER,
) -> SendSummary:
    """Send the queued deliveries of a ``sending`` newsletter; see the module docstring.

    Stops when no row is left to try in this run (deferred rows wait for the next run), when the
    newsletter stops being ``sending`` (paused, cancelled), or with the transport's
    :class:`CampaignError` once the results so far are recorded.
    """
    summary = SendSummary(newsletter_id)
    started = utcnow()
    stale_before = started - stale_after
    groups: dict[str, _Group] = {}
    signer = signer_for(settings)
    with Session(engine, expire_on_commit=False) as session:
        newsletter = get_newsletter(session, newsletter_id)
        if newsletter.status != NewsletterStatus.sending:
            raise CampaignError(
                f"Newsletter {newsletter_id} is {newsletter.status}, not sending; "
                f"`campaign newsletter send {newsletter_id}` starts a draft, "
                f"`campaign newsletter resume {newsletter_id}` a paused one."
            )
        total = session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(*_claimable(newsletter_id, started, stale_before))
        ).one()
        session.commit()
        while True:
            session.expire(newsletter)
            if newsletter.status != NewsletterStatus.sending:
                summary.stopped = f"newsletter {newsletter.status}"
                break
            rows = _claim(session, newsletter_id, started, stale_before, batch_size)
            if not rows:
                break
            try:
                _send_batch(session, rows, newsletter, settings, transport, groups, signer, summary)
            finally:
                session.commit()
            if progress is not None:
                progress(summary.handled, total)
        _finish(session, newsletter_id, summary)
    return summary


def _send_batch(
    session: Session,
    rows: list[Delivery],
    newsletter: Newsletter,
    settings: Any,
    transport: Transport,
    groups: dict[str, _Group],
    signer: Signer,
    summary: SendSummary,
) -> None:
    messages: list[OutgoingMessage] = []
    to_send: list[Delivery] = []
    for row in rows:
        subscriber = session.get(Subscriber, row.subscriber_id) if row.subscriber_id else None
        if subscriber is None or subscriber.status != SubscriberStatus.active:
            why = "deleted" if subscriber is None else subscriber.status
            _record(session, row, SendResult(row.email, False, error=f"not sent: {why}"), summary)
            continue
        if row.group_key not in groups:
            try:
                groups[row.group_key] = _compile(
                    session, newsletter, settings, signer, row.group_key
                )
            except CampaignError:
                _release(session, _unsettled(rows))
                raise
        messages.append(_message(row, subscriber, newsletter, groups[row.group_key], settings))
        to_send.append(row)
    try:
        results = transport.send(messages)
    except TransportError as exc:
        for row, result in zip(to_send, exc.results, strict=False):
            _record(session, row, result, summary)
        _release(session, _unsettled(rows))
        raise
    except BaseException:
        _release(session, _unsettled(rows))
        raise
    if len(results) != len(to_send):
        raise CampaignError("The transport returned a result count that does not match.")
    for row, result in zip(to_send, results, strict=True):
        _record(session, row, result, summary)


def _finish(session: Session, newsletter_id: int, summary: SendSummary) -> None:
    left = counts(session, newsletter_id)
    summary.remaining = sum(
        left.get(status, 0)
        for status in (DeliveryStatus.pending, DeliveryStatus.deferred, DeliveryStatus.sending)
    )
    if not summary.remaining:
        session.execute(
            update(Newsletter)
            .where(
                col(Newsletter.id) == newsletter_id,
                col(Newsletter.status) == NewsletterStatus.sending,
            )
            .values(status=NewsletterStatus.sent, updated_at=utcnow())
        )
    session.commit()
    newsletter = session.get(Newsletter, newsletter_id)
    if newsletter is not None:
        session.refresh(newsletter)
        summary.status = newsletter.status
