"""Influencers end to end: each network's double serves mentions (and reposts) with their
authors, a sync keeps them once, and the social report ranks the authors by their followers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.db import open_database
from campaign.models import AccountSnapshot, SocialMention
from campaign.reports import Labels, Period, social_report
from campaign.social.metrics import sync_metrics

from . import fake_bluesky, fake_mastodon
from .conftest import AUTHORS, CREDENTIALS, FakeX

PARIS = ZoneInfo("Europe/Paris")
EN = Labels.load("en", PARIS)
MASTODON_TOKEN = "CAMPAIGN_MASTODON_MOIS_ESS_TOKEN"
BLUESKY_PASSWORD = "CAMPAIGN_BLUESKY_MOIS_ESS_APP_PASSWORD"


@pytest.fixture
def mastodon() -> Iterator[fake_mastodon.FakeMastodon]:
    yield from fake_mastodon.serve()


@pytest.fixture
def bluesky() -> Iterator[fake_bluesky.FakeBluesky]:
    yield from fake_bluesky.serve()


def test_x_sync_then_report_social_table_influencers(
    fake_x: FakeX, cli, database_url: str, monkeypatch
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAMPAIGN_SOCIAL_X_API_BASE_URL", fake_x.url)
    fake_x.mentions["42"] = ["500"]
    assert cli("social", "sync-metrics").exit_code == 0  # the first sync notes where to start
    fake_x.mentions["42"] += ["501", "502", "503"]
    fake_x.mention_authors.update({"501": "77", "502": "78", "503": "78"})
    result = cli("social", "sync-metrics", "--account", "mois_ess")
    assert result.exit_code == 0, result.stderr
    assert "3 mention(s) or repost(s) kept with their authors" in result.stdout
    # The mentions timeline brings each author and their counts in the same request.
    last = fake_x.calls("GET /2/users/:id/mentions")[-1]
    assert last.query["expansions"] == ["author_id"]
    assert last.query["user.fields"] == ["public_metrics"]
    # The same mentions read again (the last snapshot lost, so the count restarts from the
    # one before): nothing is kept twice.
    engine = open_database(database_url)
    with Session(engine) as session:
        latest = session.exec(select(AccountSnapshot).order_by(col(AccountSnapshot.id).desc()))
        session.delete(latest.first())
        session.commit()
    engine.dispose()
    again = cli("social", "sync-metrics", "--account", "mois_ess", "--json")
    assert json.loads(again.stdout)[0]["mentions_since_last"] == 3
    assert json.loads(again.stdout)[0]["mentions_kept"] == 0

    report = cli("report", "social", "--table", "influencers", "-f", "json", "--lang", "en")
    assert report.exit_code == 0, report.stderr
    rows = json.loads(report.stdout)["tables"]["influencers"]["rows"]
    assert [(r["author"], r["author_followers"], r["mentions"]) for r in rows] == [
        ("@ESS_France", AUTHORS["78"]["followers"], 2),
        ("@CressIDF", AUTHORS["77"]["followers"], 1),
    ]
    assert rows[0]["network"] == "X" and rows[0]["mentioned_accounts"] == "@Mois_ESS"
    table = cli("report", "social", "--table", "influencers")
    assert "Influenceurs" in table.stdout and "48\u202f000" in table.stdout
    # The period filters by the mentions' own time: last year has none.
    last_year = datetime.now(PARIS).year - 1
    empty = cli("report", "social", "--year", str(last_year), "--table", "influencers")
    assert "@ESS_France" not in empty.stdout and "Aucune donnée" in empty.stdout


def _settings(mastodon_url: str, bluesky_url: str, monkeypatch) -> Settings:
    monkeypatch.setenv(MASTODON_TOKEN, "tok-mois")
    monkeypatch.setenv(BLUESKY_PASSWORD, fake_bluesky.PASSWORD)
    return Settings.model_validate(
        {
            "social": {
                "accounts": {
                    "mois_masto": {"network": "mastodon", "handle": "moisess",
                                   "instance_url": mastodon_url,
                                   "access_token_env": MASTODON_TOKEN},
                    "mois_bsky": {"network": "bluesky", "handle": fake_bluesky.HANDLE,
                                  "service_url": bluesky_url,
                                  "app_password_env": BLUESKY_PASSWORD},
                }
            }
        }
    )  # fmt: skip


def test_mastodon_and_bluesky_mentions_and_reposts_ranked(
    session: Session,
    workdir,
    mastodon: fake_mastodon.FakeMastodon,
    bluesky: fake_bluesky.FakeBluesky,
    monkeypatch,
) -> None:
    settings = _settings(mastodon.url, bluesky.url, monkeypatch)
    now = datetime.now(UTC).replace(microsecond=0)
    mastodon.notifications = [fake_mastodon.mention("50", hours_ago=5)]
    bluesky.notifications = [
        fake_bluesky.mention("at://did:plc:cressidf/app.bsky.feed.post/1", now - timedelta(hours=5))
    ]
    first = sync_metrics(session, settings, now=now - timedelta(hours=4))
    assert [r.status for r in first] == ["synced", "synced"], [r.message for r in first]
    assert session.exec(select(SocialMention)).all() == []  # a first sync only notes the start

    mastodon.notifications += [
        fake_mastodon.mention("51", hours_ago=3, by="cress_bzh@piaille.fr"),
        fake_mastodon.mention("52", hours_ago=2, by="ess_france@mastodon.social", kind="reblog"),
        fake_mastodon.mention("53", hours_ago=1, by="cress_bzh@piaille.fr", kind="favourite"),
    ]
    bluesky.notifications = [
        fake_bluesky.mention(
            "at://did:plc:essfrance/app.bsky.feed.repost/3", now - timedelta(hours=1),
            by="did:plc:essfrance", reason="repost",
        ),
        fake_bluesky.mention(
            "at://did:plc:cressidf/app.bsky.feed.post/2", now - timedelta(hours=2)
        ),
        fake_bluesky.mention(
            "at://did:plc:cressidf/app.bsky.feed.like/9", now - timedelta(hours=2),
            reason="like",
        ),
        *bluesky.notifications,
    ]  # fmt: skip
    for _ in range(2):  # the second sync finds the same ones again and adds nothing
        results = {r.account: r for r in sync_metrics(session, settings, now=now)}
        assert results["mois_masto"].status == "synced", results["mois_masto"].message
        assert results["mois_bsky"].status == "synced", results["mois_bsky"].message
    # Mastodon: mentions and boosts only; counted mentions exclude the boost.
    asked = mastodon.calls("GET /api/v1/notifications")[-1].query["types[]"]
    assert sorted(asked) == ["mention", "reblog"]
    # Bluesky: followers come from getProfiles (a notification's author has no counts).
    assert bluesky.calls("app.bsky.actor.getProfiles")[-1].query["actors"]
    stored = session.exec(select(SocialMention)).all()
    assert sorted((m.network, m.kind, m.author_handle) for m in stored) == [
        ("bluesky", "mention", "cress-idf.bsky.social"),
        ("bluesky", "repost", "essfrance.bsky.social"),
        ("mastodon", "mention", "cress_bzh@piaille.fr"),
        ("mastodon", "repost", "ess_france@mastodon.social"),
    ]

    report = social_report(session, Period(None, None, PARIS), EN)
    rows = next(t for t in report.tables() if t.key == "influencers").rows
    assert [(r["author"], r["network"], r["author_followers"]) for r in rows] == [
        ("@essfrance.bsky.social", "Bluesky", 22000),
        ("@ess_france@mastodon.social", "Mastodon", 9800),
        ("@cress_bzh@piaille.fr", "Mastodon", 3100),
        ("@cress-idf.bsky.social", "Bluesky", 1500),
    ]
    assert [(r["mentions"], r["reposts"]) for r in rows] == [(0, 1), (0, 1), (1, 0), (1, 0)]
