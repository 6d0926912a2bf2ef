"""Publishing through tweepy to a real HTTP server that plays X: posts, threads, errors, dry run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Post, PostStatus
from campaign.social import TransportError
from campaign.social.dryrun import DryRunTransport
from campaign.social.networks import missing_credentials, transport_for
from campaign.social.posts import (
    RetryLater,
    create_post,
    due_post_ids,
    edit_post,
    list_posts,
    publish_post,
)
from campaign.social.x import XTransport, problem_of

from .conftest import (
    USERS,
    FakeX,
    Slow,
    credits_exhausted,
    duplicate,
    no_write_permission,
    rate_limited,
    reply_refused,
    server_error,
)

LONG = " ".join(
    f"Le {day} novembre, rendez-vous en région pour découvrir l'économie sociale et solidaire."
    for day in range(1, 9)
)


def transport(settings: Settings, retries: int = 2, read_timeout: float = 5.0) -> XTransport:
    chosen = transport_for(
        settings, "mois_ess", retries=retries, backoff=0, timeout=(2.0, read_timeout)
    )
    assert isinstance(chosen, XTransport)
    return chosen


def test_publish_one_post_signed_with_oauth1(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text="Le Mois de l'ESS commence !")
    assert post.status == PostStatus.draft
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert published.status == PostStatus.published
    assert published.remote_ids == ["1001"]
    assert not published.dry_run
    assert published.published_at is not None
    assert fake_x.tweets() == [{"text": "Le Mois de l'ESS commence !"}]
    request = fake_x.requests[0]
    assert (request.method, request.path) == ("POST", "/2/tweets")
    assert request.user_id == "42"  # the double verified the HMAC-SHA1 signature
    assert 'oauth_consumer_key="ck-app"' in request.headers["Authorization"]


def test_publish_accepts_an_engine_as_the_scheduler_passes_it(
    engine, session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text="Depuis le planificateur")
    published = publish_post(engine, post.id, x_settings, transport=transport(x_settings))
    assert published.status == PostStatus.published
    session.refresh(post)
    assert post.remote_ids == published.remote_ids == ["1001"]


def test_a_wrong_secret_is_refused_by_the_signature_check(
    session: Session, x_settings: Settings, fake_x: FakeX, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN_SECRET", "not-the-secret")
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError, match=r"refused the credentials \(401: bad signature\)"):
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert fake_x.created == []


def test_thread_replies_to_the_previous_part(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text=LONG, split=True)
    assert len(post.parts) == 3
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert published.remote_ids == ["1001", "1002", "1003"]
    bodies = fake_x.tweets()
    assert "reply" not in bodies[0]
    assert bodies[1]["reply"] == {"in_reply_to_tweet_id": "1001"}
    assert bodies[2]["reply"] == {"in_reply_to_tweet_id": "1002"}
    assert [body["text"] for body in bodies] == post.parts


def test_server_error_then_success_publishes_once(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.on("POST /2/tweets", server_error(500))
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert published.status == PostStatus.published
    assert len(fake_x.calls("POST /2/tweets")) == 2
    assert len(fake_x.created) == 1
    # A 500 leaves the outcome open: the account's posts were read before sending again.
    assert len(fake_x.calls("GET /2/users/:id/tweets")) == 1


def test_server_errors_are_retried_after_waits_that_double(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """The transport's own backoff (2 s by default), recorded instead of slept."""
    waits: list[float] = []
    chosen = transport_for(x_settings, "mois_ess", retries=3, sleep=waits.append)
    assert isinstance(chosen, XTransport) and chosen.backoff == 2.0
    fake_x.on("POST /2/tweets", server_error(500))
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    published = publish_post(session, post.id, x_settings, transport=chosen)
    assert published.status == PostStatus.published
    assert waits == [2.0]  # one wait between the 500 and the retry that went through
    assert len(fake_x.created) == 1

    waits.clear()
    fresh = transport_for(x_settings, "mois_ess", retries=3, sleep=waits.append)  # no user id yet
    fake_x.on("POST /2/tweets", server_error(500), server_error(503))
    fake_x.on("GET /2/users/me", server_error(502))  # looking for the post is retried too
    second = create_post(session, x_settings, account="mois_ess", text="Bonsoir")
    published = publish_post(session, second.id, x_settings, transport=fresh)
    assert published.status == PostStatus.published
    # create: 500, wait 2; find the post: who am I? 502, wait 2, then nothing found; create:
    # 503, wait 4; find again: nothing; create: done.
    assert waits == [2.0, 2.0, 4.0]
    assert [tweet["text"] for tweet in fake_x.created] == ["Bonjour", "Bonsoir"]


def test_thread_failing_half_way_resumes_without_double_posting(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text=LONG, split=True)
    fake_x.on("POST /2/tweets", None, server_error(503), server_error(503))  # part 1 goes
    with pytest.raises(TransportError) as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings, retries=1))
    assert not caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.scheduled  # the service tries again by itself, later
    assert post.not_before is not None
    assert post.remote_ids == ["1001"]
    assert "503" in post.last_error
    assert post.uncertain_since is not None  # part 2 may be on X: look before sending it

    published = publish_post(
        session, post.id, x_settings, transport=transport(x_settings), now=post.not_before
    )
    assert published.remote_ids == ["1001", "1002", "1003"]
    assert [tweet["text"] for tweet in fake_x.created] == post.parts
    assert fake_x.created[1]["reply_to"] == "1001"
    assert published.attempts == 2
    assert published.uncertain_since is None

    before = len(fake_x.requests)
    again = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert again.status == PostStatus.published
    assert len(fake_x.requests) == before  # never published twice


def test_timeout_after_the_post_went_through_is_not_posted_again(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    text = "Programme du jour : https://lemois-ess.example.org/programme & plus encore"
    fake_x.on("POST /2/tweets", Slow(1.5, creates=True))
    post = create_post(session, x_settings, account="mois_ess", text=text)
    published = publish_post(
        session, post.id, x_settings, transport=transport(x_settings, read_timeout=0.4)
    )
    assert published.status == PostStatus.published
    assert len(fake_x.created) == 1  # X has it once
    assert published.remote_ids == [fake_x.created[0]["id"]]
    assert len(fake_x.calls("POST /2/tweets")) == 1  # found among the recent posts, not resent
    # X gave the text back with a t.co link and &amp;: matched all the same.
    assert len(fake_x.calls("GET /2/users/:id/tweets")) == 1


def test_timeout_when_the_post_did_not_go_through_sends_it_once(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.on("POST /2/tweets", Slow(1.5, creates=False))
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour la Bretagne !")
    published = publish_post(
        session, post.id, x_settings, transport=transport(x_settings, read_timeout=0.4)
    )
    assert published.status == PostStatus.published
    assert len(fake_x.created) == 1
    assert len(fake_x.calls("POST /2/tweets")) == 2
    assert len(fake_x.calls("GET /2/users/:id/tweets")) == 1


def test_uncertain_outcome_survives_a_failed_check_and_is_checked_next_time(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """Time-out, then X refuses to list the posts (rate limit): nothing is resent blindly."""
    reset = int(time.time()) + 60
    fake_x.on("POST /2/tweets", Slow(1.5, creates=True))
    fake_x.on("GET /2/users/42/tweets", rate_limited(reset))
    post = create_post(session, x_settings, account="mois_ess", text="Journée régionale")
    with pytest.raises(TransportError) as caught:
        publish_post(
            session, post.id, x_settings, transport=transport(x_settings, read_timeout=0.4)
        )
    assert caught.value.uncertain
    session.refresh(post)
    assert post.status == PostStatus.scheduled  # retried after the reset
    assert post.not_before == datetime.fromtimestamp(reset, UTC)
    assert post.uncertain_since is not None
    assert "may be on X already" in post.last_error

    later = datetime.fromtimestamp(reset + 1, UTC)
    published = publish_post(
        session, post.id, x_settings, transport=transport(x_settings), now=later
    )
    assert published.remote_ids == [fake_x.created[0]["id"]]
    assert len(fake_x.created) == 1
    assert len(fake_x.calls("POST /2/tweets")) == 1


def test_duplicate_content_fails_with_a_clear_reason(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.on("POST /2/tweets", duplicate())
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError) as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert "duplicate content" in post.last_error
    assert len(fake_x.requests) == 1  # a permanent refusal is not retried


def test_forbidden_for_lack_of_write_permission_says_how_to_fix_it(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.on("POST /2/tweets", no_write_permission())
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError) as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert post.last_error == str(caught.value)
    assert post.last_error.startswith(
        "@Mois_ESS: X forbade this account to publish a post (403 Forbidden: Your client app "
        "is not configured with the appropriate oauth1 app permissions for this endpoint). "
    )
    assert 'set the app\'s permissions to "Read and write"' in post.last_error
    assert "regenerate this account's access token and secret" in post.last_error
    assert "duplicate" not in post.last_error
    assert len(fake_x.requests) == 1  # a permanent refusal is not retried
    assert fake_x.created == []


def test_forbidden_to_read_points_at_the_access_level_not_the_write_permission(
    x_settings: Settings, fake_x: FakeX
) -> None:
    detail = "When authenticating requests to the Twitter API v2 endpoints, you must use keys"
    fake_x.on("GET /2/users/me", (403, {}, {"title": "Forbidden", "detail": detail}))
    with pytest.raises(TransportError) as caught:
        transport(x_settings).account()
    assert caught.value.permanent
    assert str(caught.value) == (
        f"@Mois_ESS: X forbade this account to read the account (403 Forbidden: {detail}). X "
        "lets only some access levels read this: check the app's plan in the X developer portal."
    )


def test_rate_limit_keeps_the_post_scheduled_until_the_reset(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    reset = int(time.time()) + 900
    fake_x.on("POST /2/tweets", rate_limited(reset))
    at = datetime.now(UTC) + timedelta(minutes=5)
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour", scheduled_at=at)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert time.monotonic() - started < 5  # not slept on inside the call
    assert not caught.value.permanent
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    session.refresh(post)
    assert post.status == PostStatus.scheduled
    assert post.not_before == datetime.fromtimestamp(reset, UTC)
    assert "rate limit" in post.last_error
    assert len(fake_x.requests) == 1  # not retried blindly

    # Before the reset, nobody tries again: not the scheduler, not `post publish`.
    due_time = at + timedelta(minutes=1)
    assert due_post_ids(session, now=due_time) == []
    with pytest.raises(RetryLater):
        publish_post(session, post.id, x_settings, now=due_time)
    assert len(fake_x.requests) == 1

    after = datetime.fromtimestamp(reset + 1, UTC)
    assert due_post_ids(session, now=after) == [post.id]
    published = publish_post(
        session, post.id, x_settings, transport=transport(x_settings), now=after
    )
    assert published.status == PostStatus.published
    assert published.not_before is None


def test_bad_credentials_are_a_permanent_clear_error(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.on("POST /2/tweets", (401, {}, {"title": "Unauthorized", "status": 401}))
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError, match="refused the credentials") as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert caught.value.permanent
    assert "cs-app" not in str(caught.value)  # secrets never appear in messages


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
    published = publish_post(session, post.id, x_settings)
    assert published.status == PostStatus.published
    assert published.dry_run
    assert len(published.remote_ids) == 3
    assert fake_x.requests == []


def test_a_cancelled_post_is_never_published(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text="Annulé")
    post.status = PostStatus.cancelled
    session.add(post)
    session.commit()
    with pytest.raises(CampaignError, match="cancelled"):
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert fake_x.requests == []


def test_an_abandoned_claim_is_checked_on_x_before_resuming(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """A process crashed after X created the post but before the id was stored."""
    post = create_post(session, x_settings, account="mois_ess", text="Reprise après panne")
    crashed = transport(x_settings)
    crashed.client.create_tweet(text=post.parts[0], user_auth=True)  # sent, never recorded
    post.status = PostStatus.publishing
    post.updated_at = datetime.now(UTC) - timedelta(minutes=15)
    session.add(post)
    session.commit()
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert published.remote_ids == ["1001"]
    assert len(fake_x.created) == 1


def test_account_figures_and_metrics(x_settings: Settings, fake_x: FakeX) -> None:
    chosen = transport(x_settings)
    account = chosen.account()
    assert (account.username, account.followers, account.posts) == (
        "Mois_ESS",
        USERS["42"]["followers"],
        USERS["42"]["posts"],
    )
    fake_x.known_posts |= {"1", "2"}
    figures = chosen.fetch_metrics(["1", "2", "404"])
    assert set(figures) == {"1", "2"}
    assert figures["2"].impressions == 840
    assert figures["1"].likes == 12


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
        session, x_settings, account="prix_ess", text="Prix ESS", scheduled_at=later,
        now=later - timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(CampaignError, match="already past"):
        create_post(session, x_settings, account="prix_ess", text="Trop tard", scheduled_at=later,
                    now=later)  # fmt: skip
    assert scheduled.status == PostStatus.scheduled
    assert list_posts(session)[0].id == scheduled.id
    assert [post.account for post in list_posts(session, account="prix_ess")] == ["prix_ess"]
    assert isinstance(session.get(Post, scheduled.id), Post)


LONG_URL = (
    "https://lemois-ess.example.org/programme/2026/novembre/bretagne/rennes/"
    "atelier-habitat-participatif?utm_source=x&utm_campaign=mois-ess"
)
FULL = (
    "Ce soir, à Rennes 🎉 atelier coopératif sur l'habitat participatif : comment se loger "
    "autrement, à plusieurs ? Des habitantes et habitants racontent leur projet, de l'idée aux "
    f"clés ! Entrée libre et gratuite, inscription conseillée ici : {LONG_URL} #MoisESS #Bretagne"
)


def test_a_post_of_exactly_280_weighted_characters_goes_through_and_281_does_not(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    # X's rules, counted by hand: the link weighs 23 whatever its length, the emoji 2, every
    # other character here (accents included) 1.
    assert len(LONG_URL) > 100 and len(FULL) > 280
    assert len(FULL) - len(LONG_URL) + 23 + 1 == 280
    post = create_post(session, x_settings, account="mois_ess", text=FULL)
    assert post.parts == [FULL]  # one post, not cut into a thread
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert published.status == PostStatus.published
    assert [tweet["text"] for tweet in fake_x.created] == [FULL]  # the double accepted it

    before = len(fake_x.requests)
    one_more = FULL.replace("clés !", "clés !!")
    with pytest.raises(CampaignError, match="is 281 characters long as X counts them, 1 too many"):
        create_post(session, x_settings, account="mois_ess", text=one_more)
    draft = create_post(session, x_settings, account="mois_ess", text="Brouillon")
    with pytest.raises(CampaignError, match="281 characters long as X counts them, 1 too many"):
        edit_post(session, x_settings, draft.id, text=one_more)  # nor by editing a draft
    session.refresh(draft)
    assert draft.parts == ["Brouillon"]
    with pytest.raises(CampaignError) as published_one:
        edit_post(session, x_settings, post.id, text="Autre chose")
    assert str(published_one.value) == (
        f"Post {post.id} is published: only posts not yet published can be edited."
    )
    assert len(fake_x.requests) == before  # refused before any request to X


def test_a_refused_connection_is_retried_without_looking_for_the_post(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """Nothing reached X, so nothing can have been published: no check, no uncertainty."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    x_settings.social.x.api_base_url = f"http://127.0.0.1:{closed}"
    post = create_post(session, x_settings, account="mois_ess", text="Bonjour")
    with pytest.raises(TransportError, match="could not connect to X") as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings, retries=1))
    assert not caught.value.uncertain and not caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.scheduled  # tried again later by the service
    assert post.uncertain_since is None


def test_the_default_host_is_api_x_com(x_settings: Settings) -> None:
    """The server of X's specification; api.twitter.com is only what tweepy calls, rebased."""
    assert Settings().social.x.api_base_url == "https://api.x.com"
    assert XTransport("Mois_ESS", ("a", "b", "c", "d")).client.session.base_url == (
        "https://api.x.com"
    )


def test_credits_exhausted_keeps_the_thread_to_be_retried_an_hour_later(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    now = datetime(2026, 11, 3, 9, 30, 12, tzinfo=UTC)
    chosen = transport_for(x_settings, "mois_ess", retries=2, backoff=0, clock=lambda: now)
    post = create_post(
        session, x_settings, account="mois_ess", text=LONG, split=True, scheduled_at=now,
        now=now - timedelta(minutes=1),
    )  # fmt: skip
    fake_x.on("POST /2/tweets", None, credits_exhausted())  # part 1 goes, then credits run out
    with pytest.raises(TransportError) as caught:
        publish_post(session, post.id, x_settings, transport=chosen, now=now)
    assert not caught.value.permanent
    retry_at = datetime(2026, 11, 3, 10, 30, 12, tzinfo=UTC)
    assert caught.value.retry_at == retry_at
    session.refresh(post)
    assert post.status == PostStatus.scheduled  # not failed for good
    assert post.not_before == retry_at
    assert post.remote_ids == ["1001"]
    assert post.last_error == (
        "@Mois_ESS: X refused the post: the account's API credits are exhausted (402); top up "
        "the developer account, the post will be retried after 2026-11-03 10:30 UTC."
    )
    assert problem_of(post.last_error) == "credits"  # what the dashboard words in French
    assert len(fake_x.calls("POST /2/tweets")) == 2  # a 402 is not retried on the spot

    assert due_post_ids(session, now=now + timedelta(minutes=59)) == []
    assert due_post_ids(session, now=retry_at) == [post.id]
    published = publish_post(session, post.id, x_settings, transport=chosen, now=retry_at)
    assert published.status == PostStatus.published
    assert published.remote_ids == ["1001", "1002", "1003"]
    assert [tweet["text"] for tweet in fake_x.created] == post.parts


def test_a_refused_reply_stops_the_thread_with_x_s_reason(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    post = create_post(session, x_settings, account="mois_ess", text=LONG, split=True)
    fake_x.on("POST /2/tweets", None, reply_refused())
    with pytest.raises(TransportError) as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert caught.value.permanent
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert post.remote_ids == ["1001"]  # the first part stays published
    assert post.last_error.startswith(
        "@Mois_ESS: X refused this reply: Reply to this conversation is not allowed because you "
        "have not been mentioned or otherwise engaged by the author of the post you are "
        "replying to (403). "
    )
    assert "the rest of the thread is not published" in post.last_error
    assert "permission" not in post.last_error and "Read and write" not in post.last_error
    assert problem_of(post.last_error) == "reply"
    assert len(fake_x.calls("POST /2/tweets")) == 2  # not retried, part 3 not sent
    assert [tweet["id"] for tweet in fake_x.created] == ["1001"]


def test_a_reply_that_went_through_is_found_under_the_newest_field_names(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """After a time-out the account's posts are read; X 2.167 says referenced_posts."""
    fake_x.new_names = True
    post = create_post(session, x_settings, account="mois_ess", text=LONG, split=True)
    fake_x.on("POST /2/tweets", None, Slow(1.5, creates=True))  # part 2 goes, answer lost
    published = publish_post(
        session, post.id, x_settings, transport=transport(x_settings, read_timeout=0.4)
    )
    assert published.status == PostStatus.published
    assert [tweet["text"] for tweet in fake_x.created] == post.parts  # each part once
    assert published.remote_ids == [tweet["id"] for tweet in fake_x.created]
    (lookup,) = fake_x.calls("GET /2/users/:id/tweets")
    assert "tweet.fields" in lookup.query  # the query keeps the name every version takes
