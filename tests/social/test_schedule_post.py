"""One post given a time and approved at once (the post page's "Schedule"): the social stage
chooses between moving and approving, and moves before it approves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Post, PostStatus
from campaign.social.posts import create_post, schedule_post

NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(days=2)


def _post(session: Session, settings: Settings, status: str, hours: int = 1) -> Post:
    post = create_post(
        session,
        settings,
        account="mois_ess",
        text="Le Mois de l'ESS commence",
        scheduled_at=NOW + timedelta(hours=hours),
        draft=True,
    )
    post.status = status
    session.add(post)
    session.commit()
    return post


def _code(exc: pytest.ExceptionInfo[CampaignError]) -> str:
    return exc.value.messages[0].code


def test_a_draft_given_a_time_is_moved_then_approved(session: Session) -> None:
    settings = Settings()
    post = _post(session, settings, PostStatus.draft)
    result = schedule_post(session, settings, post.id, LATER, now=NOW)
    session.refresh(post)
    assert (post.status, post.scheduled_at) == (PostStatus.scheduled, LATER)
    assert result.scheduled == [post] and not result.refused
    assert result.estimate is not None  # approved: what publishing it costs


def test_a_draft_without_a_new_time_is_approved_for_its_own(session: Session) -> None:
    settings = Settings()
    post = _post(session, settings, PostStatus.draft)
    schedule_post(session, settings, post.id, now=NOW)
    session.refresh(post)
    assert (post.status, post.scheduled_at) == (PostStatus.scheduled, NOW + timedelta(hours=1))


def test_a_draft_whose_time_passed_is_refused_with_the_reason(session: Session) -> None:
    settings = Settings()
    post = _post(session, settings, PostStatus.draft, hours=-1)
    result = schedule_post(session, settings, post.id, now=NOW)
    assert result.refusals == {post.id: "past"}
    session.refresh(post)
    assert post.status == PostStatus.draft


def test_a_missed_post_given_a_time_is_moved_and_so_scheduled_again(session: Session) -> None:
    settings = Settings()
    post = _post(session, settings, PostStatus.missed)
    result = schedule_post(session, settings, post.id, LATER, now=NOW)
    session.refresh(post)
    assert (post.status, post.scheduled_at) == (PostStatus.scheduled, LATER)
    assert result.scheduled == [post] and result.estimate is None  # nothing approved


def test_a_missed_post_without_a_time_is_refused_as_an_approval(session: Session) -> None:
    settings = Settings()
    post = _post(session, settings, PostStatus.missed)
    with pytest.raises(CampaignError) as refused:
        schedule_post(session, settings, post.id, now=NOW)
    assert _code(refused) == "post.cannot_schedule"


def test_a_time_already_past_is_refused_before_anything_is_approved(session: Session) -> None:
    settings = Settings()
    post = _post(session, settings, PostStatus.draft)
    with pytest.raises(CampaignError) as refused:
        schedule_post(session, settings, post.id, NOW - timedelta(hours=1), now=NOW)
    assert _code(refused) == "schedule.time_past"
    session.refresh(post)
    assert post.status == PostStatus.draft
