"""Sending a newsletter through the delivery queue (docs/architecture.md, "Delivery queue").

:func:`snapshot` writes one ``pending`` delivery row per member of the audience; from then on the
rows, not the audience, say who still has to be mailed. :func:`send_newsletter` claims rows in
batches, personalises the newsletter compiled once per audience group (never per recipient),
hands the batch to the transport and records each reply on its row as the transport reports it,
committing at most :data:`~campaign.mail.transport.FLUSH_EVERY` (40 ms) after the reply: a crash
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

This module holds the snapshot, the status changes and the run; the steps of a run live beside
it: :mod:`.claims` (which rows may be taken, and taking them), :mod:`.batch` (sending one batch),
:mod:`.outgoing` (each row's message and signed addresses), :mod:`.ledger` (the replies
written on the rows, the run's tally) and :mod:`.progress` (the rows counted by status).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, insert, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from campaign.db import describe, driver_message
from campaign.errors import CampaignError, TemporaryError
from campaign.mail.outbox import Transport
from campaign.models import Delivery, DeliveryStatus, Newsletter, NewsletterStatus, utcnow
from campaign.newsletters import allowed
from campaign.newsletters.audience import iter_audience
from campaign.newsletters.batch import send_batch
from campaign.newsletters.claims import claim, claimable
from campaign.newsletters.ledger import Recorder, SendSummary
from campaign.newsletters.outgoing import (
    SendingGroup,
    bounce_address,
    message_id,
    unsubscribe_address,
)
from campaign.newsletters.preview import per_region
from campaign.newsletters.progress import counts, unsent
from campaign.newsletters.records import get_newsletter
from campaign.newsletters.send_checks import check_sender
from campaign.sender import with_sender
from campaign.tracking.links import check_public_url
from campaign.tracking.tokens import signer_for

if TYPE_CHECKING:
    from campaign.config import Settings

# The queue's API: its own functions and the names callers import from here, whose homes are
# the modules above.
__all__ = [
    "Progress",
    "SendSummary",
    "back_to_draft",
    "bounce_address",
    "cancel",
    "check_sender",
    "claimable",
    "counts",
    "message_id",
    "pause",
    "resume",
    "send_newsletter",
    "sent_nothing",
    "snapshot",
    "unsubscribe_address",
]

_SNAPSHOT_CHUNK = 1000

Progress = Callable[[int, int], None]
"""Called after each batch with (rows handled in this run, rows to send when it started)."""


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


# --- sending ------------------------------------------------------------------------------------


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
    groups: dict[str, SendingGroup | None] = {}
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
            rows = claim(session, newsletter_id, stale, size)
            if not rows:
                break
            recorder = Recorder(settings, summary, session, newsletter_id)
            try:
                send_batch(session, rows, newsletter, settings, transport, groups, signer, recorder)
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


def _finish(session: Session, newsletter_id: int, summary: SendSummary) -> None:
    left = counts(session, newsletter_id)
    summary.remaining = unsent(left)
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
