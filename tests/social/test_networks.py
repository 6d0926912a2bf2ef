"""Posts on Mastodon and Bluesky through the posting stage: published once each, measured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import PostMetrics, PostStatus
from campaign.social.metrics import sync_metrics
from campaign.social.posts import create_post, create_posts, publish_post
from tests.social.fake_bluesky import HANDLE, PASSWORD, FakeBluesky
from tests.social.fake_bluesky import serve as serve_bluesky
from tests.social.fake_mastodon import FakeMastodon
from tests.social.fake_mastodon import serve as serve_mastodon


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    yield from serve_mastodon()


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    yield from serve_bluesky()


@pytest.fixture
def settings(
    mastodon: FakeMastodon, bluesky: FakeBluesky, workdir, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("CAMPAIGN_MASTODON_TOKEN", "tok-mois")
    monkeypatch.setenv("CAMPAIGN_BLUESKY_PASSWORD", PASSWORD)
    accounts = {
        "mois_masto": {"network": "mastodon", "handle": "moisess", "instance_url": mastodon.url,
                       "access_token_env": "CAMPAIGN_MASTODON_TOKEN"},
        "mois_bsky": {"network": "bluesky", "handle": HANDLE, "service_url": bluesky.url,
                      "app_password_env": "CAMPAIGN_BLUESKY_PASSWORD"},
        "mois_ess": {"network": "x", "handle": "Mois_ESS"},  # no credentials: dry run
    }  # fmt: skip
    return Settings.model_validate({"social": {"accounts": accounts}})


def test_published_posts_are_measured_per_network(
    session: Session, settings: Settings, mastodon: FakeMastodon, bluesky: FakeBluesky
) -> None:
    on_mastodon = create_post(session, settings, account="mois_masto", text="Bonjour Mastodon")
    on_bluesky = create_post(session, settings, account="mois_bsky", text="Bonjour Bluesky")
    for post in (on_mastodon, on_bluesky):
        assert publish_post(session, post.id, settings).status == PostStatus.published
    assert on_bluesky.remote_ids[0].startswith("at://")

    results = {result.account: result for result in sync_metrics(session, settings)}
    assert results["mois_ess"].status == "dry run"
    assert results["mois_masto"].snapshot.followers == 1234
    assert results["mois_bsky"].snapshot.followers == 812
    assert results["mois_masto"].cost.amount == results["mois_bsky"].cost.amount == 0
    figures = {
        row.post_id: (row.likes, row.reposts, row.replies, row.impressions)
        for row in session.exec(select(PostMetrics))
    }
    assert figures == {on_mastodon.id: (9, 4, 2, None), on_bluesky.id: (11, 3, 2, None)}


def test_one_text_for_several_accounts_is_one_post_each_checked_by_its_network(
    session: Session, settings: Settings, mastodon: FakeMastodon, bluesky: FakeBluesky
) -> None:
    text = "Le Mois de l'ESS commence demain partout en France ! " * 6  # ~320 characters
    posts = create_posts(
        session, settings, accounts=["mois_masto", "mois_bsky", "mois_ess"], text=text, split=True
    )
    assert [post.account for post in posts] == ["mois_masto", "mois_bsky", "mois_ess"]
    assert [len(post.parts) for post in posts] == [1, 2, 2]  # 500, 300 and 280 characters
    for post in posts:
        publish_post(session, post.id, settings)
    assert len(mastodon.created()) == 1
    assert len(bluesky.posts()) == 2
    for post in posts:  # published once on each: again is nothing
        assert publish_post(session, post.id, settings).status == PostStatus.published
    assert len(mastodon.created()) == 1 and len(bluesky.posts()) == 2


def test_several_accounts_are_all_checked_before_any_post_is_stored(
    session: Session, settings: Settings
) -> None:
    from campaign.errors import CampaignError
    from campaign.social.posts import list_posts

    text = "a" * 400  # fits Mastodon, not Bluesky
    with pytest.raises(CampaignError, match=r"mois_bsky.*as Bluesky counts them"):
        create_posts(session, settings, accounts=["mois_masto", "mois_bsky"], text=text)
    assert list_posts(session) == []


def test_an_image_too_large_for_bluesky_is_refused_when_the_post_is_written(
    session: Session, settings: Settings, tmp_path
) -> None:
    from campaign.errors import CampaignError
    from campaign.social.posts import list_posts

    photo = tmp_path / "grande.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(1_500_000))  # 1.4 MB
    images = [{"path": str(photo), "alt": "La salle"}]
    create_post(session, settings, account="mois_masto", text="Photo", images=images)
    with pytest.raises(CampaignError, match=r"grande\.jpg is 1\.4 MB; Bluesky takes at most 1 MB"):
        create_posts(
            session, settings, accounts=["mois_ess", "mois_bsky"], text="Photo", images=images
        )
    assert [post.account for post in list_posts(session)] == ["mois_masto"]
