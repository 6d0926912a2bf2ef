"""Fixtures of the bounce tests: newsletter 1 sent to the six people of the samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.models import (
    Delivery,
    DeliveryStatus,
    MailingList,
    Membership,
    Newsletter,
    NewsletterStatus,
    Subscriber,
)

SAMPLES = Path(__file__).parent / "samples"
# Delivery ids 1…6 in this order: the samples' VERP tokens were signed for them with the test key.
PEOPLE = [
    "nobody@example.com",
    "lea.martin@gmail.com",
    "paul@example.net",
    "camille@example-isp.fr",
    "marc@old-domain.fr",
    "anne@example.org",
]


@pytest.fixture
def sent(engine) -> None:
    """Newsletter 1 sent to the six people of the samples."""
    with Session(engine) as session:
        mailing_list = MailingList(name="Newsletter nationale")
        session.add(mailing_list)
        session.flush()
        newsletter = Newsletter(
            title="Le Mois",
            subject="Évènements de novembre",
            template="mois-ess",
            list_ids=[mailing_list.id],
            status=NewsletterStatus.sent,
        )
        session.add(newsletter)
        session.flush()
        assert newsletter.id == 1
        for address in PEOPLE:
            subscriber = Subscriber(email=address)
            session.add(subscriber)
            session.flush()
            session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
            session.add(
                Delivery(
                    newsletter_id=1,
                    subscriber_id=subscriber.id,
                    email=address,
                    status=DeliveryStatus.sent,
                    attempts=1,
                )
            )
            session.flush()
        session.commit()


def _state(engine) -> dict[str, tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Delivery, Subscriber).join(Subscriber)).all()
        return {d.email: (d.status, s.status) for d, s in rows}


@pytest.fixture
def ingest(cli, sent, engine):
    def run(*args: str, input: str | None = None):
        return cli("bounces", "ingest", *args, input=input)

    return run
