"""Publishing through tweepy to a real HTTP server that plays X: posts, threads, errors, dry run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import PostStatus
from campaign.social import TransportError
from campaign.social.dryrun import DryRunTransport
from campaign.social.posts import create_post, list_posts, publish_post
from campaign.social.x import XTransport, missing_credentials, transport_for

from .conftest import FakeX, duplicate, rate_limited, server_error

LONG = " ".join(
    f"Le {day} novembre, rendez-vous en région pour découvrir l'économie sociale et solidaire."
    for day in range(1, 9)
)


def transport(settings: Settings, retries: int = 2) -> XTransport:
    chosen = transport_for(settings, "mois_ess", retries=retries, backoff=0)
    assert isinstance(chosen, XTransport)
    return chosen


def test_publish_one_post_signed_with_oauth1(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text="Le Mois de l'ESS commence !")
    assert post.status == PostStatus.draft
    published = publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert published.status == PostStatus.published
    assert published.remote_ids == ["1001"]
    assert not published.dry_run
    assert published.published_at is not None
    assert fake_x.tweets() == [{"text": "Le Mois de l'ESS commence !"}]
    method, path, headers, _ = fake_x.requests[0]
    assert (method, path) == ("POST", "/2/tweets")
    assert 'oauth_consumer_key="ck-mois"' in headers["Authorization"]
    assert "oauth_signature=" in headers["Authorization"]


def test_thread_replies_to_the_previous_part(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text=LONG, split=True)
    assert len(post.parts) == 3
    published = publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert published.remote_ids == ["1001", "1002", "1003"]
    bodies = fake_x.tweets()
    assert "reply" not in bodies[0]
    assert bodies[1]["reply"] == {"in_reply_to_tweet_id": "1001"}
    assert bodies[2]["reply"] == {"in_reply_to_tweet_id": "1002"}
    assert [body["text"] for body in bodies] == post.parts


def test_server_error_is_retried(session: Session, x_settings: Settings, fake_x: FakeX) -> None:
    fake_x.plan = [server_error()]
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    published = publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert published.status == PostStatus.published
    assert len(fake_x.requests) == 2
    assert len(fake_x.created) == 1


def test_thread_failing_half_way_resumes_without_double_posting(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text=LONG, split=True)
    fake_x.plan = [None, server_error(), server_error()]
    with pytest.raises(TransportError) as caught:
        publish_post(session, x_settings, post.id, transport=transport(x_settings, retries=1))
    assert not caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert post.remote_ids == ["1001"]
    assert "500" in post.last_error

    published = publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert published.remote_ids == ["1001", "1002", "1003"]
    assert [tweet["text"] for tweet in fake_x.created] == post.parts
    assert fake_x.created[1]["reply"] == {"in_reply_to_tweet_id": "1001"}
    assert published.attempts == 2

    before = len(fake_x.requests)
    again = publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert again.status == PostStatus.published
    assert len(fake_x.requests) == before  # never published twice


def test_duplicate_content_fails_with_a_clear_reason(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.plan = [duplicate()]
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError) as caught:
        publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert "duplicate content" in post.last_error
    assert len(fake_x.requests) == 1  # a permanent refusal is not retried


def test_rate_limit_gives_the_reset_time(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    reset = int(time.time()) + 900
    fake_x.plan = [rate_limited(reset)]
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError) as caught:
        publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert not caught.value.permanent
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert "rate limit" in str(caught.value)
    assert len(fake_x.requests) == 1  # not slept on, not retried blindly
    published = publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert published.status == PostStatus.published


def test_bad_credentials_are_a_permanent_clear_error(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.plan = [(401, {}, {"title": "Unauthorized", "status": 401})]
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError, match="refused the credentials") as caught:
        publish_post(session, x_settings, post.id, transport=transport(x_settings))
    assert caught.value.permanent
    assert "cs-mois" not in str(caught.value)  # secrets never appear in messages


def test_dry_run_without_credentials_sends_nothing(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    missing = missing_credentials(x_settings, x_settings.social.accounts["prix_ess"])
    assert missing == [
        "CAMPAIGN_X_PRIX_ESS_CONSUMER_KEY",
        "CAMPAIGN_X_PRIX_ESS_CONSUMER_SECRET",
        "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN",
        "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET",
    ]
    assert isinstance(transport_for(x_settings, "prix_ess"), DryRunTransport)
    post = create_post(session, x_settings, account="prix_ess", text=LONG, split=True)
    published = publish_post(session, x_settings, post.id)
    assert published.status == PostStatus.published
    assert published.dry_run
    assert len(published.remote_ids) == 3
    assert fake_x.requests == []


def test_account_figures_and_metrics(x_settings: Settings, fake_x: FakeX) -> None:
    chosen = transport(x_settings)
    account = chosen.account()
    assert (account.username, account.followers, account.posts) == ("Mois_ESS", 1234, 567)
    figures = chosen.fetch_metrics(["1", "2"])
    assert figures["2"].impressions == 99
    assert figures["1"].likes == 3


def test_create_checks_length_account_and_lists(session: Session, x_settings: Settings) -> None:
    with pytest.raises(CampaignError, match="--split"):
        create_post(session, x_settings, account="mois_ess", text=LONG)
    with pytest.raises(CampaignError, match="Unknown social account 'autre'"):
        create_post(session, x_settings, account="autre", text="Bonjour")
    with pytest.raises(CampaignError, match="empty"):
        create_post(session, x_settings, account="mois_ess", text="  ")
    url_post = "Programme complet : https://lemois-ess.org/" + "p" * 300
    assert create_post(session, x_settings, account="mois_ess", text=url_post).parts == [url_post]
    later = datetime(2026, 11, 5, 9, tzinfo=UTC)
    scheduled = create_post(
        session, x_settings, account="prix_ess", text="Prix ESS", scheduled_at=later
    )
    assert scheduled.status == PostStatus.scheduled
    assert list_posts(session)[0].id == scheduled.id
    assert [post.account for post in list_posts(session, account="prix_ess")] == ["prix_ess"]
