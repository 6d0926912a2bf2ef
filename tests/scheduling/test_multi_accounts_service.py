"""A calendar entry for three accounts goes out through the real service, once on each network
(X, Mastodon and Bluesky doubles on loopback): a time-out on X is resolved by finding the post
there, a server error on Mastodon is tried again on its own, never doubling a post."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign.config import Settings, SocialAccount
from campaign.models import Post, PostStatus, utcnow
from campaign.scheduling.leader import SoleLeadership
from campaign.scheduling.service import Service
from campaign.scheduling.sync import sync_calendars
from campaign.social.posts import publish_post
from tests.social.fake_bluesky import HANDLE, PASSWORD, FakeBluesky
from tests.social.fake_bluesky import serve as serve_bluesky
from tests.social.fake_mastodon import FakeMastodon, error
from tests.social.fake_mastodon import serve as serve_mastodon

from .conftest import _social
from .test_jobs import Ticks

Slow = _social.Slow
LONG = "Le Mois de l'ESS commence demain partout en France ! " * 6  # ~320 characters


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    yield from serve_mastodon()


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    yield from serve_bluesky()


@pytest.fixture
def three_networks(
    x_settings: Settings,
    mastodon: FakeMastodon,
    bluesky: FakeBluesky,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """@Mois_ESS on the X double, and the same campaign on Mastodon and Bluesky doubles."""
    monkeypatch.setenv("CAMPAIGN_MASTODON_TOKEN", "tok-mois")
    monkeypatch.setenv("CAMPAIGN_BLUESKY_PASSWORD", PASSWORD)
    settings = x_settings
    settings.social.accounts["mois_ess_masto"] = SocialAccount(
        network="mastodon",
        handle="moisess",
        instance_url=mastodon.url,
        access_token_env="CAMPAIGN_MASTODON_TOKEN",
    )
    settings.social.accounts["mois_ess_bsky"] = SocialAccount(
        network="bluesky",
        handle=HANDLE,
        service_url=bluesky.url,
        app_password_env="CAMPAIGN_BLUESKY_PASSWORD",
    )
    settings.social.x.timeout = 0.5  # the X double answers after 1.5 s when told to
    settings.social.mastodon.retries = 0  # a server error goes back to the post's own retries
    settings.social.retry_backoff_minutes = 0.01  # its next try 0.6 s later
    settings.scheduler.poll_interval = 0.2
    settings.scheduler.leader_retry = 0.2
    settings.scheduler.send_interval = 0.3
    settings.scheduler.misfire_grace = 60
    return settings


@pytest.fixture
def start_service(three_networks: Settings, engine: Engine) -> Iterator[Callable[[], Service]]:
    started: list[Service] = []

    def start() -> Service:
        service = Service(three_networks, engine=engine, leadership=SoleLeadership())
        service.start()
        started.append(service)
        wait_until(service.leading.is_set)
        return service

    yield start
    for service in started:
        if not service.runtime.stopping.is_set():
            service.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 30, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(step)


def statuses(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {post.account: post.status for post in session.exec(select(Post))}


def test_an_entry_for_three_accounts_is_published_once_on_each_network(
    three_networks: Settings,
    start_service: Callable[[], Service],
    engine: Engine,
    session: Session,
    fake_x,
    mastodon: FakeMastodon,
    bluesky: FakeBluesky,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks = Ticks(monkeypatch)
    at = (utcnow() + timedelta(seconds=1)).replace(microsecond=0)
    calendar = tmp_path / "mois.toml"
    calendar.write_text(
        f"""
[[post]]
key = "j-1"
accounts = ["mois_ess", "mois_ess_masto", "mois_ess_bsky"]
at = {at:%Y-%m-%dT%H:%M:%S}+00:00
text = "{LONG.strip()}"
split = true                       # a thread on X, one status on Mastodon

[post.texts]
mois_ess_bsky = "Demain commence le Mois de l'ESS, partout en France !"
""",
        encoding="utf-8",
    )
    report = sync_calendars(session, three_networks, calendar)
    assert report.count("create") == 3
    fake_x.on("POST /2/tweets", Slow(1.5, creates=True))  # X takes it, the answer is lost
    mastodon.on("POST /api/v1/statuses", error(503, "Service Unavailable"))  # not taken

    start_service()
    wait_until(lambda: set(statuses(engine).values()) == {PostStatus.published})

    # Once on each: the X thread found after the time-out, not sent again…
    assert len(fake_x.created) == 2
    assert len(fake_x.calls("POST /2/tweets")) == 2  # part 1 (timed out, found), part 2
    assert len(fake_x.calls("GET /2/users/:id/tweets")) == 1
    # …Mastodon tried again by itself after its server error, one status…
    assert len(mastodon.calls("POST /api/v1/statuses")) == 2
    assert len(mastodon.created()) == 1
    # …and Bluesky its own words, once.
    assert [post["text"] for post in bluesky.posts()] == [
        "Demain commence le Mois de l'ESS, partout en France !"
    ]
    with Session(engine) as check:
        posts = {post.account: post for post in check.exec(select(Post))}
    assert [len(posts[name].remote_ids) for name in ("mois_ess", "mois_ess_masto")] == [2, 1]
    assert posts["mois_ess"].remote_ids == [tweet["id"] for tweet in fake_x.created]
    assert posts["mois_ess_masto"].attempts == 2

    # Published: asked again, or the calendar synced again, nothing goes out twice.
    for post in posts.values():
        assert publish_post(engine, post.id, three_networks).status == PostStatus.published
    assert not sync_calendars(session, three_networks, calendar).changed
    ticks.wait_for_more(rounds=2)  # the rows seen again: anything re-armed has fired
    assert (len(fake_x.created), len(mastodon.created()), len(bluesky.posts())) == (2, 1, 1)
