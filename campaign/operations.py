"""Health and figures of a running service, for whoever runs it (a load balancer, Prometheus).

:func:`check_health` answers "can this process do its work now?": the database answers, its
schema is the one this version expects, some process leads the scheduler, and the hit writer
keeps up with the hits. :class:`ServiceMetrics` exposes in Prometheus' format what the rows say
(messages by status, posts by account and status, how late the scheduler is) and what this
process counts (hits written and waiting, how long jobs took). Both are read when asked, so a
scrape shows the database as it is, whichever process wrote it.

These are for the people who run the service, in English; the team's figures are the reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from campaign.db import current_revisions, driver_message, head_revisions
from campaign.models import Delivery, Newsletter, NewsletterStatus, Post, PostStatus
from campaign.scheduling.durations import JOB_SECONDS
from campaign.scheduling.leader import leader_present
from campaign.tracking.hits import HitRecorder

QUEUE_SHARE = 0.5
"""The hit writer is behind when more than this share of its queue's room is taken."""


@dataclass
class Health:
    """Each check's verdict; healthy when all pass."""

    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks[name] = {"ok": ok, ("detail" if ok else "reason"): detail}

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "failing", "checks": self.checks}


def check_health(engine: Engine, recorder: HitRecorder | None) -> Health:
    """Database reachable, migrations current, scheduler leader known, hit writer keeping up."""
    health = Health()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        health.add("database", False, f"the database does not answer: {driver_message(exc)}")
        return health
    health.add("database", True, "answers")

    current, expected = current_revisions(engine), head_revisions()
    if current == expected:
        health.add("migrations", True, f"schema {', '.join(sorted(current))}")
    else:
        health.add(
            "migrations",
            False,
            f"schema {', '.join(sorted(current)) or 'empty'}, this version expects "
            f"{', '.join(sorted(expected))}: restart the service to upgrade it",
        )

    try:
        leader = leader_present(engine)
    except (SQLAlchemyError, OSError) as exc:
        leader = None
        why = str(exc)
    else:
        why = "cannot be told"
    if leader:
        health.add("scheduler", True, "a process leads the scheduler")
    elif leader is None:
        health.add("scheduler", False, f"whether a process leads the scheduler {why}")
    else:
        health.add(
            "scheduler",
            False,
            "no process leads the scheduler: scheduled newsletters and posts wait",
        )

    if recorder is not None:
        waiting, room = recorder.waiting, recorder.max_pending
        if not recorder.running:
            health.add("hit_writer", False, f"the hit writer is not running ({waiting} waiting)")
        elif waiting > room * QUEUE_SHARE:
            reason = f"{waiting} hits waiting to be written (room for {room})"
            if recorder.last_error:
                reason += f"; last write failed: {recorder.last_error}"
            health.add("hit_writer", False, reason)
        else:
            health.add("hit_writer", True, f"{waiting} hits waiting, {recorder.written} written")
    return health


def scheduler_lag(session: Session, now: datetime | None = None) -> float:
    """Seconds since the oldest newsletter or post still scheduled was due (0: none late)."""
    now = now or datetime.now(UTC)
    oldest = [
        session.exec(
            select(func.min(model.scheduled_at)).where(
                col(model.status) == status, col(model.scheduled_at) <= now
            )
        ).one()
        for model, status in (
            (Newsletter, NewsletterStatus.scheduled),
            (Post, PostStatus.scheduled),
        )
    ]
    due = [moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in oldest if moment]
    return max(0.0, (now - min(due)).total_seconds()) if due else 0.0


class _RowsCollector(Collector):
    """What the rows say, read at each scrape."""

    def __init__(self, engine: Engine, recorder: HitRecorder | None) -> None:
        self.engine = engine
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "campaign_messages",
            "Newsletter messages by delivery status (sent, deferred, bounced, failed, pending…).",
            labels=["status"],
        )
        posts = GaugeMetricFamily(
            "campaign_posts",
            "Posts by account and status (published, failed, scheduled…).",
            labels=["account", "status"],
        )
        lag = GaugeMetricFamily(
            "campaign_scheduler_lag_seconds",
            "How late the oldest newsletter or post still waiting for the scheduler is.",
        )
        with Session(self.engine) as session:
            for status, number in session.exec(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ):
                messages.add_metric([status], number)
            for account, status, number in session.exec(
                select(Post.account, Post.status, func.count()).group_by(Post.account, Post.status)
            ):
                posts.add_metric([account, status], number)
            lag.add_metric([], scheduler_lag(session))
        yield from (messages, posts, lag)
        if self.recorder is not None:
            written = CounterMetricFamily(
                "campaign_hits_written", "Opens and clicks this process wrote to the database."
            )
            written.add_metric([], self.recorder.written)
            dropped = CounterMetricFamily(
                "campaign_hits_dropped", "Hits this process could not keep (queue full, row gone)."
            )
            dropped.add_metric([], self.recorder.dropped)
            queued = GaugeMetricFamily(
                "campaign_hits_queued", "Hits this process recorded and has not written yet."
            )
            queued.add_metric([], self.recorder.waiting)
            yield from (written, dropped, queued)


class ServiceMetrics:
    """The registry of one service: the rows' figures, this process's, the jobs' durations."""

    def __init__(self, engine: Engine, recorder: HitRecorder | None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_RowsCollector(engine, recorder))
        self.registry.register(JOB_SECONDS)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
