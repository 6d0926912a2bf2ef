"""The stand-ins of campaign/dashboard/stages.py and the calendar grid, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.audience.subscribers import add_subscriber
from campaign.config import Settings
from campaign.dashboard import stages
from campaign.dashboard.calendar import build_period
from campaign.errors import CampaignError
from campaign.models import (
    Delivery,
    DeliveryStatus,
    Event,
    Hit,
    HitClass,
    HitKind,
    NewsletterStatus,
    PostStatus,
)
from campaign.newsletters.records import create_newsletter
from campaign.social.posts import create_post
from campaign.taxonomy import Taxonomy

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 5)


def _event(session: Session, number: int, hour: int, region: str, theme: str) -> Event:
    event = Event(
        source_id=f"E{number}",
        title=f"Évènement {number}",
        starts_at=datetime(2026, 11, 5, hour, tzinfo=PARIS),
        city="Ville",
        region=region,
        theme=theme,
    )
    session.add(event)
    session.commit()
    return event


@pytest.fixture
def settings() -> Settings:
    return Settings()


def test_planning_drafts_one_post_per_slot_with_varied_events_never_twice(
    session: Session, settings: Settings
) -> None:
    regions = ["Bretagne", "Bretagne", "Bretagne", "Normandie", "Corse", "Corse"]
    themes = ["Se loger", "Se loger", "Travailler", "Travailler", "Consommer", "Se loger"]
    for number, (region, theme) in enumerate(zip(regions, themes, strict=True)):
        _event(session, number, 9 + number, region, theme)
    first = stages.plan_event_posts(session, settings, day=DAY, account="mois_ess")
    assert [p.status for p in first] == [PostStatus.draft] * 3
    assert [p.scheduled_at.astimezone(PARIS).strftime("%H:%M") for p in first] == [
        "09:00",
        "12:30",
        "17:30",
    ]
    chosen = [session.get(Event, p.event_ids[0]) for p in first]
    assert len({e.region for e in chosen}) == 3 and len({e.theme for e in chosen}) == 3
    assert "#MoisESS" in first[0].text and "Évènement" in first[0].text
    second = stages.plan_event_posts(session, settings, day=DAY, account="mois_ess")
    assert len(second) == 3
    assert not {p.event_ids[0] for p in first} & {p.event_ids[0] for p in second}
    assert stages.plan_event_posts(session, settings, day=DAY, account="mois_ess") == []
    assert len(stages.day_drafts(session, settings, DAY, "mois_ess")) == 6


def test_approving_moving_and_cancelling_posts(session: Session, settings: Settings) -> None:
    _event(session, 1, 10, "Bretagne", "Se loger")
    (draft,) = stages.plan_event_posts(session, settings, day=DAY, account="prix_ess")
    later = datetime(2026, 11, 6, 8, tzinfo=PARIS)
    moved = stages.move_post(session, draft.id, later)
    assert moved.status == PostStatus.draft and moved.scheduled_at == later
    approved = stages.schedule_post(session, draft.id)
    assert approved.status == PostStatus.scheduled and approved.scheduled_at == later
    assert stages.cancel_post(session, draft.id).status == PostStatus.cancelled
    with pytest.raises(CampaignError, match="cancelled"):
        stages.schedule_post(session, draft.id)


def test_scheduling_a_newsletter_only_while_it_is_pending(session: Session) -> None:
    add_subscriber(session, "a@example.org", list_names=["Presse"], actor="test")
    newsletter = create_newsletter(
        session,
        title="T",
        subject="S",
        template="mois-ess",
        list_names=["Presse"],
        taxonomy=Taxonomy.from_settings(),
    )
    when = datetime(2026, 11, 9, 9, tzinfo=PARIS)
    assert stages.schedule_newsletter(session, newsletter.id, when).status == "scheduled"
    newsletter.status = NewsletterStatus.sent
    session.add(newsletter)
    session.flush()
    with pytest.raises(CampaignError, match="only a draft or scheduled"):
        stages.schedule_newsletter(session, newsletter.id, when)


def test_figures_count_deliveries_and_human_hits_only(session: Session) -> None:
    people = [
        add_subscriber(session, f"p{n}@example.org", list_names=["Presse"], actor="t")[0]
        for n in range(4)
    ]
    newsletter = create_newsletter(
        session,
        title="T",
        subject="S",
        template="mois-ess",
        list_names=["Presse"],
        taxonomy=Taxonomy.from_settings(),
    )
    statuses = [DeliveryStatus.sent, DeliveryStatus.sent, DeliveryStatus.bounced, "pending"]
    rows = []
    for person, status in zip(people, statuses, strict=True):
        row = Delivery(
            newsletter_id=newsletter.id, subscriber_id=person.id, email=person.email, status=status
        )
        session.add(row)
        rows.append(row)
    session.flush()
    hits = [
        (HitKind.open, HitClass.human, rows[0].id),
        (HitKind.open, HitClass.human, rows[0].id),
        (HitKind.open, HitClass.human, rows[1].id),
        (HitKind.open, HitClass.machine, rows[1].id),
        (HitKind.click, HitClass.human, rows[0].id),
        (HitKind.click, HitClass.bot, rows[1].id),
    ]
    for kind, classification, delivery_id in hits:
        session.add(
            Hit(
                kind=kind,
                classification=classification,
                newsletter_id=newsletter.id,
                delivery_id=delivery_id,
            )
        )
    session.flush()
    figures = stages.newsletter_figures(session, [newsletter.id])[newsletter.id]
    assert (figures.addressed, figures.delivered, figures.bounced, figures.pending) == (4, 2, 1, 1)
    assert (figures.opens, figures.unique_opens, figures.clicks, figures.unique_clicks) == (
        3,
        2,
        1,
        1,
    )
    totals = stages.delivery_totals(session)
    assert totals == {"delivered": 2, "opens": 3, "clicks": 1, "machine_or_bot": 2}


def test_the_calendar_puts_items_on_their_local_day(session: Session, settings: Settings) -> None:
    # 23:30 UTC on 4 November is 00:30 on 5 November in Paris.
    create_post(
        session,
        settings,
        account="mois_ess",
        text="Minuit passé",
        scheduled_at=datetime(2026, 11, 4, 23, 30, tzinfo=UTC),
    )
    month = build_period(session, "month", DAY, PARIS)
    assert month.first == date(2026, 11, 1)
    assert month.weeks[0][0].day == date(2026, 10, 26)  # weeks start on Monday
    days = {cell.day: cell for week in month.weeks for cell in week}
    assert [item.title for item in days[DAY].items] == ["Minuit passé"]
    assert days[date(2026, 11, 4)].items == []
    assert month.count == 1
    week = build_period(session, "week", DAY, PARIS)
    assert week.first == date(2026, 11, 2) and len(week.weeks) == 1
    assert build_period(session, "week", DAY, PARIS, account="prix_ess").count == 0
    assert build_period(session, "week", DAY, PARIS, account="newsletters").count == 0
    assert week.next == DAY - timedelta(days=3) + timedelta(days=7)
