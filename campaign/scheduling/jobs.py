"""The scheduler proper: rows are the truth, APScheduler fires.

Every newsletter and post that is ``scheduled`` with a time, and every active recurring job,
gets one APScheduler job in the ``scheduler_job`` store: ``newsletter:12`` fires
:func:`fire_newsletter` with ``12`` at its ``scheduled_at``, ``recurring:3:08:00`` fires
:func:`fire_recurring` every Monday at 08:00 local. :func:`reconcile` compares the rows with
the jobs every ``[scheduler] poll_interval`` seconds and arms, moves or removes jobs, so a
change made by ``schedule sync``, by a command or by hand is picked up wherever it came from;
only the process leading the scheduler writes the store.

A job runs at most once at a time (``max_instances=1``), late runs are coalesced into one, and
a run later than ``[scheduler] misfire_grace`` seconds is not run: its row is marked ``missed``
with the reason (:func:`on_missed`), to be seen in ``schedule list``, never sent late without
notice. Before acting, a job claims its row with a conditional UPDATE (``scheduled`` → going
out), so a job fired twice (a failover, a job armed again while running) acts once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from typing import Any, cast

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import (
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    RecurringJob,
    RecurringStatus,
    utcnow,
)
from campaign.scheduling import actions
from campaign.scheduling.durations import observe_job
from campaign.scheduling.jobstore import JsonJobStore, encode_trigger
from campaign.scheduling.runtime import Runtime, current
from campaign.scheduling.timing import WEEKDAYS
from campaign.social import TransportError
from campaign.social.posts import RetryLater

log = logging.getLogger("campaign.scheduling")

NEWSLETTER_JOB = "campaign.scheduling.jobs:fire_newsletter"
POST_JOB = "campaign.scheduling.jobs:fire_post"
RECURRING_JOB = "campaign.scheduling.jobs:fire_recurring"
PREFIXES = ("newsletter:", "post:", "recurring:")
# A job may fire this much before its row's time (clocks of two machines, rounding).
EARLY = timedelta(seconds=1)

_running: set[str] = set()
_running_lock = threading.Lock()


@contextmanager
def _run(job_id: str) -> Iterator[None]:
    """Mark ``job_id`` running, so :func:`reconcile` does not arm it again meanwhile."""
    with _running_lock:
        _running.add(job_id)
    started = monotonic()
    try:
        yield
    finally:
        with _running_lock:
            _running.discard(job_id)
        observe_job(job_id, monotonic() - started)


def running_here(job_id: str) -> bool:
    """Whether this process is running job ``job_id`` right now."""
    with _running_lock:
        return job_id in _running


# --- what should be armed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """A job the rows call for."""

    id: str
    func: str
    args: tuple[int, ...]
    trigger: BaseTrigger
    name: str


def cron_triggers(job: RecurringJob, settings: Settings) -> list[tuple[str, CronTrigger]]:
    """(local time, trigger) for each time of a recurring job, in the configured zone."""
    zone = settings.zone
    spec = job.spec
    days = ",".join(WEEKDAYS[day][:3] for day in spec.get("days") or range(7))
    start = (
        datetime.combine(datetime.fromisoformat(spec["from"]).date(), time.min, tzinfo=zone)
        if spec.get("from")
        else None
    )
    end = (
        datetime.combine(datetime.fromisoformat(spec["to"]).date(), time.max, tzinfo=zone)
        if spec.get("to")
        else None
    )
    triggers = []
    for clock in spec.get("times") or []:
        hour, minute = clock.split(":")
        trigger = CronTrigger(
            day_of_week=days,
            hour=int(hour),
            minute=int(minute),
            timezone=zone,
            start_date=start,
            end_date=end,
        )
        triggers.append((clock, trigger))
    return triggers


def wanted_jobs(session: Session, settings: Settings) -> dict[str, Wanted]:
    """Every job the rows call for, by job id."""
    wanted: dict[str, Wanted] = {}
    newsletters = session.exec(
        select(Newsletter.id, Newsletter.scheduled_at, Newsletter.title).where(
            Newsletter.status == NewsletterStatus.scheduled,
            col(Newsletter.scheduled_at).is_not(None),
        )
    )
    for newsletter_id, at, title in newsletters:
        job_id = f"newsletter:{newsletter_id}"
        wanted[job_id] = Wanted(
            job_id,
            NEWSLETTER_JOB,
            (cast(int, newsletter_id),),
            DateTrigger(at),
            f"send {title[:60]}",
        )
    posts = session.exec(
        select(Post.id, Post.scheduled_at, Post.not_before, Post.account).where(
            Post.status == PostStatus.scheduled, col(Post.scheduled_at).is_not(None)
        )
    )
    for post_id, scheduled_at, not_before, account in posts:
        scheduled_at = cast(datetime, scheduled_at)  # the query keeps only scheduled posts
        # X asked to wait (429): the post fires again once its rate-limit window has reset.
        at = max(scheduled_at, not_before) if not_before else scheduled_at
        job_id = f"post:{post_id}"
        wanted[job_id] = Wanted(
            job_id, POST_JOB, (cast(int, post_id),), DateTrigger(at), f"post on {account}"
        )
    recurring = session.exec(
        select(RecurringJob).where(RecurringJob.status == RecurringStatus.active)
    )
    for job in recurring:
        assert job.id is not None
        for clock, trigger in cron_triggers(job, settings):
            job_id = f"recurring:{job.id}:{clock}"
            wanted[job_id] = Wanted(
                job_id, RECURRING_JOB, (job.id,), trigger, f"{job.kind} {job.schedule_key}"
            )
    return wanted


def _same(job: Any, want: Wanted) -> bool:
    return (
        job.func_ref == want.func
        and tuple(job.args) == want.args
        and encode_trigger(job.trigger) == encode_trigger(want.trigger)
    )


def reconcile(scheduler: BackgroundScheduler, runtime: Runtime) -> tuple[int, int]:
    """Arm, move or remove jobs so that they match the rows; (armed or moved, removed)."""
    with Session(runtime.engine) as session:
        wanted = wanted_jobs(session, runtime.settings)
    existing = {job.id: job for job in scheduler.get_jobs()}
    with _running_lock:
        running = set(_running)
    armed = removed = 0
    for job_id, want in wanted.items():
        job = existing.pop(job_id, None)
        if (job is not None and _same(job, want)) or (job is None and job_id in running):
            continue
        scheduler.add_job(
            want.func,
            want.trigger,
            args=list(want.args),
            id=job_id,
            name=want.name,
            replace_existing=True,
        )
        armed += 1
    for job_id in existing:
        if job_id.startswith(PREFIXES):
            try:
                scheduler.remove_job(job_id)
                removed += 1
            except JobLookupError:
                pass
    if armed or removed:
        log.info("scheduler: %d job(s) armed or moved, %d removed", armed, removed)
    return armed, removed


# --- firing ------------------------------------------------------------------------------------


def fire_newsletter(newsletter_id: int) -> str:
    """Claim a scheduled newsletter, queue its audience and send it."""
    runtime = current()
    with _run(f"newsletter:{newsletter_id}"):
        now = utcnow()
        with Session(runtime.engine, expire_on_commit=False) as session:
            # The claim: this UPDATE takes the row's write lock and succeeds for one process.
            claimed = session.execute(
                update(Newsletter)
                .where(
                    col(Newsletter.id) == newsletter_id,
                    col(Newsletter.status) == NewsletterStatus.scheduled,
                    col(Newsletter.scheduled_at) <= now + EARLY,
                )
                .values(updated_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                session.rollback()
                return f"newsletter {newsletter_id}: not due or not scheduled any more"
            newsletter = session.get(Newsletter, newsletter_id)
            assert newsletter is not None
            try:
                queued = actions.snapshot_newsletter(session, newsletter, runtime.settings)
                session.commit()
            except Exception as exc:
                session.rollback()
                _set_newsletter(
                    runtime, newsletter_id, NewsletterStatus.missed, f"could not start: {exc}"
                )
                raise
        log.info("newsletter %s: sending to %s recipients", newsletter_id, queued)
        try:
            summary = actions.send_newsletter_job(runtime, newsletter_id)
        except actions.ServiceStopping:
            outcome = f"newsletter {newsletter_id}: stopped with the service, left to resume"
            log.info("%s (the next start sends the rest)", outcome)
            return outcome
        except CampaignError as exc:  # a refused login, a relay down: the send worker retries
            log.warning("newsletter %s: %s (the send worker tries again)", newsletter_id, exc)
            return f"newsletter {newsletter_id}: {exc}"
        outcome = (
            f"newsletter {newsletter_id}: {summary.sent} sent, {summary.deferred} deferred, "
            f"{summary.bounced} bounced, {summary.failed} failed, status {summary.status}"
        )
        log.info(outcome)
        return outcome


def fire_post(post_id: int) -> str:
    """Publish a scheduled post (the posting stage claims it atomically)."""
    runtime = current()
    with _run(f"post:{post_id}"):
        now = utcnow()
        with Session(runtime.engine, expire_on_commit=False) as session:
            post = session.get(Post, post_id)
            if post is None or post.status != PostStatus.scheduled:
                return f"post {post_id}: not scheduled any more"
            if post.scheduled_at is None or post.scheduled_at > now + EARLY:
                return f"post {post_id}: not due yet"
            try:
                post = actions.publish_post_job(runtime, session, post_id)
            except RetryLater as exc:  # still scheduled; armed again for the time X gave
                log.info("post %s: %s", post_id, exc)
                return f"post {post_id}: waiting for X ({exc})"
            except TransportError as exc:  # recorded on the post by the posting stage
                log.warning("post %s not published: %s", post_id, exc)
                return f"post {post_id}: failed ({exc})"
            except CampaignError as exc:
                session.rollback()
                # Refused before publishing (another process has it, or it cannot be sent):
                # a post still scheduled is marked failed so that it is seen, not fired again.
                session.execute(
                    update(Post)
                    .where(col(Post.id) == post_id, col(Post.status) == PostStatus.scheduled)
                    .values(status=PostStatus.failed, last_error=str(exc)[:2000], updated_at=now)
                )
                session.commit()
                log.warning("post %s: %s", post_id, exc)
                return f"post {post_id}: {exc}"
        dry = " (dry run)" if post.dry_run else ""
        log.info("post %s published%s: %s", post_id, dry, ", ".join(post.remote_ids))
        return f"post {post_id}: published{dry}"


def fire_recurring(recurring_id: int) -> str:
    """Run one occurrence of a recurring job and record what happened."""
    runtime = current()
    with _run(f"recurring:{recurring_id}"), Session(runtime.engine) as session:
        job = session.get(RecurringJob, recurring_id)
        if job is None or job.status != RecurringStatus.active:
            return f"recurring job {recurring_id}: not active any more"
        try:
            if job.kind == "sync-metrics":
                outcome = actions.sync_metrics_job(runtime, job.spec.get("account"))
            else:
                outcome = f"unknown kind {job.kind!r}: nothing done"
        except CampaignError as exc:  # X refused or failed: recorded, tried again next time
            outcome = f"failed: {exc}"
        except Exception as exc:  # a bug: recorded, and raised for the log's traceback
            outcome = f"failed: {type(exc).__name__}: {exc}"
            raise
        finally:
            job.last_run_at = utcnow()
            job.last_outcome = outcome[:1000]
            session.add(job)
            session.commit()
            log.info("%s: %s", job.schedule_key, outcome)
        return outcome


# --- missed runs -------------------------------------------------------------------------------


def _set_newsletter(runtime: Runtime, newsletter_id: int, status: str, reason: str) -> bool:
    with Session(runtime.engine) as session:
        done = session.execute(
            update(Newsletter)
            .where(
                col(Newsletter.id) == newsletter_id,
                col(Newsletter.status) == NewsletterStatus.scheduled,
            )
            .values(status=status, status_reason=reason[:1000], updated_at=utcnow())
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return done == 1


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def missed_reason(scheduled: datetime, settings: Settings, now: datetime | None = None) -> str:
    late = (now or utcnow()) - scheduled
    local = scheduled.astimezone(settings.zone)
    return (
        f"missed {local:%d/%m/%Y %H:%M} by {_duration(late)}, beyond the "
        f"{settings.scheduler.misfire_grace} s grace (was the service stopped?); give it a new "
        "time to send it"
    )


def mark_missed(runtime: Runtime, job_id: str, scheduled: datetime) -> str | None:
    """Record a run that came too late on its row; a line for the log (None: nothing to do)."""
    reason = missed_reason(scheduled, runtime.settings)
    kind, _, rest = job_id.partition(":")
    if kind == "newsletter":
        if _set_newsletter(runtime, int(rest), NewsletterStatus.missed, reason):
            return f"newsletter {rest} missed: {reason}"
    elif kind == "post":
        with Session(runtime.engine) as session:
            done = session.execute(
                update(Post)
                .where(col(Post.id) == int(rest), col(Post.status) == PostStatus.scheduled)
                .values(status=PostStatus.missed, last_error=reason[:2000], updated_at=utcnow())
            ).rowcount  # type: ignore[attr-defined]
            session.commit()
        if done == 1:
            return f"post {rest} missed: {reason}"
    elif kind == "recurring":
        recurring_id = int(rest.split(":", 1)[0])
        with Session(runtime.engine) as session:
            job = session.get(RecurringJob, recurring_id)
            if job is not None:
                job.last_outcome = f"missed: {reason}"[:1000]
                session.add(job)
                session.commit()
                return f"{job.schedule_key} missed: {reason}"
    return None


def on_missed(event: JobExecutionEvent) -> None:
    """APScheduler listener for EVENT_JOB_MISSED."""
    try:
        line = mark_missed(current(), event.job_id, event.scheduled_run_time)
    except Exception:  # a listener must not kill the scheduler thread
        log.exception("could not record the missed run of %s", event.job_id)
        return
    if line:
        log.warning(line)


def stop_scheduler(scheduler: BackgroundScheduler, *, wait: bool) -> None:
    """Shut ``scheduler`` down without a last look at the store.

    APScheduler's loop wakes up once more after ``shutdown()`` and submits whatever is due to
    executors already shut down; taking the store away first leaves those jobs for the next
    leader to run (or mark missed) instead.
    """
    scheduler.pause()
    scheduler.remove_jobstore("default", shutdown=False)
    scheduler.shutdown(wait=wait)


def make_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """An APScheduler on our JSON job store, with a thread pool of ``[scheduler] workers``."""
    settings = runtime.settings.scheduler
    scheduler = BackgroundScheduler(
        jobstores={"default": JsonJobStore(runtime.engine)},
        executors={"default": ThreadPoolExecutor(settings.workers)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace,
        },
        timezone=UTC,
    )
    scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    return scheduler
