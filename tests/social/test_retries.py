"""The service tries a post again by itself after a network's failure, like mail deliveries,
and takes up a post left half-published by a dead process after the claim time-out.

Run against the Mastodon double: the policy lives in the posting stage, for every network.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import PostStatus, utcnow
from campaign.scheduling.actions import posts_to_resume
from campaign.social import TransportError
from campaign.social.cost import post_usage
from campaign.social.networks import transport_for
from campaign.social.posts import (
    RetryLater,
    create_post,
    problem_of,
    publish_post,
    schedule_posts,
)
from tests.social.fake_mastodon import FakeMastodon, error, serve

TOKEN_ENV = "CAMPAIGN_MASTODON_MOIS_ESS_TOKEN"


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    yield from serve()


@pytest.fixture
def settings(fake: FakeMastodon, workdir, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(TOKEN_ENV, "tok-mois")
    return Settings.model_validate(
        {
            "social": {
                "publish_retries": 2,
                "retry_backoff_minutes": 3,
                "accounts": {
                    "mois_masto": {
                        "network": "mastodon",
                        "handle": "moisess",
                        "instance_url": fake.url,
                        "access_token_env": TOKEN_ENV,
                    }
                },
            }
        }
    )


def publish(session: Session, settings: Settings, post_id: int, **kwargs):
    """Publish with the transport's own retries off, so each call is one try of the service."""
    chosen = transport_for(settings, "mois_masto", retries=0, sleep=lambda _s: None)
    return publish_post(session, post_id, settings, transport=chosen, **kwargs)


def test_a_post_is_checked_by_its_account_s_network(session: Session, settings: Settings) -> None:
    text = "Le Mois de l'ESS, c'est maintenant. " * 11  # ~400 characters: one status, not X
    post = create_post(session, settings, account="mois_masto", text=text)
    assert post.parts == [text.strip()]
    with pytest.raises(CampaignError, match="as Mastodon counts them, 42 too many"):
        create_post(session, settings, account="mois_masto", text="a" * 542)


def test_server_errors_are_tried_again_with_a_doubling_wait_then_failed_with_the_reason(
    session: Session, settings: Settings, fake: FakeMastodon
) -> None:
    fake.on("POST /api/v1/statuses", *[error(503, "Service Unavailable")] * 3)
    post = create_post(session, settings, account="mois_masto", text="Bonjour")
    waits = []
    for _try in range(2):
        started = utcnow()
        with pytest.raises(TransportError):
            publish(session, settings, post.id, now=post.not_before)
        session.refresh(post)
        assert post.status == PostStatus.scheduled
        waits.append(round((post.not_before - started).total_seconds() / 60))
        assert problem_of(post.last_error) == "retry"
        with pytest.raises(RetryLater):  # not before its time
            publish(session, settings, post.id)
    assert waits == [3, 6]
    with pytest.raises(TransportError):
        publish(session, settings, post.id, now=post.not_before)
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert post.attempts == 3
    assert "503" in post.last_error and "Given up after 3 tries" in post.last_error
    assert fake.created() == []


def test_a_retry_that_succeeds_publishes_once(
    session: Session, settings: Settings, fake: FakeMastodon
) -> None:
    fake.on("POST /api/v1/statuses", error(502, "Bad Gateway"))
    post = create_post(session, settings, account="mois_masto", text="Une fois")
    with pytest.raises(TransportError):
        publish(session, settings, post.id)
    session.refresh(post)
    published = publish(session, settings, post.id, now=post.not_before)
    assert published.status == PostStatus.published
    assert [status["text_sent"] for status in fake.created()] == ["Une fois"]
    keys = {call.headers["Idempotency-Key"] for call in fake.calls("POST /api/v1/statuses")}
    assert len(keys) == 1  # both tries of the stored post carry the same key


def test_a_refusal_fails_at_once(session: Session, settings: Settings, fake: FakeMastodon) -> None:
    fake.on("POST /api/v1/statuses", error(422, "Validation failed: Text is a spam"))
    post = create_post(session, settings, account="mois_masto", text="Bonjour")
    with pytest.raises(TransportError):
        publish(session, settings, post.id)
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert "Text is a spam" in post.last_error and problem_of(post.last_error) == ""


def test_a_failed_post_published_again_by_a_person_gets_its_tries_afresh(
    session: Session, settings: Settings, fake: FakeMastodon
) -> None:
    fake.on("POST /api/v1/statuses", error(422, "refused"), error(503, "down"))
    post = create_post(session, settings, account="mois_masto", text="Bonjour")
    for _ in range(2):
        with pytest.raises(TransportError):
            publish(session, settings, post.id)
    session.refresh(post)
    assert post.attempts == 1  # a new count: the 503 is tried again by the service
    assert post.status == PostStatus.scheduled


def test_an_abandoned_claim_is_taken_up_after_the_configured_time_out(
    session: Session, settings: Settings
) -> None:
    post = create_post(session, settings, account="mois_masto", text="Bonjour")
    post.status = PostStatus.publishing
    post.updated_at = utcnow() - timedelta(minutes=5)
    session.add(post)
    session.commit()
    assert posts_to_resume(session, settings) == []  # 10 minutes by default
    settings.social.claim_timeout_minutes = 4
    assert posts_to_resume(session, settings) == [post.id]


def test_posts_on_mastodon_cost_no_x_credits(session: Session, settings: Settings) -> None:
    at = utcnow() + timedelta(days=1)
    text = "Programme : https://www.lemois-ess.org/programme"
    post = create_post(session, settings, account="mois_masto", text=text, scheduled_at=at)
    assert post_usage(post, "x").posts_with_url == 1  # the same post on X would be billed
    result = schedule_posts(session, settings, [post.id])
    assert result.estimate is not None and result.estimate.amount == 0
