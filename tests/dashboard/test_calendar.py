"""The calendar grid: local days, items sent without a time, missed items with their reason,
the runs of recurring jobs, what may be moved; and the planner's list of the day's event posts.
On both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.audience.subscribers import add_subscriber
from campaign.config import Settings
from campaign.dashboard.calendar import build_period, missed_items
from campaign.dashboard.queries import day_event_posts
from campaign.models import (
    Event,
    NewsletterStatus,
    Post,
    PostStatus,
    RecurringJob,
    utcnow,
)
from campaign.newsletters.records import create_newsletter
from campaign.social.posts import cancel_post
from campaign.social.posts import create_post as _create_post
from campaign.taxonomy import Taxonomy

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 5)
BEFORE_THE_MOIS = datetime(2026, 10, 1, tzinfo=UTC)


def create_post(*args: Any, **kwargs: Any) -> Post:
    """Posts written before the Mois, for the November dates these tests place on the calendar."""
    return _create_post(*args, now=BEFORE_THE_MOIS, **kwargs)


@pytest.fixture
def settings() -> Settings:
    return Settings()


def _items(period) -> dict[date, list]:  # type: ignore[no-untyped-def]
    return {cell.day: cell.items for week in period.weeks for cell in week}


def test_the_calendar_puts_items_on_their_local_day(session: Session, settings: Settings) -> None:
    # 23:30 UTC on 4 November is 00:30 on 5 November in Paris.
    create_post(
        session,
        settings,
        account="mois_ess",
        text="Minuit passé",
        scheduled_at=datetime(2026, 11, 4, 23, 30, tzinfo=UTC),
    )
    month = build_period(session, settings, "month", DAY)
    assert month.first == date(2026, 11, 1)
    assert month.weeks[0][0].day == date(2026, 10, 26)  # weeks start on Monday
    days = _items(month)
    assert [item.title for item in days[DAY]] == ["Minuit passé"]
    assert days[date(2026, 11, 4)] == []
    assert month.count == 1
    week = build_period(session, settings, "week", DAY)
    assert week.first == date(2026, 11, 2) and len(week.weeks) == 1
    assert build_period(session, settings, "week", DAY, account="prix_ess").count == 0
    assert build_period(session, settings, "week", DAY, account="newsletters").count == 0
    assert week.next == DAY - timedelta(days=3) + timedelta(days=7)


def test_what_went_out_without_a_time_is_shown_when_it_went_out(
    session: Session, settings: Settings
) -> None:
    post = create_post(session, settings, account="mois_ess", text="Tout de suite")
    post.status = PostStatus.published
    post.published_at = datetime(2026, 11, 5, 10, tzinfo=PARIS)
    session.add(post)
    session.commit()
    (item,) = _items(build_period(session, settings, "week", DAY))[DAY]
    assert (item.kind, item.status, item.pending) == ("post", "published", False)


def test_missed_items_carry_their_reason_and_may_be_given_a_new_time(
    session: Session, settings: Settings
) -> None:
    add_subscriber(session, "a@example.org", list_names=["Presse"], actor="test")
    newsletter = create_newsletter(
        session,
        title="Lettre manquée",
        subject="S",
        template="mois-ess",
        list_names=["Presse"],
        taxonomy=Taxonomy.from_settings(),
    )
    newsletter.scheduled_at = datetime(2026, 11, 5, 9, tzinfo=PARIS)
    newsletter.status = NewsletterStatus.missed
    newsletter.status_reason = "missed 05/11/2026 09:00 by 3 h"
    post = create_post(
        session,
        settings,
        account="mois_ess",
        text="Publication manquée",
        scheduled_at=datetime(2026, 11, 5, 12, 30, tzinfo=PARIS),
    )
    post.status = PostStatus.missed
    post.last_error = "missed 05/11/2026 12:30 by 1 h"
    session.add_all([newsletter, post])
    session.commit()
    items = _items(build_period(session, settings, "month", DAY))[DAY]
    assert [(i.kind, i.status, i.pending) for i in items] == [
        ("newsletter", "missed", True),
        ("post", "missed", True),
    ]
    assert items[0].note.startswith("missed 05/11/2026 09:00")
    assert items[1].note.startswith("missed 05/11/2026 12:30")
    # Listed whatever the month shown, so that nothing missed goes unseen.
    assert [(m.kind, m.id) for m in missed_items(session, settings)] == [
        ("newsletter", newsletter.id),
        ("post", post.id),
    ]


def test_a_partly_published_or_cancelled_post_cannot_be_dragged(
    session: Session, settings: Settings
) -> None:
    at = datetime(2026, 11, 5, 9, tzinfo=PARIS)
    partly = create_post(session, settings, account="mois_ess", text="Un fil", scheduled_at=at)
    partly.remote_ids = ["1"]
    session.add(partly)
    session.commit()
    cancelled = create_post(session, settings, account="mois_ess", text="Annulée", scheduled_at=at)
    cancel_post(session, cancelled.id)
    pending = create_post(session, settings, account="mois_ess", text="Prévue", scheduled_at=at)
    items = {i.id: i for i in _items(build_period(session, settings, "week", DAY))[DAY]}
    assert (items[partly.id].pending, items[cancelled.id].pending) == (False, False)
    assert items[pending.id].pending


def test_the_runs_of_recurring_jobs_are_shown_with_everything_only(
    session: Session, settings: Settings
) -> None:
    zone = settings.zone
    today = utcnow().astimezone(zone).date()
    monday = today + timedelta(days=7 - today.weekday())  # next week, all of it to come
    session.add(
        RecurringJob(
            schedule_key="mois-ess-2026/mesures-hebdo",
            kind="sync-metrics",
            spec={"days": [0, 3], "times": ["08:00"]},
        )
    )
    session.commit()
    week = _items(build_period(session, settings, "week", monday))
    runs = [(day, item) for day, items in week.items() for item in items]
    assert [(day.weekday(), item.kind, item.title) for day, item in runs] == [
        (0, "recurring", "mesures-hebdo"),
        (3, "recurring", "mesures-hebdo"),
    ]
    assert runs[0][1].at == datetime.combine(monday, time(8), tzinfo=zone)
    assert build_period(session, settings, "week", monday, account="mois_ess").count == 0


def test_the_planner_lists_the_day_s_event_posts_of_one_account(
    session: Session, settings: Settings
) -> None:
    event = Event(source_id="E1", title="Forum", starts_at=datetime(2026, 11, 5, 18, tzinfo=PARIS))
    session.add(event)
    session.commit()
    at = datetime(2026, 11, 5, 9, tzinfo=PARIS)
    featured = create_post(
        session, settings, account="mois_ess", text="A", scheduled_at=at, event_ids=[event.id]
    )
    create_post(session, settings, account="mois_ess", text="Sans évènement", scheduled_at=at)
    create_post(
        session, settings, account="prix_ess", text="B", scheduled_at=at, event_ids=[event.id]
    )
    late = create_post(
        session,
        settings,
        account="mois_ess",
        text="C",
        scheduled_at=datetime(2026, 11, 5, 23, 59, tzinfo=PARIS),
        event_ids=[event.id],
    )
    cancelled = create_post(
        session, settings, account="mois_ess", text="D", scheduled_at=at, event_ids=[event.id]
    )
    cancel_post(session, cancelled.id)
    listed = day_event_posts(session, PARIS, DAY, "mois_ess")
    assert [post.id for post in listed] == [featured.id, late.id]
