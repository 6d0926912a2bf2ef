"""GET /healthz and GET /metrics on a real server, for whoever runs the service, not the public."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlmodel import Session

from campaign.db import head_revisions
from campaign.models import Post, PostStatus
from campaign.scheduling import jobs
from campaign.scheduling.leader import leadership_for

TOKEN = "operations-token-for-tests-" + "y" * 20


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


@pytest.fixture
def leader(live):
    """Some process leads the scheduler (here, a lock taken as the service would take it)."""
    leadership = leadership_for(live.engine.url.render_as_string(hide_password=False))
    assert leadership.try_acquire()
    yield leadership
    leadership.release()


def test_healthz_says_why_it_fails_then_answers_200_when_all_is_well(live) -> None:
    answer = live.get("/healthz")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["hit_writer"]["ok"]
    assert not body["checks"]["scheduler"]["ok"]
    assert "no process leads the scheduler" in body["checks"]["scheduler"]["reason"]

    leadership = leadership_for(live.engine.url.render_as_string(hide_password=False))
    assert leadership.try_acquire()
    try:
        answer = live.get("/healthz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ok"
    finally:
        leadership.release()


def test_healthz_fails_on_an_old_schema_and_a_stopped_hit_writer(live, leader) -> None:
    (head,) = head_revisions()
    with live.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0012_post_events'"))
    try:
        answer = live.get("/healthz")
        assert answer.status_code == 503
        reason = answer.json()["checks"]["migrations"]["reason"]
        assert "0012_post_events" in reason and head in reason
    finally:
        with live.engine.begin() as connection:
            connection.execute(text(f"UPDATE alembic_version SET version_num = '{head}'"))
    assert live.get("/healthz").status_code == 200

    live.web.recorder.close()
    answer = live.get("/healthz")
    assert answer.status_code == 503
    assert "not running" in answer.json()["checks"]["hit_writer"]["reason"]


def test_metrics_count_messages_hits_posts_lag_and_jobs(live, kit) -> None:
    sent = kit.send(live)
    html = sent.html("anne@example.org")
    pixel = re.search(r'src="([^"]+/o/[^"]+\.gif)"', html).group(1)
    assert live.get(pixel.removeprefix(live.url)).status_code == 200
    live.flush()
    now = datetime.now(UTC)
    with Session(live.engine) as session:
        session.add(Post(account="mois_ess", text="a", status=PostStatus.published))
        session.add(Post(account="mois_ess", text="b", status=PostStatus.published))
        session.add(Post(account="prix_ess", text="c", status=PostStatus.failed))
        late = now - timedelta(minutes=10)
        session.add(
            Post(account="prix_ess", text="d", status=PostStatus.scheduled, scheduled_at=late)
        )
        session.commit()
    with jobs._run("post:424242"):  # what every job runs inside: its duration is kept
        pass

    answer = live.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    figures = samples(answer.text)
    assert figures[("campaign_messages", (("status", "sent"),))] == 2
    assert figures[("campaign_posts", (("account", "mois_ess"), ("status", "published")))] == 2
    assert figures[("campaign_posts", (("account", "prix_ess"), ("status", "failed")))] == 1
    assert figures[("campaign_hits_written_total", ())] == 1
    assert figures[("campaign_hits_queued", ())] == 0
    lag = figures[("campaign_scheduler_lag_seconds", ())]
    assert 600 <= lag < 600 + 120
    assert figures[("campaign_job_duration_seconds_count", (("kind", "post"),))] >= 1


def test_requests_through_a_proxy_or_without_the_token_get_a_404(live, monkeypatch) -> None:
    relayed = {"X-Forwarded-For": "203.0.113.9"}
    for path in ("/healthz", "/metrics"):
        assert live.get(path, headers=relayed).status_code == 404
    monkeypatch.setenv("CAMPAIGN_OPERATIONS_TOKEN", TOKEN)
    for path in ("/healthz", "/metrics"):
        assert live.get(path).status_code == 404  # a token is set: loopback is not enough
        wrong = {"Authorization": "Bearer " + TOKEN[:-1] + "z"}
        assert live.get(path, headers=wrong).status_code == 404
        good = {"Authorization": f"Bearer {TOKEN}", **relayed}
        assert live.get(path, headers=good).status_code in (200, 503)
    assert "/healthz" not in live.get("/openapi.json").json()["paths"]
