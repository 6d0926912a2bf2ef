"""Sending one claimed batch: who gets a message, handing them to the transport, and recording
each reply as the transport reports it.

Never twice, never losing anyone: a row is either recorded with its reply, or released to the
queue (due at once) when it was claimed but not tried; a row whose reply the transport already
reported (and :class:`~campaign.newsletters.ledger.Recorder` committed) is never recorded again.
Failures are held until the batch is judged: if every message failed with the same words, the
fault is the sender's, and the whole batch goes back to the queue. See :mod:`.queue` for the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select as core_select  # sqlmodel's select takes at most 4 columns
from sqlmodel import Session, col

from campaign.errors import CampaignError
from campaign.mail.outbox import SendResult, Transport, TransportError
from campaign.messages import Message, message
from campaign.models import Newsletter, Subscriber, SubscriberStatus
from campaign.newsletters.claims import Claimed
from campaign.newsletters.ledger import Recorder
from campaign.newsletters.outgoing import BatchMessages, SendingGroup, compile_for_sending
from campaign.tracking.tokens import Signer

if TYPE_CHECKING:
    from campaign.config import Settings

# A row to send: the claimed row, its subscriber's columns, its compiled group.
_ToSend = tuple[Claimed, Any, SendingGroup]

_RECIPIENT_COLUMNS = (
    col(Subscriber.id),
    col(Subscriber.status),
    col(Subscriber.email),
    col(Subscriber.first_name),
    col(Subscriber.last_name),
    col(Subscriber.organisation),
    col(Subscriber.region),
)


def send_batch(
    session: Session,
    rows: list[Claimed],
    newsletter: Newsletter,
    settings: Settings,
    transport: Transport,
    groups: dict[str, SendingGroup | None],
    signer: Signer,
    recorder: Recorder,
) -> None:
    """Send the claimed ``rows``: each is given to ``recorder`` with its reply, or released.

    ``groups`` holds the groups compiled so far in the run (None: left out), and gains those
    first met here. Raises what compiling a group or the transport raised, once every row not
    recorded is released; the caller commits ``recorder`` either way.
    """
    assert newsletter.id is not None
    to_send = _sort_out(session, rows, newsletter, settings, groups, signer, recorder)
    if not to_send:
        return
    _hand_over(transport, to_send, newsletter.id, signer, recorder)


def _people(session: Session, rows: list[Claimed]) -> dict[Any, Any]:
    """The subscribers of ``rows`` by id (the columns a message needs), in one query."""
    ids = [row.subscriber_id for row in rows if row.subscriber_id is not None]
    return {
        person.id: person
        for person in session.execute(
            core_select(*_RECIPIENT_COLUMNS).where(col(Subscriber.id).in_(ids))
        ).all()
    }


def _not_sent(person: Any) -> Message:
    """Why a row's person gets nothing (erased, or no longer active); stored as the CLI words
    it (``not sent: unsubscribed``), as before."""
    if person is None:
        return message("delivery.person_erased")
    return message("delivery.person_inactive", status=f"{person.status}")


def _sort_out(
    session: Session,
    rows: list[Claimed],
    newsletter: Newsletter,
    settings: Settings,
    groups: dict[str, SendingGroup | None],
    signer: Signer,
    recorder: Recorder,
) -> list[_ToSend]:
    """The rows to send, with their person and group; the others recorded at once: not sent
    (the person erased or no longer active), or left out (the rule found no event for their
    group). A group that cannot be compiled releases every row of the batch not recorded."""
    people = _people(session, rows)
    to_send: list[_ToSend] = []
    for number, row in enumerate(rows):
        person = people.get(row.subscriber_id) if row.subscriber_id is not None else None
        if person is None or person.status != SubscriberStatus.active:
            why = _not_sent(person)
            recorder.result(row, SendResult(row.email, False, error=str(why), reason=why))
            continue
        if row.group_key not in groups:
            try:
                groups[row.group_key] = compile_for_sending(
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
    return to_send


def _hand_over(
    transport: Transport,
    to_send: list[_ToSend],
    newsletter_id: int,
    signer: Signer,
    recorder: Recorder,
) -> None:
    """Give the batch to the transport and record every reply (see :class:`_Replies`)."""
    replies = _Replies([row for row, _, _ in to_send], recorder)
    try:
        results = transport.send(
            BatchMessages(to_send, newsletter_id, signer), on_results=replies.record
        )
    except TransportError as exc:
        replies.transport_stopped(exc)
        raise
    except CampaignError:  # a message could not be built: nothing else of the batch recorded
        replies.release_unreported()
        raise
    if len(results) != len(to_send):
        raise CampaignError("The transport returned a result count that does not match.")
    reason = _same_failure(results)  # all failed: none of them was recorded yet
    if reason is not None:
        replies.release_all()
        raise CampaignError(
            f"Newsletter {newsletter_id}: all {len(results)} messages of a batch failed with "
            f"the same error, so the send stopped and left them to send: {reason}"
        )
    replies.record_the_rest(results)


class _Replies:
    """The replies to one batch given to the transport, by index in the batch.

    :meth:`record` records each reply as the transport hands it on; failures are held (nothing
    was sent, they can wait) until the batch is judged. Every other method then records or
    releases the rows :meth:`record` did not record, never one it did.
    """

    def __init__(self, rows: list[Claimed], recorder: Recorder) -> None:
        self.rows = rows
        self.recorder = recorder
        self.reported: set[int] = set()
        self.held: dict[int, SendResult] = {}  # failures, recorded once the batch is judged

    def record(self, pairs: list[tuple[int, SendResult]]) -> None:
        """Record what the server said within moments of its reply (one commit per call,
        at most every few tens of milliseconds): a crash then re-sends only those moments."""
        for index, result in pairs:
            self.reported.add(index)
            if result.outcome == "failed":
                self.held[index] = result  # nothing was sent: it can wait for the batch's end
            else:
                self.recorder.result(self.rows[index], result)
        self.recorder.commit()

    def transport_stopped(self, exc: TransportError) -> None:
        """The transport gave up: what it tried is recorded, what it did not try released."""
        tried = exc.results + [None] * (len(self.rows) - len(exc.results))
        for index, (row, result) in enumerate(zip(self.rows, tried, strict=True)):
            if index in self.held:
                self.recorder.result(row, self.held[index])
            elif index in self.reported:
                continue
            elif result is None:
                self.recorder.release(row)
            else:
                self.recorder.result(row, result)

    def release_unreported(self) -> None:
        """A message could not be built: the rows not recorded go back to the queue."""
        for index, row in enumerate(self.rows):
            if index not in self.reported:
                self.recorder.release(row)

    def release_all(self) -> None:
        """Every message failed alike (none recorded yet): the whole batch goes back."""
        for row in self.rows:
            self.recorder.release(row)

    def record_the_rest(self, results: list[SendResult]) -> None:
        """The transport returned: the held failures and the replies not reported recorded."""
        for index, (row, result) in enumerate(zip(self.rows, results, strict=True)):
            if index in self.held or index not in self.reported:
                self.recorder.result(row, result)


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
