"""Giving a post a new time (the dashboard calendar's move), and the events already featured."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Event, PostStatus
from campaign.social.planning import featured_event_ids
from campaign.social.posts import cancel_post, create_post, reschedule_post

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 2, 10, tzinfo=PARIS)


@pytest.fixture
def settings() -> Settings:
    return Settings()


def test_a_draft_moves_and_stays_a_draft_a_scheduled_post_stays_scheduled(
    session: Session, settings: Settings
) -> None:
    draft = create_post(
        session,
        settings,
        account="mois_ess",
        text="Brouillon",
        scheduled_at=NOW,
        draft=True,
        now=NOW - timedelta(hours=1),
    )
    scheduled = create_post(
        session,
        settings,
        account="mois_ess",
        text="Prévu",
        scheduled_at=NOW,
        now=NOW - timedelta(hours=1),
    )
    later = NOW + timedelta(days=1)
    assert reschedule_post(session, settings, draft.id, later, now=NOW).status == PostStatus.draft
    moved = reschedule_post(session, settings, scheduled.id, later, now=NOW)
    assert moved.status == PostStatus.scheduled and moved.scheduled_at == later


def test_a_missed_post_is_scheduled_again_by_a_time_to_come(
    session: Session, settings: Settings
) -> None:
    post = create_post(
        session,
        settings,
        account="mois_ess",
        text="Manqué",
        scheduled_at=NOW,
        now=NOW - timedelta(hours=1),
    )
    post.status = PostStatus.missed
    post.last_error = "missed 02/11/2026 10:00 by 3 h"
    session.add(post)
    session.commit()
    later = NOW + timedelta(hours=5)
    moved = reschedule_post(session, settings, post.id, later, now=NOW + timedelta(hours=3))
    assert moved.status == PostStatus.scheduled
    assert moved.scheduled_at == later and moved.last_error == ""


def test_a_past_time_is_refused_and_nothing_changes(session: Session, settings: Settings) -> None:
    post = create_post(
        session,
        settings,
        account="mois_ess",
        text="Prévu",
        scheduled_at=NOW,
        now=NOW - timedelta(hours=1),
    )
    post.status = PostStatus.missed
    session.add(post)
    session.commit()
    with pytest.raises(CampaignError, match="already past"):
        reschedule_post(session, settings, post.id, NOW - timedelta(minutes=5), now=NOW)
    session.refresh(post)
    assert post.status == PostStatus.missed and post.scheduled_at == NOW


def test_a_published_or_cancelled_post_cannot_be_moved(
    session: Session, settings: Settings
) -> None:
    post = create_post(
        session,
        settings,
        account="mois_ess",
        text="Prévu",
        scheduled_at=NOW,
        now=NOW - timedelta(hours=1),
    )
    cancel_post(session, post.id)
    with pytest.raises(CampaignError, match="cancelled"):
        reschedule_post(session, settings, post.id, NOW + timedelta(days=1), now=NOW)


def test_events_featured_are_those_of_posts_not_cancelled(
    session: Session, settings: Settings
) -> None:
    events = [Event(source_id=f"E{n}", title=f"E{n}", starts_at=NOW) for n in range(3)]
    session.add_all(events)
    session.commit()
    kept = create_post(
        session, settings, account="mois_ess", text="Un", event_ids=[events[0].id, events[1].id]
    )
    dropped = create_post(
        session, settings, account="mois_ess", text="Deux", event_ids=[events[2].id]
    )
    cancel_post(session, dropped.id)
    assert featured_event_ids(session) == {events[0].id, events[1].id}
    assert kept.status == PostStatus.draft


def test_a_failed_post_is_scheduled_again_by_a_time_to_come(
    session: Session, settings: Settings
) -> None:
    post = create_post(session, settings, account="mois_ess", text="Refusé", scheduled_at=NOW,
                       now=NOW - timedelta(hours=1))  # fmt: skip
    post.status, post.last_error = PostStatus.failed, "503 Service Unavailable"
    session.add(post)
    session.commit()
    later = NOW + timedelta(hours=2)
    moved = reschedule_post(session, settings, post.id, later, now=NOW)
    assert (moved.status, moved.scheduled_at, moved.last_error) == (PostStatus.scheduled, later, "")
