"""Sending a newsletter through the delivery queue (docs/architecture.md, "Delivery queue").

:func:`snapshot` writes one ``pending`` delivery row per member of the audience; from then on the
rows, not the audience, say who still has to be mailed. :func:`send_newsletter` claims rows in
batches, personalises the newsletter compiled once per audience group (never per recipient),
hands the batch to the transport and records each reply on its row as the transport reports it,
committing at most :data:`~campaign.mail.outbox.REPORT_EVERY` (40 ms) after the reply: a crash
(even ``kill -9``) then mails again only the messages in flight (one per connection) and those
accepted in that last window, and a pause or a transport that gives up leaves the queue
resumable by running it again. A database lost mid-send stops the run with a
:class:`~campaign.errors.TemporaryError` (one sentence, no statement or address in it).

Each group's events are chosen when the group is first compiled in a run, so a letter sent late
features only events still to come; a group the rule finds no event for, in a newsletter that
leaves such readers out (``when_no_events = "skip"``), is not rendered and its rows become
``left_out`` instead of being sent (reports count them apart from the addressed).

Claiming is safe with several senders: one ``UPDATE … RETURNING`` per batch, whose inner
``SELECT`` takes rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers).
A claimed row is ``sending`` until its reply is recorded; rows left ``sending`` by a crash are
taken again after ``[mail] claim_timeout`` (those few may be mailed twice, the price of not
losing them). A temporary refusal (4xx), or a fault of the connection (cut twice, or no reply
after the message was written), makes a row ``deferred`` until ``next_attempt_at``, which grows
with each attempt (``[mail] retry_minutes``); after ``[mail] max_attempts`` it is ``failed``, so
a message that always breaks its connection never holds up the newsletter.

The per-recipient path is kept short, since it runs for every member of the audience: claim a
batch in one statement, load its subscribers in one query, personalise the compiled template,
sign the tokens, hand the batch to the transport (which splices the message bytes, see
:mod:`campaign.mail.mime`), and record the replies in one bulk ``UPDATE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, bindparam, func, insert, or_, update
from sqlalchemy import select as core_select  # sqlmodel's select takes at most 4 columns
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from campaign.addresses import InvalidEmail, sender_address
from campaign.db import describe, driver_message
from campaign.errors import CampaignError, TemporaryError
from campaign.mail.outbox import OutgoingMessage, SendResult, Transport, TransportError
from campaign.messages import Message, message
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
from campaign.newsletters import allowed
from campaign.newsletters.preview import compile_group, group_events, per_region
from campaign.newsletters.recipients import tracked_recipient
from campaign.newsletters.records import get_newsletter, iter_audience
from campaign.newsletters.render import CompiledNewsletter
from campaign.sender import refuse_placeholders, with_sender
from campaign.tracking.links import TrackedLinks, check_public_url, register_links
from campaign.tracking.tokens import (
    BOUNCE,
    MESSAGE_ID,
    UNSUBSCRIBE_MAIL,
    Signer,
    signer_for,
)

if TYPE_CHECKING:
    from campaign.config import Settings

_SNAPSHOT_CHUNK = 1000


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


def message_id(signer: Signer, delivery_id: int, newsletter_id: int, domain: str) -> str:
    """The Message-ID of a delivery: a signed token naming the row and its newsletter.

    Bounces quoting it name the row. Signed, it cannot be guessed: with ``<d42.n7@domain>``
    anyone could forge a bounce that suppresses a subscriber. Each install signs with its own
    key, so two installs sending from one domain never write the same Message-ID.
    """
    return f"<{signer.sign_address(MESSAGE_ID, delivery_id, newsletter_id)}@{domain}>"


# --- the sender ---------------------------------------------------------------------------------


def check_sender(newsletter: Newsletter, settings: Settings) -> None:
    """Refuse a send whose sender addresses no message could carry, naming the one to fix,
    and a real (SMTP) send from the sample identity (:func:`~campaign.sender.refuse_placeholders`,
    whose :class:`~campaign.sender.SenderRefused` carries a code and field). ``settings``: with
    the identity in force (:func:`~campaign.sender.with_sender`).

    Settings and newsletters are checked when written; this catches what was stored before
    those checks existed (or changed by hand). Without it, every recipient would be failed one
    by one and the newsletter marked sent.
    """
    number = newsletter.id
    mail = settings.mail
    # (the setting at fault, "" for the newsletter's own address; the address)
    if newsletter.from_address:
        fields = [("", newsletter.from_address)]
    else:
        fields = [("from_address", mail.from_address)]
    if mail.reply_to:
        fields.append(("reply_to", mail.reply_to))
    for setting, address in fields:
        try:
            sender_address(address)
        except InvalidEmail as exc:
            raise CampaignError.of(
                "newsletter.bad_setting_sender" if setting else "newsletter.bad_own_sender",
                "from_address",
                id=number,
                setting=setting,
                address=address,
                reason=str(exc).rstrip("."),
            ) from None
    domain = mail.return_path_domain or newsletter.from_address or mail.from_address
    domain = domain.rpartition("@")[2]
    for what, setting in (("bounce", "return_path_prefix"), ("unsubscribe", "unsubscribe_prefix")):
        prefix = getattr(mail, setting)
        if not prefix:
            continue
        address = f"{prefix}+token@{domain}"
        try:
            sender_address(address)
        except InvalidEmail as exc:
            raise CampaignError.of(
                f"newsletter.bad_{what}_address",
                id=number,
                setting=setting,
                address=address,
                reason=str(exc).rstrip("."),
            ) from None
    if mail.transport == "smtp":
        # Real mail only: the outbox may keep the sample identity, nothing leaves the machine.
        refuse_placeholders(mail, f"Newsletter {number}", newsletter.from_address)


# --- snapshot and status changes ----------------------------------------------------------------


def snapshot(session: Session, newsletter: Newsletter, settings: Settings | None = None) -> int:
    """One pending delivery per audience member not queued yet; the number added.

    A draft or scheduled newsletter becomes ``sending``. A newsletter already sending is not
    snapshotted again (its audience was fixed when sending began), a sent one adds nobody; a
    paused or cancelled one is refused with the command to use instead. With ``settings``, a
    newsletter whose sender no message could carry, or whose links no recipient could open, is
    refused before anything is queued (:func:`check_sender`,
    :func:`~campaign.tracking.links.check_public_url`).
    """
    if newsletter.status == NewsletterStatus.paused:
        raise CampaignError.of("newsletter.send_paused", id=newsletter.id)
    if newsletter.status == NewsletterStatus.cancelled:
        raise CampaignError.of("newsletter.send_cancelled", id=newsletter.id)
    if newsletter.status in (NewsletterStatus.sending, NewsletterStatus.sent):
        return 0
    if settings is not None:
        settings = with_sender(session, settings)
        check_sender(newsletter, settings)
        check_public_url(settings, f"Newsletter {newsletter.id}")
    assert newsletter.id is not None
    queued = set(
        session.exec(
            select(Delivery.subscriber_id).where(Delivery.newsletter_id == newsletter.id)
        ).all()
    )
    regional = per_region(newsletter)
    added = 0
    now = utcnow()
    rows: list[dict[str, Any]] = []
    # Core INSERTs in chunks, not ORM objects: a 200,000-person audience stays a few MB.
    for subscriber in iter_audience(session, newsletter):
        if subscriber.id in queued or not subscriber.email:
            continue
        rows.append(
            {
                "newsletter_id": newsletter.id,
                "subscriber_id": subscriber.id,
                "email": subscriber.email,
                "group_key": (subscriber.region or "") if regional else "",
                "status": DeliveryStatus.pending,
                "attempts": 0,
                "last_reply": "",
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(rows) >= _SNAPSHOT_CHUNK:
            session.execute(insert(Delivery), rows)
            added += len(rows)
            rows = []
    if rows:
        session.execute(insert(Delivery), rows)
        added += len(rows)
    newsletter.status = NewsletterStatus.sending
    newsletter.sent_at = newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return added


def _change_status(session: Session, newsletter_id: int, action: str, new: str) -> Newsletter:
    """``action`` done if :mod:`.allowed` says it may be: the newsletter's status is ``new``."""
    newsletter = get_newsletter(session, newsletter_id)
    allowed.check(newsletter, action)
    newsletter.status = new
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


def pause(session: Session, newsletter_id: int) -> Newsletter:
    """Stop sending after the current batch; :func:`resume` carries on."""
    return _change_status(session, newsletter_id, allowed.PAUSE, NewsletterStatus.paused)


def resume(session: Session, newsletter_id: int) -> Newsletter:
    """A paused newsletter is sending again (run :func:`send_newsletter` to send the rest)."""
    return _change_status(session, newsletter_id, allowed.RESUME, NewsletterStatus.sending)


def cancel(session: Session, newsletter_id: int) -> Newsletter:
    """Nothing more will be sent; rows not sent yet stay as they are, for the record."""
    return _change_status(session, newsletter_id, allowed.CANCEL, NewsletterStatus.cancelled)


# Rows that say nobody was mailed: never tried, or left out on purpose by the rule.
_UNSENT = (DeliveryStatus.pending, DeliveryStatus.left_out)


def sent_nothing(session: Session, newsletter_id: int) -> bool:
    """Whether no message of this newsletter was handed to a relay (or even tried)."""
    tried = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.newsletter_id == newsletter_id)
        .where(col(Delivery.status).not_in(_UNSENT) | (col(Delivery.attempts) > 0))
    ).one()
    return tried == 0


def back_to_draft(session: Session, newsletter_id: int) -> Newsletter:
    """A cancelled newsletter that sent nothing is a draft again, as if never scheduled.

    Its queued rows (an audience snapshotted then cancelled before any message left) are
    dropped: the audience is taken afresh when it is sent, so someone who left meanwhile is
    not mailed. A newsletter that mailed anyone stays cancelled, for the record.
    """
    newsletter = get_newsletter(session, newsletter_id)
    allowed.check(newsletter, allowed.RESTORE)
    if not sent_nothing(session, newsletter_id):
        raise CampaignError.of("newsletter.sent_before_cancel", id=newsletter_id)
    session.execute(
        Delivery.__table__.delete().where(  # type: ignore[attr-defined]
            Delivery.__table__.c.newsletter_id == newsletter_id  # type: ignore[attr-defined]
        )
    )
    newsletter.status = NewsletterStatus.draft
    newsletter.scheduled_at = None
    newsletter.sent_at = None
    newsletter.status_reason = ""
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


def counts(session: Session, newsletter_id: int) -> dict[str, int]:
    """Delivery rows of a newsletter by status."""
    rows = session.exec(
        select(Delivery.status, func.count())
        .where(Delivery.newsletter_id == newsletter_id)
        .group_by(Delivery.status)
    ).all()
    return {status: number for status, number in rows}


# --- sending ------------------------------------------------------------------------------------


def retry_delay(attempts: int, settings: Settings) -> timedelta:
    """How long a message deferred ``attempts`` times waits before its next try."""
    minutes = list(settings.mail.retry_minutes) or [0]
    return timedelta(minutes=minutes[min(attempts, len(minutes)) - 1])


def claimable(newsletter_id: Any, now: datetime, stale_before: datetime) -> Any:
    """Rows a run may take now: pending, deferred and due, or abandoned while sending.

    ``newsletter_id`` is an id, or a column for a correlated query over several newsletters
    (the send worker's "which newsletters have work now").
    """
    return (
        col(Delivery.newsletter_id) == newsletter_id,
        or_(
            col(Delivery.status) == DeliveryStatus.pending,
            (col(Delivery.status) == DeliveryStatus.deferred)
            & or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
            (col(Delivery.status) == DeliveryStatus.sending)
            & (col(Delivery.updated_at) < stale_before),
        ),
    )


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    subscriber_id: int | None
    email: str
    group_key: str
    attempts: int


def _claim(
    session: Session, newsletter_id: int, stale_after: timedelta, size: int
) -> list[_Claimed]:
    """Mark up to ``size`` rows ``sending`` for this run and commit; the rows claimed.

    One ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`` per kind of claimable row
    (pending first, then deferred and due, then abandoned), until ``size`` are taken: atomic on
    SQLite (one writer at a time), and on PostgreSQL the inner ``FOR UPDATE SKIP LOCKED`` lets
    concurrent senders take different rows instead of waiting for each other. Asking for one
    status at a time lets the database walk its (newsletter, status) index in id order; one
    query with the three conditions OR-ed made SQLite sort every row of the newsletter for
    each batch, a cost that grew with the audience.
    """
    now = utcnow()
    stale_before = now - stale_after
    kinds = (
        (col(Delivery.status) == DeliveryStatus.pending,),
        (
            col(Delivery.status) == DeliveryStatus.deferred,
            or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
        ),
        (
            col(Delivery.status) == DeliveryStatus.sending,
            col(Delivery.updated_at) < stale_before,
        ),
    )
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows: list[_Claimed] = []
    for conditions in kinds:
        if len(rows) >= size:
            break
        chosen = (
            select(Delivery.id)
            .where(col(Delivery.newsletter_id) == newsletter_id, *conditions)
            .order_by(col(Delivery.id))
            .limit(size - len(rows))
        )
        if postgresql:
            chosen = chosen.with_for_update(skip_locked=True)
        statement = (
            update(Delivery)
            .where(col(Delivery.id).in_(chosen.scalar_subquery()))
            .values(status=DeliveryStatus.sending, updated_at=now)
            .returning(*_CLAIMED_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        rows += [_Claimed(*row) for row in session.execute(statement).all()]
    session.commit()
    rows.sort(key=lambda row: row.id)
    return rows


_CLAIMED_COLUMNS = (
    col(Delivery.id),
    col(Delivery.subscriber_id),
    col(Delivery.email),
    col(Delivery.group_key),
    col(Delivery.attempts),
)


@dataclass(frozen=True)
class _Group:
    """One audience group compiled for sending: its newsletter, its signed links, and the
    headers every message of the group shares."""

    compiled: CompiledNewsletter
    links: TrackedLinks
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    domain: str = ""
    list_id: str = ""
    bounce_prefix: str = ""
    bounce_domain: str = ""  # of the bounce and the mailto unsubscribe addresses
    unsubscribe_prefix: str = ""


def _compile(
    session: Session, newsletter: Newsletter, settings: Settings, signer: Signer, group_key: str
) -> _Group | None:
    """The group compiled with its events as of now; None for a group left out (no event)."""
    selection = group_events(session, newsletter, settings, group_key)
    if selection.skipped:
        return None
    compiled, _ = compile_group(session, newsletter, settings, group_key, selection=selection)
    assert newsletter.id is not None
    link_ids = register_links(session, newsletter.id, compiled.links)
    tracked = TrackedLinks(
        public_url=settings.web.public_url,
        signer=signer,
        newsletter_id=newsletter.id,
        link_ids=link_ids,
        anonymous=newsletter.anonymous_tracking or settings.tracking.anonymous,
    )
    address = newsletter.from_address or settings.mail.from_address
    domain = address.rpartition("@")[2] or "localhost"
    list_key = newsletter.list_ids[0] if newsletter.list_ids else newsletter.id
    return _Group(
        compiled,
        tracked,
        from_address=address,
        from_name=newsletter.from_name or settings.mail.from_name,
        reply_to=settings.mail.reply_to,
        domain=domain,
        list_id=f"<list{list_key}.{domain}>",
        bounce_prefix=settings.mail.return_path_prefix,
        bounce_domain=settings.mail.return_path_domain or domain,
        unsubscribe_prefix=settings.mail.unsubscribe_prefix,
    )


def bounce_address(signer: Signer, delivery_id: int, prefix: str, domain: str) -> str:
    """The VERP envelope sender of a delivery: ``prefix+TOKEN@domain``, TOKEN naming the row.

    A bounce comes back to this address, so the address alone says which delivery failed even
    when the bounce quotes nothing of the original message.
    """
    return f"{prefix}+{signer.sign_address(BOUNCE, delivery_id)}@{domain}"


def unsubscribe_address(signer: Signer, delivery_id: int, prefix: str, domain: str) -> str:
    """The mailto address of a delivery's List-Unsubscribe: ``prefix+TOKEN@domain``.

    Mail clients without one-click send a message to it; ``campaign bounces ingest``, which the
    bounce address's domain already reaches, reads the token and unsubscribes the person as the
    one-click link does. The From mailbox, which nothing reads, is never the target.
    """
    return f"{prefix}+{signer.sign_address(UNSUBSCRIBE_MAIL, delivery_id)}@{domain}"


def _message(
    row: _Claimed, subscriber: Any, newsletter_id: int, group: _Group, signer: Signer
) -> OutgoingMessage:
    recipient = tracked_recipient(group.links, subscriber, row.id)
    subject, text, html_parts = group.compiled.personalise_chunks(recipient)
    unsubscribe = f"<{recipient.unsubscribe_url}>"
    if group.unsubscribe_prefix:
        address = unsubscribe_address(signer, row.id, group.unsubscribe_prefix, group.bounce_domain)
        unsubscribe += f", <mailto:{address}?subject=unsubscribe>"
    headers = {
        "List-Unsubscribe": unsubscribe,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": group.list_id,
    }
    envelope = ""
    if group.bounce_prefix:
        envelope = bounce_address(signer, row.id, group.bounce_prefix, group.bounce_domain)
    return OutgoingMessage(
        from_address=group.from_address,
        from_name=group.from_name,
        reply_to=group.reply_to,
        to=row.email,
        to_name=f"{subscriber.first_name} {subscriber.last_name}".strip(),
        subject=subject,
        text="",
        text_parts=tuple(text),
        html="",
        html_parts=tuple(html_parts),
        headers=headers,
        message_id=message_id(signer, row.id, newsletter_id, group.domain),
        envelope_from=envelope,
    )


class _Messages(Sequence[OutgoingMessage]):
    """A batch whose messages are personalised when the transport takes them.

    The SMTP transport's connections take messages one at a time in their own threads, so each
    message is built while the other connections wait for the server: building overlaps
    sending instead of preceding it.
    """

    def __init__(
        self, items: list[tuple[_Claimed, Any, _Group]], newsletter_id: int, signer: Signer
    ):
        self._items = items
        self._newsletter_id = newsletter_id
        self._signer = signer

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[number] for number in range(*index.indices(len(self)))]
        row, person, group = self._items[index]
        return _message(row, person, self._newsletter_id, group, self._signer)


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


class _Recorder:
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
        self.hard_bounces: list[tuple[_Claimed, str]] = []

    def result(self, row: _Claimed, result: SendResult) -> None:
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

    def left_out(self, row: _Claimed) -> None:
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

    def release(self, row: _Claimed) -> None:
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


_RECIPIENT_COLUMNS = (
    col(Subscriber.id),
    col(Subscriber.status),
    col(Subscriber.email),
    col(Subscriber.first_name),
    col(Subscriber.last_name),
    col(Subscriber.organisation),
    col(Subscriber.region),
)


def send_newsletter(
    engine: Engine,
    newsletter_id: int,
    settings: Settings,
    transport: Transport,
    progress: Progress | None = None,
    *,
    batch_size: int | None = None,
    stale_after: timedelta | None = None,
) -> SendSummary:
    """Send the queued deliveries of a ``sending`` newsletter; see the module docstring.

    Stops when no row is due any more (deferred rows wait for their ``next_attempt_at``, the
    summary says how many and until when), when the newsletter stops being ``sending`` (paused,
    cancelled), or with the transport's :class:`CampaignError` once the results so far are
    recorded, or with a :class:`TemporaryError` when the database stops answering (what was
    committed is kept; the rows of the last moments stay ``sending`` until ``claim_timeout``).
    ``batch_size`` and ``stale_after`` default to ``[mail] batch_size`` and
    ``[mail] claim_timeout``.
    """
    try:
        return _send_queued(
            engine, newsletter_id, settings, transport, progress, batch_size, stale_after
        )
    except (OperationalError, InterfaceError) as exc:
        raise _database_lost(engine, newsletter_id, exc) from None
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise _database_lost(engine, newsletter_id, exc) from None


def _database_lost(engine: Engine, newsletter_id: int, exc: DBAPIError) -> TemporaryError:
    """One sentence for a database gone mid-send: no statement, no value, no address in it."""
    where = describe(engine.url.render_as_string(hide_password=False))
    return TemporaryError(
        f"Newsletter {newsletter_id}: the database {where} stopped answering during the send "
        f"({driver_message(exc).rstrip('.')}); what was recorded is kept and the rest is left "
        "to send: try again later."
    )


def _send_queued(
    engine: Engine,
    newsletter_id: int,
    settings: Settings,
    transport: Transport,
    progress: Progress | None,
    batch_size: int | None,
    stale_after: timedelta | None,
) -> SendSummary:
    size = batch_size or settings.mail.batch_size
    stale = (
        stale_after if stale_after is not None else timedelta(seconds=settings.mail.claim_timeout)
    )
    summary = SendSummary(newsletter_id)
    groups: dict[str, _Group | None] = {}
    signer = signer_for(settings)
    with Session(engine, expire_on_commit=False) as session:
        newsletter = get_newsletter(session, newsletter_id)
        settings = with_sender(session, settings)  # the identity in force, stored or the file's
        if newsletter.status != NewsletterStatus.sending:
            raise CampaignError.of(
                "newsletter.not_sending", id=newsletter_id, status=newsletter.status
            )
        check_sender(newsletter, settings)  # before anything is claimed
        check_public_url(settings, f"Newsletter {newsletter_id}")
        now = utcnow()
        total = session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(*claimable(newsletter_id, now, now - stale))
        ).one()
        session.commit()
        while True:
            session.expire(newsletter)
            if newsletter.status != NewsletterStatus.sending:
                summary.stopped = f"newsletter {newsletter.status}"
                break
            rows = _claim(session, newsletter_id, stale, size)
            if not rows:
                break
            recorder = _Recorder(settings, summary, session, newsletter_id)
            try:
                _send_batch(
                    session, rows, newsletter, settings, transport, groups, signer, recorder
                )
            except (OperationalError, InterfaceError):
                raise  # the database is gone: nothing more can be written
            except BaseException:
                recorder.commit()
                raise
            recorder.commit()
            if progress is not None:
                progress(summary.handled, max(total, summary.handled))
        _finish(session, newsletter_id, summary)
    return summary


def _not_sent(person: Any) -> Message:
    """Why a row's person gets nothing (erased, or no longer active); stored as the CLI words
    it (``not sent: unsubscribed``), as before."""
    if person is None:
        return message("delivery.person_erased")
    return message("delivery.person_inactive", status=f"{person.status}")


def _send_batch(
    session: Session,
    rows: list[_Claimed],
    newsletter: Newsletter,
    settings: Settings,
    transport: Transport,
    groups: dict[str, _Group | None],
    signer: Signer,
    recorder: _Recorder,
) -> None:
    assert newsletter.id is not None
    ids = [row.subscriber_id for row in rows if row.subscriber_id is not None]
    people = {
        person.id: person
        for person in session.execute(
            core_select(*_RECIPIENT_COLUMNS).where(col(Subscriber.id).in_(ids))
        ).all()
    }
    to_send: list[tuple[_Claimed, Any, _Group]] = []
    for number, row in enumerate(rows):
        person = people.get(row.subscriber_id) if row.subscriber_id is not None else None
        if person is None or person.status != SubscriberStatus.active:
            why = _not_sent(person)
            recorder.result(row, SendResult(row.email, False, error=str(why), reason=why))
            continue
        if row.group_key not in groups:
            try:
                groups[row.group_key] = _compile(
                    session, newsletter, settings, signer, row.group_key
                )
            except CampaignError:
                for other in rows[number:]:
                    recorder.release(other)
                for other, _, _ in to_send:
                    recorder.release(other)
                raise
        group = groups[row.group_key]
        if group is None:
            recorder.left_out(row)
            continue
        to_send.append((row, person, group))
    if not to_send:
        return
    rows_sent = [row for row, _, _ in to_send]
    reported: set[int] = set()
    held: dict[int, SendResult] = {}  # failures, recorded once the batch is judged

    def report(pairs: list[tuple[int, SendResult]]) -> None:
        """Record what the server said within moments of its reply (one commit per call,
        at most every few tens of milliseconds): a crash then re-sends only those moments."""
        for index, result in pairs:
            reported.add(index)
            if result.outcome == "failed":
                held[index] = result  # nothing was sent: it can wait for the batch's end
            else:
                recorder.result(rows_sent[index], result)
        recorder.commit()

    try:
        results = transport.send(_Messages(to_send, newsletter.id, signer), report=report)
    except TransportError as exc:
        tried = exc.results + [None] * (len(to_send) - len(exc.results))
        for index, (row, result) in enumerate(zip(rows_sent, tried, strict=True)):
            if index in held:
                recorder.result(row, held[index])
            elif index in reported:
                continue
            elif result is None:
                recorder.release(row)
            else:
                recorder.result(row, result)
        raise
    except CampaignError:  # a message could not be built: nothing else of the batch recorded
        for index, row in enumerate(rows_sent):
            if index not in reported:
                recorder.release(row)
        raise
    if len(results) != len(to_send):
        raise CampaignError("The transport returned a result count that does not match.")
    reason = _same_failure(results)  # all failed: none of them was recorded yet
    if reason is not None:
        for row in rows_sent:
            recorder.release(row)
        raise CampaignError(
            f"Newsletter {newsletter.id}: all {len(results)} messages of a batch failed with "
            f"the same error, so the send stopped and left them to send: {reason}"
        )
    for index, (row, result) in enumerate(zip(rows_sent, results, strict=True)):
        if index in held or index not in reported:
            recorder.result(row, result)


def _same_failure(results: Sequence[SendResult]) -> str | None:
    """The error every message of a batch failed with, if they all failed alike.

    A recipient's own failure names the recipient, so two messages failing with the very same
    words point at the sender's side (an address, signing, the outbox): failing them one by one
    would fail the whole audience and mark the newsletter sent. One message alone says nothing.
    """
    if len(results) < 2 or any(result.outcome != "failed" for result in results):
        return None
    reasons = {result.error for result in results}
    return reasons.pop() if len(reasons) == 1 else None


def _finish(session: Session, newsletter_id: int, summary: SendSummary) -> None:
    left = counts(session, newsletter_id)
    summary.remaining = sum(
        left.get(status, 0)
        for status in (DeliveryStatus.pending, DeliveryStatus.deferred, DeliveryStatus.sending)
    )
    summary.waiting = left.get(DeliveryStatus.deferred, 0)
    summary.next_attempt_at = session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            col(Delivery.newsletter_id) == newsletter_id,
            col(Delivery.status) == DeliveryStatus.deferred,
        )
    ).one()
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
