"""Scheduling a newsletter by hand (the dashboard's "Programmer"): the row is the schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.audience.subscribers import add_subscriber
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Newsletter, NewsletterStatus
from campaign.newsletters import records
from campaign.taxonomy import Taxonomy

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 2, 10, tzinfo=PARIS)
SETTINGS = Settings()  # the outbox: no sender check stands in the way


def _newsletter(session: Session) -> Newsletter:
    add_subscriber(session, "a@example.org", list_names=["Presse"], actor="test")
    return records.create_newsletter(
        session,
        title="Novembre",
        subject="Le Mois",
        template="mois-ess",
        list_names=["Presse"],
        taxonomy=Taxonomy.from_settings(),
    )


def test_a_draft_gets_its_time_and_is_scheduled(session: Session) -> None:
    newsletter = _newsletter(session)
    when = datetime(2026, 11, 9, 9, tzinfo=PARIS)
    records.schedule_newsletter(session, newsletter.id, when, settings=SETTINGS, now=NOW)
    session.commit()
    stored = session.get(Newsletter, newsletter.id)
    assert stored.status == NewsletterStatus.scheduled and stored.scheduled_at == when


def test_a_missed_newsletter_is_brought_back_by_a_new_time(session: Session) -> None:
    newsletter = _newsletter(session)
    newsletter.status = NewsletterStatus.missed
    newsletter.status_reason = "missed 01/11/2026 09:00 by 25 h"
    session.add(newsletter)
    session.flush()
    records.schedule_newsletter(
        session, newsletter.id, NOW + timedelta(hours=1), settings=SETTINGS, now=NOW
    )
    assert newsletter.status == NewsletterStatus.scheduled and newsletter.status_reason == ""


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (NOW - timedelta(minutes=1), "already past"),
        (NOW, "already past"),
        (datetime(2026, 11, 9, 9), "time zone"),
    ],
)
def test_a_time_past_or_without_zone_is_refused(
    session: Session, when: datetime, message: str
) -> None:
    newsletter = _newsletter(session)
    with pytest.raises(CampaignError, match=message):
        records.schedule_newsletter(session, newsletter.id, when, settings=SETTINGS, now=NOW)
    assert newsletter.status == NewsletterStatus.draft and newsletter.scheduled_at is None


@pytest.mark.parametrize(
    "status", [NewsletterStatus.sending, NewsletterStatus.sent, NewsletterStatus.cancelled]
)
def test_a_newsletter_gone_or_cancelled_cannot_be_scheduled(session: Session, status: str) -> None:
    newsletter = _newsletter(session)
    newsletter.status = status
    session.add(newsletter)
    session.flush()
    with pytest.raises(CampaignError, match="only a draft, scheduled or missed"):
        later = NOW + timedelta(days=1)
        records.schedule_newsletter(session, newsletter.id, later, settings=SETTINGS, now=NOW)


def test_a_missed_newsletter_can_be_cancelled(session: Session) -> None:
    from campaign.newsletters import queue

    newsletter = Newsletter(title="Manquée", subject="S", template="mois-ess",
                            status=NewsletterStatus.missed)  # fmt: skip
    session.add(newsletter)
    session.commit()
    assert queue.cancel(session, newsletter.id).status == NewsletterStatus.cancelled
