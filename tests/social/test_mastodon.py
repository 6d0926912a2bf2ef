"""Publishing to Mastodon, against a local instance that checks the API as documented."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.social import Image, Outgoing, TransportError
from campaign.social.dryrun import DryRunTransport
from campaign.social.length import check_length, mastodon_length, split_thread
from campaign.social.mastodon import MastodonTransport, idempotency_key, plain_text
from campaign.social.networks import missing_credentials, transport_for
from tests.social.conftest import Slow
from tests.social.fake_mastodon import (
    FakeMastodon,
    error,
    instance_length,
    mention,
    rate_limited,
    serve,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 3
TOKEN_ENV = "CAMPAIGN_MASTODON_MOIS_ESS_TOKEN"
LONG_URL = "https://www.lemois-ess.org/evenements/2026/11/journee-portes-ouvertes-scop-" + "x" * 60


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    yield from serve()


@pytest.fixture
def settings(fake: FakeMastodon, workdir, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(TOKEN_ENV, "tok-mois")
    return Settings.model_validate(
        {
            "social": {
                "accounts": {
                    "mois_masto": {
                        "network": "mastodon",
                        "handle": "moisess",
                        "instance_url": fake.url,
                        "access_token_env": TOKEN_ENV,
                    }
                }
            }
        }
    )


def transport(settings: Settings, naps: list[float] | None = None, **options) -> MastodonTransport:
    chosen = transport_for(
        settings, "mois_masto", sleep=(naps.append if naps is not None else lambda _s: None),
        **options,
    )  # fmt: skip
    assert isinstance(chosen, MastodonTransport)
    return chosen


def photo(folder: Path) -> Image:
    path = folder / "stand.jpg"
    path.write_bytes(JPEG)
    return Image(path=str(path), alt="Un stand de coopérative", media_type="image/jpeg")


def test_an_account_without_its_token_runs_dry_and_names_the_variable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    account = settings.social.accounts["mois_masto"]
    assert missing_credentials(settings, account) == [TOKEN_ENV]
    assert isinstance(transport_for(settings, "mois_masto"), DryRunTransport)


def test_a_post_is_a_status_with_the_token_visibility_and_key(
    settings: Settings, fake: FakeMastodon
) -> None:
    ids = transport(settings).publish(Outgoing(parts=("Le Mois de l'ESS commence ! #MoisESS",)))
    [status] = fake.created()
    assert ids == [status["id"]]
    assert status["text_sent"] == "Le Mois de l'ESS commence ! #MoisESS"
    assert status["visibility"] == "public"
    [call] = fake.calls("POST /api/v1/statuses")
    assert call.headers["Authorization"] == "Bearer tok-mois"
    assert call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert call.headers["Idempotency-Key"] == idempotency_key(
        "Le Mois de l'ESS commence ! #MoisESS", None, "Le Mois de l'ESS commence ! #MoisESS"
    )


def test_images_go_to_media_v2_with_their_description_and_wait_for_processing(
    settings: Settings, fake: FakeMastodon, tmp_path: Path
) -> None:
    fake.processing_polls = 3  # 202 at upload, then 206, 206, 200
    naps: list[float] = []
    transport(settings, naps).publish(
        Outgoing(parts=("Portes ouvertes à la Scop",), images=(photo(tmp_path),), key="post-1")
    )
    [upload] = fake.calls("POST /api/v2/media")
    assert upload.form["file"] == JPEG
    assert upload.form["description"] == "Un stand de coopérative"
    assert upload.headers["Authorization"] == "Bearer tok-mois"
    assert len(fake.calls("GET /api/v1/media/:id")) == 3
    assert naps == [1.0, 1.0, 1.0]
    [status] = fake.created()
    assert [m["description"] for m in status["media_attachments"]] == ["Un stand de coopérative"]


def test_an_image_still_processing_at_the_deadline_is_not_attached(
    settings: Settings, fake: FakeMastodon, tmp_path: Path
) -> None:
    fake.processing_polls = 100
    with pytest.raises(TransportError, match=r"still processing stand\.jpg") as caught:
        transport(settings, processing_wait=3.0).publish(
            Outgoing(parts=("Texte",), images=(photo(tmp_path),))
        )
    assert not caught.value.permanent
    assert fake.created() == []


def test_a_thread_replies_to_each_previous_part_and_reports_each_id(
    settings: Settings, fake: FakeMastodon
) -> None:
    seen: list[tuple[int, str]] = []
    ids = transport(settings).publish(
        Outgoing(parts=("Un", "Deux", "Trois"), reply_to=None, key="post-2"),
        on_published=lambda index, remote: seen.append((index, remote)),
    )
    statuses = fake.created()
    assert [s["text_sent"] for s in statuses] == ["Un", "Deux", "Trois"]
    assert [s["in_reply_to_id"] for s in statuses] == [None, ids[0], ids[1]]
    assert seen == list(enumerate(ids))


def test_a_time_out_is_retried_with_the_same_key_and_the_status_is_not_doubled(
    settings: Settings, fake: FakeMastodon
) -> None:
    fake.on("POST /api/v1/statuses", Slow(delay=1.5, creates=True))
    naps: list[float] = []
    ids = transport(settings, naps, timeout=0.5).publish(
        Outgoing(parts=("Un seul statut",), key="post-3")
    )
    calls = fake.calls("POST /api/v1/statuses")
    assert len(calls) == 2
    assert calls[0].headers["Idempotency-Key"] == calls[1].headers["Idempotency-Key"]
    assert [s["id"] for s in fake.created()] == ids
    assert naps == [2.0]


def test_server_errors_are_retried_then_reported_as_uncertain(
    settings: Settings, fake: FakeMastodon
) -> None:
    fake.on("POST /api/v1/statuses", *[error(503, "Service Unavailable")] * 4)
    with pytest.raises(TransportError, match=r"instance failed \(503\).*4 attempts") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert not caught.value.permanent
    assert caught.value.uncertain  # a 5xx may come after the status was created


def test_a_rate_limit_keeps_the_instance_reset_time(settings: Settings, fake: FakeMastodon) -> None:
    reset = (datetime.now(UTC) + timedelta(minutes=7)).replace(microsecond=0)
    fake.on("POST /api/v1/statuses", rate_limited(reset))
    with pytest.raises(TransportError, match="rate limit") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert not caught.value.permanent
    assert caught.value.retry_at is not None
    assert abs((caught.value.retry_at - reset).total_seconds()) < 5
    assert len(fake.calls("POST /api/v1/statuses")) == 1  # not slept on, not retried at once


def test_a_refused_token_is_a_permanent_failure_saying_what_to_do(
    settings: Settings, fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "revoked")
    with pytest.raises(TransportError, match=r"refused the access token \(401") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert caught.value.permanent
    assert "Preferences > Development" in str(caught.value)


def test_a_refusal_of_the_text_is_permanent_with_the_instance_reason(
    settings: Settings, fake: FakeMastodon
) -> None:
    with pytest.raises(TransportError, match="character limit of 500") as caught:
        transport(settings).publish(Outgoing(parts=("a" * 501,)))
    assert caught.value.permanent
    assert len(fake.calls("POST /api/v1/statuses")) == 1


def test_a_link_counts_23_and_a_remote_mention_its_local_part_as_the_instance_counts() -> None:
    text = "a" * 440 + " @cress_idf@mastodon.social " + LONG_URL
    assert len(text) > 500
    assert mastodon_length(text) == instance_length(text) == 440 + 1 + 10 + 1 + 23
    assert check_length(text, "mastodon") == (475, True)
    assert check_length(text)[1] is False  # far too long for X
    assert mastodon_length("Drapeau 🇫🇷 et 👍🏽") == 14  # a flag and a toned emoji are one each
    parts = split_thread("Une phrase assez longue pour compter. " * 30, "mastodon")
    assert len(parts) == 3 and all(check_length(part, "mastodon")[1] for part in parts)


def test_a_long_text_with_a_long_link_is_accepted_by_the_instance(
    settings: Settings, fake: FakeMastodon
) -> None:
    text = "a" * 470 + " " + LONG_URL
    transport(settings).publish(Outgoing(parts=(text,)))
    assert [s["text_sent"] for s in fake.created()] == [text]


def test_after_the_key_is_forgotten_a_status_already_there_is_found_not_sent_again(
    settings: Settings, fake: FakeMastodon
) -> None:
    text = "Rendez-vous le 18 novembre & à bientôt : " + LONG_URL
    [first] = transport(settings).publish(Outgoing(parts=(text,), key="post-4"))
    assert "&amp;" in fake.statuses[first]["content"]  # the instance gives HTML back
    assert plain_text(fake.statuses[first]["content"]).startswith("Rendez-vous le 18 novembre &")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    ids = transport(settings).publish(
        Outgoing(parts=(text,), key="post-4-other", check_since=two_hours_ago)
    )
    assert ids == [first]
    assert len(fake.created()) == 1
    assert len(fake.calls("POST /api/v1/statuses")) == 1


def test_a_recent_uncertain_attempt_relies_on_the_key(
    settings: Settings, fake: FakeMastodon
) -> None:
    [first] = transport(settings).publish(Outgoing(parts=("Texte",), key="post-5"))
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    ids = transport(settings).publish(
        Outgoing(parts=("Texte",), key="post-5", check_since=ten_minutes_ago)
    )
    assert ids == [first]
    assert len(fake.created()) == 1
    assert fake.calls("GET /api/v1/accounts/:id/statuses") == []


def test_figures_account_and_mentions(settings: Settings, fake: FakeMastodon) -> None:
    chosen = transport(settings)
    [status_id] = chosen.publish(Outgoing(parts=("Texte",)))
    figures = chosen.fetch_metrics([status_id, "999"])
    assert list(figures) == [status_id]
    assert (figures[status_id].likes, figures[status_id].reposts) == (9, 4)
    assert figures[status_id].replies == 2 and figures[status_id].impressions is None
    account = chosen.account()
    assert (account.username, account.followers, account.posts) == ("moisess", 1234, 321)
    fake.notifications = [mention("50"), mention("51"), mention("52")]
    assert chosen.mentions(None).newest_id == "52"
    counted = chosen.mentions("50")
    assert (counted.count, counted.newest_id) == (2, "52")


def _six_hundred() -> str:
    text = ("Le Mois de l'ESS ouvre ses portes dans toute la France. " * 11)[:600]
    assert mastodon_length(text) == 600
    return text


@pytest.mark.parametrize("instance_limit", [1000, 500])
def test_the_instance_limit_is_read_once_and_used_for_the_account(
    session, settings: Settings, fake: FakeMastodon, instance_limit: int
) -> None:
    from campaign.errors import CampaignError
    from campaign.social.limits import account_limit
    from campaign.social.metrics import sync_metrics
    from campaign.social.posts import create_post, publish_post

    text = _six_hundred()
    # Until the instance is asked, Mastodon's default of 500 holds.
    assert account_limit(session, settings, "mois_masto") is None
    with pytest.raises(CampaignError) as refused:
        create_post(session, settings, account="mois_masto", text=text)
    assert refused.value.messages[0].values["limit"] == 500
    fake.max_characters = instance_limit
    for _ in range(2):
        (synced,) = sync_metrics(session, settings)
        assert synced.status == "synced", synced.message
    asked = [r for r in fake.requests if r.path.rstrip("/") == "/api/v2/instance"]
    assert len(asked) == 1  # read once, then kept
    assert account_limit(session, settings, "mois_masto") == instance_limit
    if instance_limit < 600:
        with pytest.raises(CampaignError) as refused:
            create_post(session, settings, account="mois_masto", text=text)
        assert refused.value.messages[0].code == "post.too_long"
        assert refused.value.messages[0].values["limit"] == 500
        return
    post = create_post(session, settings, account="mois_masto", text=text)
    assert post.parts == [text]  # one status, not a thread
    published = publish_post(session, post.id, settings)
    assert published.status == "published", published.last_error
    assert fake.created()[-1]["text_sent"] == text
