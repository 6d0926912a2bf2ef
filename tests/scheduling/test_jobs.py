"""The scheduler in this process: jobs armed from the rows, run once, missed ones shown.

Posts go to the X double (a real HTTP server on loopback), newsletters to aiosmtpd.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import (
    AccountSnapshot,
    Delivery,
    DeliveryStatus,
    Newsletter,
    NewsletterStatus,
    Post,
    PostMetrics,
    PostStatus,
    RecurringJob,
    SchedulerJob,
    utcnow,
)
from campaign.scheduling import jobs, runtime
from campaign.scheduling.leader import SoleLeadership
from campaign.scheduling.runtime import Runtime
from campaign.scheduling.service import Service
from tests.ports import free_port

from .conftest import X_IMPRESSIONS, X_METRICS, X_USERS, add_list


def wait_until(condition: Callable[[], bool], timeout: float = 15, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(step)


class Ticks:
    """Counts, in this process, the scheduler's polls and the send worker's ticks (each once
    it has finished), so that a test checking that nothing more happens can wait for several
    rounds of both instead of sleeping for a guessed time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from campaign.scheduling.worker import SendWorker

        self.polls = self.sends = 0
        self._lock = threading.Lock()
        reconcile, tick = jobs.reconcile, SendWorker.tick

        def counted_reconcile(*args: Any, **kwargs: Any) -> tuple[int, int]:
            try:
                return reconcile(*args, **kwargs)
            finally:
                with self._lock:
                    self.polls += 1

        def counted_tick(worker: SendWorker) -> int:
            try:
                return tick(worker)
            finally:
                with self._lock:
                    self.sends += 1

        monkeypatch.setattr(jobs, "reconcile", counted_reconcile)
        monkeypatch.setattr(SendWorker, "tick", counted_tick)

    def wait_for_more(self, rounds: int = 3, timeout: float = 15) -> None:
        """Wait until the scheduler has polled and the send worker ticked ``rounds`` more
        times: whatever those rounds would have fired a second time has had its chance."""
        polls, sends = self.polls, self.sends
        wait_until(lambda: self.polls >= polls + rounds and self.sends >= sends + rounds, timeout)


@pytest.fixture
def live_settings(x_settings: Settings, smtp_server, secret_key: str) -> Settings:
    """The X double for @Mois_ESS, aiosmtpd for mail, quick polling, a 60 s grace."""
    _relay, port = smtp_server
    settings = x_settings
    settings.mail.transport = "smtp"
    settings.mail.from_address = "lemois@lemois-ess.org"  # real mail: no sample identity
    settings.mail.postal_address = "CNCRESS, 34 bis rue Vignon, 75009 Paris"
    settings.web.allow_insecure_links = True  # links to 127.0.0.1, to a test relay
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    settings.scheduler.poll_interval = 0.2
    settings.scheduler.leader_retry = 0.2
    settings.scheduler.send_interval = 0.3
    settings.scheduler.misfire_grace = 60
    return settings


@pytest.fixture
def start_service(live_settings: Settings, engine: Engine) -> Iterator[Callable[[], Service]]:
    started: list[Service] = []

    def start() -> Service:
        service = Service(live_settings, engine=engine, leadership=SoleLeadership())
        service.start()
        started.append(service)
        wait_until(service.leading.is_set)
        return service

    yield start
    for service in started:
        if not service.runtime.stopping.is_set():
            service.stop()


def scheduled_post(session: Session, at: datetime, text: str, account: str = "mois_ess") -> int:
    post = Post(
        account=account, text=text, parts=[text], scheduled_at=at, status=PostStatus.scheduled
    )
    session.add(post)
    session.commit()
    assert post.id is not None
    return post.id


def scheduled_newsletter(session: Session, at: datetime, list_id: int) -> int:
    newsletter = Newsletter(
        title="Le Mois",
        subject="Vos évènements",
        template="mois-ess",
        list_ids=[list_id],
        content={"more_url": "https://lemois-ess.example.org"},
        status=NewsletterStatus.scheduled,
        scheduled_at=at,
    )
    session.add(newsletter)
    session.commit()
    assert newsletter.id is not None
    return newsletter.id


def status_of(engine: Engine, model: type, row_id: int) -> str:
    with Session(engine) as session:
        return session.get(model, row_id).status  # type: ignore[union-attr]


# --- arming ------------------------------------------------------------------------------------


def test_the_rows_arm_move_and_remove_their_jobs(
    live_settings: Settings, engine: Engine, session: Session
) -> None:
    at = utcnow() + timedelta(hours=2)
    post_id = scheduled_post(session, at, "Bonjour")
    mailing_list = add_list(session)
    newsletter_id = scheduled_newsletter(session, at, mailing_list.id)
    session.add(RecurringJob(schedule_key="m/mesures", kind="sync-metrics",
                             spec={"days": [0], "times": ["08:00", "18:00"]}))  # fmt: skip
    session.commit()
    run = Runtime(live_settings, engine)
    scheduler = jobs.make_scheduler(run)
    scheduler.start(paused=True)
    try:
        assert jobs.reconcile(scheduler, run) == (4, 0)
        armed = {job.id: job for job in scheduler.get_jobs()}
        assert set(armed) >= {f"post:{post_id}", f"newsletter:{newsletter_id}"}
        assert armed[f"post:{post_id}"].trigger.run_date == at
        assert jobs.reconcile(scheduler, run) == (0, 0)  # nothing changed: nothing written
        post = session.get(Post, post_id)
        post.scheduled_at = at + timedelta(minutes=30)
        session.add(post)
        newsletter = session.get(Newsletter, newsletter_id)
        newsletter.status = NewsletterStatus.cancelled
        session.add(newsletter)
        session.commit()
        assert jobs.reconcile(scheduler, run) == (1, 1)
        moved = scheduler.get_job(f"post:{post_id}")
        assert moved.trigger.run_date == at + timedelta(minutes=30)
        assert scheduler.get_job(f"newsletter:{newsletter_id}") is None
    finally:
        jobs.stop_scheduler(scheduler, wait=False)


def test_a_weekly_time_stays_local_across_the_change_of_time(live_settings: Settings) -> None:
    job = RecurringJob(
        schedule_key="m/r", kind="sync-metrics", spec={"days": [0], "times": ["10:00"]}
    )
    ((_clock, trigger),) = jobs.cron_triggers(job, live_settings)
    first = trigger.get_next_fire_time(None, datetime(2026, 10, 18, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first)
    assert (first.astimezone(UTC), second.astimezone(UTC)) == (
        datetime(2026, 10, 19, 8, 0, tzinfo=UTC),  # 10:00 summer time
        datetime(2026, 10, 26, 9, 0, tzinfo=UTC),  # 10:00 winter time
    )


# --- running -----------------------------------------------------------------------------------


def test_due_posts_and_newsletters_go_out_once(
    start_service: Callable[[], Service], session: Session, engine: Engine, fake_x, smtp_server
) -> None:
    relay, _port = smtp_server
    mailing_list = add_list(session, people=5)
    soon = utcnow() + timedelta(seconds=1)
    post_id = scheduled_post(session, soon, "Le #MoisESS commence !")
    newsletter_id = scheduled_newsletter(session, soon, mailing_list.id)
    start_service()
    wait_until(lambda: status_of(engine, Newsletter, newsletter_id) == NewsletterStatus.sent)
    wait_until(lambda: status_of(engine, Post, post_id) == PostStatus.published)
    assert [tweet["text"] for tweet in fake_x.tweets()] == ["Le #MoisESS commence !"]
    assert sorted(relay.copies().values()) == [1] * 5


def test_a_time_missed_beyond_the_grace_is_marked_missed_and_nothing_goes_out(
    start_service: Callable[[], Service], session: Session, engine: Engine, fake_x, smtp_server
) -> None:
    relay, _port = smtp_server
    mailing_list = add_list(session)
    long_ago = utcnow() - timedelta(hours=2)
    post_id = scheduled_post(session, long_ago, "Trop tard")
    newsletter_id = scheduled_newsletter(session, long_ago, mailing_list.id)
    start_service()
    wait_until(lambda: status_of(engine, Post, post_id) == PostStatus.missed)
    wait_until(lambda: status_of(engine, Newsletter, newsletter_id) == NewsletterStatus.missed)
    time.sleep(1)  # several polls: still nothing sent
    session.expire_all()
    post = session.get(Post, post_id)
    newsletter = session.get(Newsletter, newsletter_id)
    assert "by 2 h, beyond the 60 s grace" in post.last_error
    assert newsletter.status_reason.startswith("missed ")
    assert "by 2 h, beyond the 60 s grace" in newsletter.status_reason
    assert fake_x.tweets() == []
    assert relay.delivered == []
    assert session.exec(select(Delivery)).all() == []


def test_a_time_missed_within_the_grace_runs_when_the_service_is_back(
    start_service: Callable[[], Service], session: Session, engine: Engine, fake_x, smtp_server
) -> None:
    relay, _port = smtp_server
    mailing_list = add_list(session, people=2)
    a_moment_ago = utcnow() - timedelta(seconds=30)
    post_id = scheduled_post(session, a_moment_ago, "Un peu en retard")
    newsletter_id = scheduled_newsletter(session, a_moment_ago, mailing_list.id)
    start_service()
    wait_until(lambda: status_of(engine, Post, post_id) == PostStatus.published)
    wait_until(lambda: status_of(engine, Newsletter, newsletter_id) == NewsletterStatus.sent)
    assert len(fake_x.tweets()) == 1
    assert sorted(relay.copies().values()) == [1, 1]


def test_a_job_fired_twice_at_once_acts_once(
    live_settings: Settings, engine: Engine, session: Session, fake_x, smtp_server
) -> None:
    relay, _port = smtp_server
    mailing_list = add_list(session, people=20)
    now = utcnow()
    post_id = scheduled_post(session, now, "Une seule fois")
    newsletter_id = scheduled_newsletter(session, now, mailing_list.id)
    runtime.install(Runtime(live_settings, engine))
    try:
        barrier = threading.Barrier(4)

        def fire(function: Callable[[int], str], row_id: int) -> None:
            barrier.wait()
            function(row_id)

        threads = [
            threading.Thread(target=fire, args=(function, row_id))
            for function, row_id in [
                (jobs.fire_post, post_id),
                (jobs.fire_post, post_id),
                (jobs.fire_newsletter, newsletter_id),
                (jobs.fire_newsletter, newsletter_id),
            ]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        runtime.install(None)
    assert len(fake_x.tweets()) == 1
    assert sorted(relay.copies().values()) == [1] * 20
    assert status_of(engine, Newsletter, newsletter_id) == NewsletterStatus.sent


def test_a_restart_during_the_day_runs_nothing_twice(
    start_service: Callable[[], Service],
    session: Session,
    engine: Engine,
    fake_x,
    smtp_server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    relay, _port = smtp_server
    ticks = Ticks(monkeypatch)
    mailing_list = add_list(session, people=4)
    now = utcnow()
    morning = [scheduled_post(session, now + timedelta(seconds=s), f"Post {s}") for s in (1, 2)]
    evening = scheduled_post(session, now + timedelta(seconds=6), "Post du soir")
    newsletter_id = scheduled_newsletter(session, now + timedelta(seconds=1.5), mailing_list.id)
    first = start_service()
    wait_until(lambda: all(status_of(engine, Post, p) == PostStatus.published for p in morning))
    wait_until(lambda: status_of(engine, Newsletter, newsletter_id) == NewsletterStatus.sent)
    first.stop()
    start_service()  # the same day, the same database
    wait_until(lambda: status_of(engine, Post, evening) == PostStatus.published)
    ticks.wait_for_more()  # time for anything fired twice to show
    assert sorted(tweet["text"] for tweet in fake_x.tweets()) == [
        "Post 1",
        "Post 2",
        "Post du soir",
    ]
    assert sorted(relay.copies().values()) == [1] * 4


def test_a_missed_weekly_run_is_recorded_on_its_job(
    live_settings: Settings, engine: Engine, session: Session
) -> None:
    recurring = RecurringJob(schedule_key="m/mesures", kind="sync-metrics",
                             spec={"days": [0], "times": ["08:00"]})  # fmt: skip
    session.add(recurring)
    session.commit()
    run = Runtime(live_settings, engine)
    runtime.install(run)
    scheduler = jobs.make_scheduler(run)
    scheduler.start(paused=True)
    try:
        jobs.reconcile(scheduler, run)
        (job,) = scheduler.get_jobs()
        # As if the service had been down last Monday at 08:00.
        scheduler.modify_job(job.id, next_run_time=utcnow() - timedelta(hours=3))
        scheduler.resume()

        def recorded() -> bool:
            session.expire_all()
            return session.get(RecurringJob, recurring.id).last_outcome.startswith("missed")

        wait_until(recorded)
        assert scheduler.get_job(job.id).next_run_time > utcnow()  # and it waits for next week
    finally:
        jobs.stop_scheduler(scheduler, wait=True)
        runtime.install(None)


def test_several_runs_missed_within_the_grace_run_once_when_the_service_is_back(
    start_service: Callable[[], Service],
    live_settings: Settings,
    engine: Engine,
    session: Session,
    fake_x,
) -> None:
    """A daily job, the service down for two days: three runs due, one run (coalescing)."""
    live_settings.scheduler.misfire_grace = 3 * 24 * 3600  # all three within the grace
    a_minute_ago = (utcnow() - timedelta(minutes=1)).astimezone(live_settings.zone)
    recurring = RecurringJob(schedule_key="m/mesures", kind="sync-metrics",
                             spec={"times": [f"{a_minute_ago:%H:%M}"]})  # fmt: skip
    session.add(recurring)
    session.commit()
    # The service ran two days ago, armed the job in the store, and went down.
    before = Runtime(live_settings, engine)
    scheduler = jobs.make_scheduler(before)
    scheduler.start(paused=True)
    try:
        jobs.reconcile(scheduler, before)
        (job,) = scheduler.get_jobs()
        first_missed = job.trigger.get_next_fire_time(None, utcnow() - timedelta(days=2, hours=1))
        scheduler.modify_job(job.id, next_run_time=first_missed)
        due = scheduler.get_job(job.id)._get_run_times(utcnow())
    finally:
        jobs.stop_scheduler(scheduler, wait=False)
    assert len(due) == 3  # two days ago, yesterday, a minute ago
    assert utcnow() - due[-1] < timedelta(minutes=3)

    start_service()  # back, on the same job store

    def ran() -> bool:
        session.expire_all()
        return session.get(RecurringJob, recurring.id).last_run_at is not None

    wait_until(ran)
    time.sleep(1.5)  # several polls: time for any other run to show
    assert len(fake_x.calls("GET /2/users/me")) == 1  # @Mois_ESS read once, not three times
    assert len(session.exec(select(AccountSnapshot)).all()) == 1
    session.expire_all()
    assert session.get(RecurringJob, recurring.id).last_outcome.startswith("mois_ess: synced")
    with Session(engine) as check:
        (stored,) = check.exec(select(SchedulerJob)).all()
        assert stored.next_run_time > utcnow().timestamp() + 23 * 3600  # tomorrow's run


def test_the_metrics_job_records_the_figures_of_each_account(
    live_settings: Settings, engine: Engine, session: Session, fake_x
) -> None:
    recurring = RecurringJob(schedule_key="m/mesures", kind="sync-metrics",
                             spec={"days": [0], "times": ["08:00"]})  # fmt: skip
    session.add(recurring)
    published = Post(account="mois_ess", text="Hier", parts=["Hier"], status=PostStatus.published,
                     remote_ids=["1001"], published_at=datetime.now(UTC))  # fmt: skip
    session.add(published)
    session.commit()
    fake_x.known_posts.add("1001")
    runtime.install(Runtime(live_settings, engine))
    try:
        outcome = jobs.fire_recurring(recurring.id)
    finally:
        runtime.install(None)
    assert "mois_ess: synced" in outcome
    assert "prix_ess: dry run" in outcome
    (snapshot,) = session.exec(select(AccountSnapshot)).all()
    mois = X_USERS["42"]
    assert (snapshot.account, snapshot.followers, snapshot.posts) == (
        "mois_ess", mois["followers"], mois["posts"]
    )  # fmt: skip
    (metrics,) = session.exec(select(PostMetrics)).all()
    assert (metrics.post_id, metrics.likes, metrics.impressions) == (
        published.id, X_METRICS["like_count"], X_IMPRESSIONS
    )  # fmt: skip
    session.expire_all()
    assert session.get(RecurringJob, recurring.id).last_outcome == outcome


# --- in parallel, and stopping -----------------------------------------------------------------


class TogetherRelay:
    """Accepts a message only while another one is being delivered at the same time."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.waiting = 0
        self.together: asyncio.Event | None = None
        self.accepted: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.together is None:
            self.together = asyncio.Event()
        self.waiting += 1
        if self.waiting >= self.expected:
            self.together.set()
        try:
            await asyncio.wait_for(self.together.wait(), timeout=5)
        except TimeoutError:
            return "451 4.3.0 the other message never came at the same time"
        self.accepted.extend(envelope.rcpt_tos)
        return "250 2.0.0 Ok"


def test_newsletters_due_at_the_same_time_are_sent_in_parallel(
    start_service: Callable[[], Service],
    live_settings: Settings,
    session: Session,
    engine: Engine,
) -> None:
    from aiosmtpd.controller import Controller

    relay = TogetherRelay(expected=2)
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        live_settings.mail.smtp.port = controller.port
        soon = utcnow() + timedelta(seconds=1)
        first = add_list(session, people=1, name="Liste A")
        second_list = add_list_with(session, "Liste B", "autre@example.org")
        ids = [
            scheduled_newsletter(session, soon, first.id),
            scheduled_newsletter(session, soon, second_list),
        ]
        start_service()
        wait_until(
            lambda: all(status_of(engine, Newsletter, i) == NewsletterStatus.sent for i in ids)
        )
        with Session(engine) as check:
            statuses = {row.status for row in check.exec(select(Delivery))}
        assert statuses == {DeliveryStatus.sent}
        assert sorted(relay.accepted) == ["autre@example.org", "personne0@example.org"]
    finally:
        controller.stop()


def add_list_with(session: Session, name: str, email: str) -> int:
    from campaign.models import MailingList, Membership, Subscriber

    mailing_list = MailingList(name=name)
    subscriber = Subscriber(email=email)
    session.add_all([mailing_list, subscriber])
    session.flush()
    session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    session.commit()
    assert mailing_list.id is not None
    return mailing_list.id


class SlowRelay:
    """Takes a few milliseconds per message and records who got what."""

    def __init__(self) -> None:
        self.copies: dict[str, int] = {}

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(0.02)
        for address in envelope.rcpt_tos:
            self.copies[address] = self.copies.get(address, 0) + 1
        return "250 2.0.0 Ok"


def test_stopping_mid_send_leaves_the_newsletter_resumable_and_nobody_mailed_twice(
    start_service: Callable[[], Service],
    live_settings: Settings,
    session: Session,
    engine: Engine,
) -> None:
    from aiosmtpd.controller import Controller

    relay = SlowRelay()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        live_settings.mail.smtp.port = controller.port
        live_settings.mail.smtp.connections = 1
        mailing_list = add_list(session, people=400)
        newsletter_id = scheduled_newsletter(session, utcnow(), mailing_list.id)
        service = start_service()
        wait_until(lambda: len(relay.copies) >= 50)
        service.stop()
        with Session(engine) as check:
            rows = check.exec(select(Delivery)).all()
            statuses = {row.status for row in rows}
            assert check.get(Newsletter, newsletter_id).status == NewsletterStatus.sending
        assert DeliveryStatus.sending not in statuses  # every row recorded or given back
        assert DeliveryStatus.pending in statuses  # stopped before the end
        stopped_at = len(relay.copies)
        assert stopped_at < 400
        start_service()  # the send worker resumes it
        # ~350 messages at 20 ms each on one connection: a deadline with room for a loaded CI.
        wait_until(
            lambda: status_of(engine, Newsletter, newsletter_id) == NewsletterStatus.sent,
            timeout=60,
        )
        assert len(relay.copies) == 400
        assert set(relay.copies.values()) == {1}
    finally:
        controller.stop()


def test_a_post_left_half_published_by_a_dead_process_is_finished_once(
    live_settings: Settings, engine: Engine, session: Session, fake_x
) -> None:
    from campaign.scheduling.worker import SendWorker

    post = Post(
        account="mois_ess",
        text="Un. Deux.",
        parts=["Un.", "Deux."],
        remote_ids=["999"],  # the first part went out before the crash
        status=PostStatus.publishing,
        updated_at=utcnow() - timedelta(minutes=11),
    )
    session.add(post)
    session.commit()
    # X has the first part, published before the crash.
    first = {"id": "999", "text": "Un.", "author_id": "42", "reply_to": None, "media_ids": []}
    fake_x.created.append({**first, "created_at": utcnow() - timedelta(minutes=12)})
    worker = SendWorker(Runtime(live_settings, engine))
    worker.tick()
    worker.tick()
    session.expire_all()
    post = session.get(Post, post.id)
    assert post.status == PostStatus.published, post.last_error
    assert [(tweet["text"], tweet.get("reply")) for tweet in fake_x.tweets()] == [
        ("Deux.", {"in_reply_to_tweet_id": "999"})
    ]
