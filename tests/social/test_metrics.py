"""Metrics sync: snapshots appended per account and per post, against the X double."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import AccountSnapshot, Post, PostMetrics, PostStatus
from campaign.social.metrics import FollowersRefused, record_followers, sync_metrics
from campaign.social.posts import create_post, publish_post

from .conftest import IMPRESSIONS, METRICS, PRIX_CREDENTIALS, USERS, FakeX, credits_exhausted

PARIS = ZoneInfo("Europe/Paris")
LONG = " ".join(f"Phrase {i} sur l'économie sociale et solidaire en région." for i in range(12))


def published(session: Session, settings: Settings, account: str, text: str, **kw) -> Post:
    post = create_post(session, settings, account=account, text=text, **kw)
    return publish_post(session, post.id, settings)


def snapshots(session: Session, account: str) -> list[AccountSnapshot]:
    query = select(AccountSnapshot).where(AccountSnapshot.account == account)
    return list(session.exec(query.order_by(col(AccountSnapshot.id))))


def metrics(session: Session) -> list[PostMetrics]:
    return list(session.exec(select(PostMetrics).order_by(col(PostMetrics.id))))


def test_sync_appends_account_and_post_snapshots(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    one = published(session, x_settings, "mois_ess", "Le Mois de l'ESS commence !")
    thread = published(session, x_settings, "mois_ess", LONG, split=True)
    dry = published(session, x_settings, "prix_ess", "Les Prix ESS en dry run")
    assert dry.dry_run and len(thread.remote_ids) > 1
    failed = create_post(session, x_settings, account="mois_ess", text="Jamais parti")
    failed.status = PostStatus.failed
    session.add(failed)
    session.commit()
    fake_x.mentions["42"] = ["500", "501"]

    first = sync_metrics(session, x_settings, now=datetime.now(UTC))
    by_name = {result.account: result for result in first}
    assert by_name["prix_ess"].status == "dry run"
    assert "skipped" in by_name["prix_ess"].message
    mois = by_name["mois_ess"]
    assert mois.status == "synced", mois.message
    assert mois.posts_measured == 2
    assert "first sync" in mois.message
    (snapshot,) = snapshots(session, "mois_ess")
    assert snapshot.followers == USERS["42"]["followers"]
    assert snapshot.posts == USERS["42"]["posts"] + len(fake_x.created)
    assert (snapshot.mentions_since_last, snapshot.last_mention_id) == (0, "501")
    assert snapshots(session, "prix_ess") == []
    rows = metrics(session)
    assert [row.post_id for row in rows] == [one.id, thread.id]
    assert all(row.impressions == IMPRESSIONS for row in rows)  # recent: non-public figures
    assert (rows[0].likes, rows[0].reposts, rows[0].replies, rows[0].quotes) == (
        METRICS["like_count"],
        METRICS["retweet_count"],
        METRICS["reply_count"],
        METRICS["quote_count"],
    )
    # A thread is measured by its first part; the lookup asks for user-context figures.
    (lookup,) = fake_x.calls("GET /2/tweets")
    assert lookup.query["ids"] == [f"{one.remote_ids[0]},{thread.remote_ids[0]}"]
    assert set(lookup.query["tweet.fields"][0].split(",")) == {
        "public_metrics",
        "non_public_metrics",
    }
    assert lookup.user_id == "42"
    assert mois.cost is not None
    assert (mois.cost.usage.users_read, mois.cost.usage.posts_read) == (1, 2 + 2)

    # 250 new mentions: three pages of up to 100, all counted.
    fake_x.mentions["42"] += [str(600 + n) for n in range(250)]
    later = datetime.now(UTC) + timedelta(hours=1)
    (second,) = sync_metrics(session, x_settings, "mois_ess", now=later)
    assert second.status == "synced" and second.message == ""
    latest = snapshots(session, "mois_ess")[-1]
    assert (latest.mentions_since_last, latest.last_mention_id) == (250, "849")
    pages = fake_x.calls("GET /2/users/:id/mentions")[1:]
    assert [page.query.get("pagination_token") for page in pages] == [None, ["100"], ["200"]]
    assert all(page.query["since_id"] == ["501"] for page in pages)
    assert len(metrics(session)) == 4  # appended, never overwritten
    assert len(snapshots(session, "mois_ess")) == 2


def test_posts_older_than_30_days_get_public_figures_only(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    old = published(session, x_settings, "mois_ess", "Un post d'octobre")
    new = published(session, x_settings, "mois_ess", "Un post de novembre")
    old.published_at = datetime.now(UTC) - timedelta(days=40)
    session.add(old)
    session.commit()
    fake_x.old_posts.add(old.remote_ids[0])  # X refuses non-public figures for it
    sync_metrics(session, x_settings, "mois_ess")
    rows = {row.post_id: row for row in metrics(session)}
    assert rows[new.id].impressions == IMPRESSIONS
    assert rows[old.id].impressions == 700  # the public impression count
    fields = [set(r.query["tweet.fields"][0].split(",")) for r in fake_x.calls("GET /2/tweets")]
    assert sorted(map(sorted, fields)) == [
        ["non_public_metrics", "public_metrics"],
        ["public_metrics"],
    ]


def test_a_post_deleted_on_x_is_reported(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    kept = published(session, x_settings, "mois_ess", "Toujours là")
    gone = published(session, x_settings, "mois_ess", "Supprimé depuis")
    fake_x.created = [tweet for tweet in fake_x.created if tweet["id"] != gone.remote_ids[0]]
    (result,) = sync_metrics(session, x_settings, "mois_ess")
    assert result.posts_missing == [gone.id]
    assert f"not found on X (deleted?): {gone.id}" in result.message
    assert [row.post_id for row in metrics(session)] == [kept.id]


def test_a_failing_account_does_not_stop_the_others(
    session: Session,
    x_settings: Settings,
    fake_x: FakeX,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in PRIX_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET", "revoked")
    results = {result.account: result for result in sync_metrics(session, x_settings)}
    assert results["prix_ess"].status == "failed"
    assert "401" in results["prix_ess"].message and "revoked" not in results["prix_ess"].message
    assert results["mois_ess"].status == "synced"
    assert [s.account for s in session.exec(select(AccountSnapshot))] == ["mois_ess"]


def test_unknown_account_is_an_error_before_any_request(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    with pytest.raises(CampaignError, match="Unknown social account 'autre'"):
        sync_metrics(session, x_settings, "autre")
    assert fake_x.requests == []


def test_figures_are_read_under_the_newest_field_names_too(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """Specification 2.167 says repost_count and post_count; 2.159 retweet_count, tweet_count."""
    post = published(session, x_settings, "mois_ess", "Le Mois de l'ESS commence !")
    fake_x.new_names = True
    (result,) = sync_metrics(session, x_settings, "mois_ess")
    assert result.status == "synced", result.message
    (row,) = metrics(session)
    assert row.post_id == post.id
    assert row.reposts == METRICS["retweet_count"]  # served as repost_count
    (snapshot,) = snapshots(session, "mois_ess")
    assert snapshot.posts == USERS["42"]["posts"] + 1  # served as post_count
    answer = fake_x.calls("GET /2/tweets")[0]
    assert "tweet.fields" in answer.query  # the query keeps the name every version takes


def test_credits_exhausted_while_measuring_is_said_as_such(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    fake_x.on("GET /2/users/me", credits_exhausted())
    (result,) = sync_metrics(session, x_settings, "mois_ess")
    assert result.status == "failed"
    assert "X refused to read the account: the account's API credits are exhausted (402)" in (
        result.message
    )
    assert "top up the developer account, try again after" in result.message


def test_a_sync_counts_mentions_from_the_last_sync_not_from_a_typed_count(
    session: Session, x_settings: Settings, fake_x: FakeX
) -> None:
    """A typed count holds no mention id: the next sync asks X for the mentions since the last
    sync's, so none is lost or counted twice."""
    fake_x.mentions["42"] = ["500", "501"]
    start = datetime.now(UTC) - timedelta(days=3)
    sync_metrics(session, x_settings, "mois_ess", now=start)
    # Typed for the next day: newer than that sync.
    record_followers(session, "mois_ess", 6103, (start + timedelta(days=1)).date(), PARIS)
    fake_x.mentions["42"].append("502")
    (result,) = sync_metrics(session, x_settings, "mois_ess")
    assert result.status == "synced", result.message
    assert fake_x.calls("GET /2/users/:id/mentions")[-1].query["since_id"] == ["501"]
    latest = snapshots(session, "mois_ess")[-1]
    assert (latest.typed, latest.mentions_since_last, latest.last_mention_id) == (False, 1, "502")
    assert [s.typed for s in snapshots(session, "mois_ess")] == [False, True, False]


def test_typed_counts_refused(session: Session) -> None:
    today = date(2016, 12, 31)
    with pytest.raises(FollowersRefused, match="in the future") as refused:
        record_followers(session, "mois_ess", 10, date(2017, 1, 1), PARIS, today=today)
    assert refused.value.reason == "day"
    with pytest.raises(FollowersRefused, match="from 0 up") as refused:
        record_followers(session, "mois_ess", -1, today, PARIS, today=today)
    assert refused.value.reason == "count"
    assert snapshots(session, "mois_ess") == []
