"""What a newsletter's confirmations say of it: its audience before sending, its queued rows
after, the messages gone and those still to send, counted by the newsletters stage."""

from __future__ import annotations

from sqlmodel import Session, select

from campaign.models import (
    Delivery,
    DeliveryStatus,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
)
from campaign.newsletters import progress, queue

STATUSES = [
    DeliveryStatus.sent,
    DeliveryStatus.sent,
    DeliveryStatus.bounced,
    DeliveryStatus.pending,
    DeliveryStatus.deferred,
    DeliveryStatus.sending,
    DeliveryStatus.failed,
    DeliveryStatus.left_out,
]


def _newsletter(session: Session) -> Newsletter:
    mailing_list = MailingList(name="Newsletter nationale")
    session.add(mailing_list)
    session.flush()
    for number in range(len(STATUSES)):
        subscriber = Subscriber(email=f"person{number}@example.org")
        session.add(subscriber)
        session.flush()
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    newsletter = Newsletter(
        title="Le Mois", subject="Vos évènements", template="mois-ess", list_ids=[mailing_list.id]
    )
    session.add(newsletter)
    session.commit()
    return newsletter


def test_before_sending_the_audience_is_counted_as_it_stands(session: Session) -> None:
    newsletter = _newsletter(session)
    assert progress.situation(session, newsletter) == progress.Situation(
        audience=len(STATUSES), queued=0, left=0, waiting=0
    )


def test_once_sending_the_queued_rows_say_what_left_and_what_waits(session: Session) -> None:
    newsletter = _newsletter(session)
    queue.snapshot(session, newsletter)
    rows = session.exec(select(Delivery).order_by(Delivery.id)).all()
    for row, status in zip(rows, STATUSES, strict=True):
        row.status = status
        session.add(row)
    # Someone leaving after the snapshot changes nothing: the rows were fixed when it began.
    session.delete(session.exec(select(Membership)).first())
    session.commit()
    assert progress.situation(session, newsletter) == progress.Situation(
        audience=len(STATUSES),
        queued=len(STATUSES),
        left=3,  # sent twice, bounced once
        waiting=3,  # pending, deferred, sending: failed and left out never will be
    )
    assert progress.unsent(progress.counts(session, newsletter.id)) == 3
