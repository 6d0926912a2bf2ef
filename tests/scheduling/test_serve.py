"""`campaign serve` as a real process: on time, once, and on PostgreSQL one leader among many.

Each test starts ``python -m campaign serve --no-web`` with its settings in the environment,
posts to the X double and mails to aiosmtpd, and watches from outside when things arrive.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import re
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.db import normalise_url, open_database
from campaign.models import (
    Delivery,
    DeliveryStatus,
    Newsletter,
    NewsletterStatus,
    Post,
)
from campaign.scheduling.sync import sync_calendars
from tests.ports import free_port

from .conftest import X_CREDENTIALS, add_list
from .test_jobs import SlowRelay

LEADS = "this process leads"
STANDS_BY = "another process leads"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, words: str, timeout: float = 20) -> float:
        """Wait until the log shows ``words``; the monotonic time it was seen."""
        deadline = time.monotonic() + timeout
        while words not in self.text():
            if self.process.poll() is not None:
                raise AssertionError(f"campaign serve exited early:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{words!r} not in the log:\n{self.text()}")
            time.sleep(0.05)
        return time.monotonic()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


@pytest.fixture
def serve(
    database_url: str, tmp_path: Path, fake_x, smtp_server, secret_key: str
) -> Iterator[Callable[..., Served]]:
    """Start ``campaign serve --no-web`` processes on the test database (aiosmtpd and the X
    double; extra keyword arguments are environment variables)."""
    _relay, port = smtp_server
    env = {
        **os.environ,
        **X_CREDENTIALS,
        "CAMPAIGN_DATABASE_URL": database_url,
        "CAMPAIGN_MAIL_TRANSPORT": "smtp",
        "CAMPAIGN_MAIL_FROM_ADDRESS": "lemois@lemois-ess.org",  # real mail: no sample identity
        "CAMPAIGN_MAIL_POSTAL_ADDRESS": "CNCRESS, 34 bis rue Vignon, 75009 Paris",
        "CAMPAIGN_WEB_ALLOW_INSECURE_LINKS": "true",  # links to 127.0.0.1, to a test relay
        "CAMPAIGN_MAIL_SMTP_HOST": "127.0.0.1",
        "CAMPAIGN_MAIL_SMTP_PORT": str(port),
        "CAMPAIGN_MAIL_SMTP_SECURITY": "none",
        "CAMPAIGN_SOCIAL_X_API_BASE_URL": fake_x.url,
        "CAMPAIGN_SCHEDULER_POLL_INTERVAL": "0.2",
        "CAMPAIGN_SCHEDULER_LEADER_RETRY": "0.3",
        "CAMPAIGN_SCHEDULER_SEND_INTERVAL": "0.3",
        "CAMPAIGN_SCHEDULER_MISFIRE_GRACE": "60",
    }
    started: list[Served] = []

    def start(*options: str, **extra: str) -> Served:
        """``options`` replace ``--no-web`` (e.g. ``--port N`` to serve the web app too)."""
        log = tmp_path / f"serve-{len(started)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "campaign", "serve", *(options or ("--no-web",))],
                env={**env, **extra},
                cwd=tmp_path,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        served = Served(process, log)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def leader_of(*served: Served, timeout: float = 30) -> Served:
    """The process that says it leads (waiting for one to)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leaders = [one for one in served if LEADS in one.text()]
        if leaders:
            return leaders[0]
        time.sleep(0.05)
    raise AssertionError("no process leads:\n" + "\n".join(one.text() for one in served))


def sent_by(served: Served) -> int:
    """Messages a process says it sent (its job's summary and its send worker's)."""
    return sum(int(count) for count in re.findall(r"newsletter \d+: (\d+) sent", served.text()))


def calendar_at(
    path: Path, moments: dict[str, datetime], people_list: str = "Tout le monde"
) -> Path:
    """A calendar with one post per ``moments`` key (``nl`` is a newsletter), local times."""
    zone = Settings().zone
    lines = []
    for key, moment in moments.items():
        local = moment.astimezone(zone).replace(tzinfo=None).isoformat(sep=" ")
        if key == "nl":
            lines.append(
                f'[[newsletter]]\nkey = "nl"\nat = {local}\ntitle = "Le Mois"\n'
                f'subject = "Vos évènements"\ntemplate = "mois-ess"\nlists = ["{people_list}"]\n'
            )
        else:
            lines.append(
                f'[[post]]\nkey = "{key}"\naccount = "mois_ess"\nat = {local}\n'
                f'text = "Post {key}"\n'
            )
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def whole_second(delay: float) -> datetime:
    now = datetime.now(UTC).timestamp()
    return datetime.fromtimestamp(math.ceil(now + delay), UTC)


def sync(database_url: str, path: Path) -> None:
    settings = Settings()
    engine = open_database(database_url)
    try:
        with Session(engine) as session:
            report = sync_calendars(session, settings, path)
            assert not report.refused
    finally:
        engine.dispose()


def seed(database_url: str, people: int) -> None:
    engine = open_database(database_url)
    try:
        with Session(engine) as session:
            add_list(session, people=people, name="Tout le monde")
    finally:
        engine.dispose()


def first_seen(condition: Callable[[], bool], timeout: float = 20) -> datetime:
    """When (UTC, seen from outside) ``condition`` first held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)
    return datetime.now(UTC)


class Backends:
    """What the connections of the serve processes to the test database (PostgreSQL) last ran,
    and when, from ``pg_stat_activity``: each try at the lock of a standby, each poll of the
    leader (the ``SELECT 1`` checking its lock), seen from outside."""

    LEADER = "pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
    POLLS = f"query = 'SELECT 1' AND {LEADER}"
    TRIES = f"query LIKE '%pg_try_advisory_lock%' AND NOT {LEADER}"

    def __init__(self, database_url: str) -> None:
        # No pool: nothing held between two looks, nothing to close.
        self.engine = create_engine(normalise_url(database_url), poolclass=NullPool)

    def runs(self, which: str) -> set[tuple[int, datetime]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pid, query_start FROM pg_stat_activity WHERE datname = "
                    f"current_database() AND pid <> pg_backend_pid() AND {which}"
                )
            )
            return {(pid, start) for pid, start in rows}

    def wait_for_more(self, which: str, rounds: int = 3, timeout: float = 20) -> None:
        """Wait until ``rounds`` more runs of ``which`` were seen (sampled: one may be missed
        between two looks, which only makes the wait longer)."""
        before = self.runs(which)
        seen: set[tuple[int, datetime]] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < rounds:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(seen)} of {rounds} more runs of {which!r} seen")
            time.sleep(0.05)
            seen |= self.runs(which) - before


class LockFileTries:
    """Counts the times ``path`` is closed after being opened for writing (Linux inotify): each
    a refused try of a standby at the SQLite lock file, which the leader keeps open."""

    IN_CLOSE_WRITE = 0x8

    def __init__(self, path: Path) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        if (
            self.fd < 0
            or libc.inotify_add_watch(self.fd, os.fsencode(path), self.IN_CLOSE_WRITE) < 0
        ):
            raise OSError(ctypes.get_errno(), f"inotify on {path}")
        self.count = 0

    def seen(self) -> int:
        with contextlib.suppress(BlockingIOError):
            data = os.read(self.fd, 4096)
            offset = 0
            while offset < len(data):  # struct inotify_event: wd, mask, cookie, len, name
                offset += 16 + struct.unpack_from("iIII", data, offset)[3]
                self.count += 1
        return self.count

    def close(self) -> None:
        os.close(self.fd)


# How late an item may be seen here: a job armed for its time fires within milliseconds on a
# quiet machine, but CI runs four test workers on 2 cores, and a process may wait its turn for
# a second or two. Five seconds still tells "armed for its time" from "found at a later poll,
# a restart or a catch-up"; the figure itself is a benchmark's business, not a test's.
ON_TIME = timedelta(seconds=5)


def test_serve_publishes_a_due_post_and_sends_a_due_newsletter_on_time(
    serve: Callable[..., Served], database_url: str, tmp_path: Path, fake_x, smtp_server
) -> None:
    relay, _port = smtp_server
    seed(database_url, people=3)
    served = serve()
    served.wait_for(LEADS)
    due = whole_second(3)
    sync(database_url, calendar_at(tmp_path / "jour.toml", {"bonjour": due, "nl": due}))
    posted = first_seen(lambda: len(fake_x.tweets()) == 1)
    mailed = first_seen(lambda: len(relay.delivered) == 3)
    assert due - timedelta(seconds=0.1) <= posted <= due + ON_TIME, (due, posted)
    assert due - timedelta(seconds=0.1) <= mailed <= due + ON_TIME, (due, mailed)
    assert [tweet["text"] for tweet in fake_x.tweets()] == ["Post bonjour"]
    assert sorted(relay.copies().values()) == [1, 1, 1]
    assert served.stop(signal.SIGTERM) == 0
    assert "scheduler: stopped" in served.text()


def test_a_service_killed_during_the_day_and_started_again_runs_nothing_twice(
    serve: Callable[..., Served], database_url: str, tmp_path: Path, fake_x
) -> None:
    seed(database_url, people=1)
    first = serve()
    first.wait_for(LEADS)
    moments = {"matin": whole_second(1.5), "midi": whole_second(2.5), "soir": whole_second(8)}
    sync(database_url, calendar_at(tmp_path / "jour.toml", moments))
    first_seen(lambda: len(fake_x.tweets()) == 2)
    first.stop(signal.SIGKILL)  # no goodbye: as a crash or a power cut
    second = serve()
    second.wait_for(LEADS)
    first_seen(lambda: len(fake_x.tweets()) == 3)
    if database_url.startswith("postgresql"):
        Backends(database_url).wait_for_more(Backends.POLLS)  # time for anything fired twice
    else:
        # A leader's polls on SQLite leave no trace outside its process: a fixed window.
        time.sleep(1.5)  # time for anything fired twice to show
    assert sorted(tweet["text"] for tweet in fake_x.tweets()) == [
        "Post matin",
        "Post midi",
        "Post soir",
    ]
    assert second.stop() == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_one_process_leads_and_another_takes_over_when_it_is_killed(
    serve: Callable[..., Served], database_url: str, tmp_path: Path, fake_x
) -> None:
    seed(database_url, people=1)
    one, two = serve(), serve()
    first_leader = leader_of(one, two)
    standby = two if first_leader is one else one
    standby.wait_for(STANDS_BY, timeout=60)  # up (however loaded the machine) and refused once
    backends = Backends(database_url)
    backends.wait_for_more(Backends.TRIES)  # the other keeps trying: it must not lead as well
    leaders = [served for served in (one, two) if LEADS in served.text()]
    assert leaders == [first_leader]
    first_leader.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    took_over = standby.wait_for(LEADS, timeout=10)
    assert took_over - killed_at < 5
    due = whole_second(2)
    sync(database_url, calendar_at(tmp_path / "jour.toml", {"apres": due}))
    posted = first_seen(lambda: len(fake_x.tweets()) == 1)
    assert posted <= due + ON_TIME
    backends.wait_for_more(Backends.POLLS)  # time for anything fired twice to show
    assert [tweet["text"] for tweet in fake_x.tweets()] == ["Post apres"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_two_processes_share_one_newsletter_and_nobody_gets_two_copies(
    serve: Callable[..., Served], database_url: str, tmp_path: Path, smtp_server
) -> None:
    relay, _port = smtp_server
    people = 600
    seed(database_url, people=people)
    # 150 messages a second per process: alone, one process would take four seconds.
    one = serve(CAMPAIGN_MAIL_SMTP_RATE_PER_SECOND="150")
    two = serve(CAMPAIGN_MAIL_SMTP_RATE_PER_SECOND="150")
    leader_of(one, two)
    sync(database_url, calendar_at(tmp_path / "lettre.toml", {"nl": whole_second(2)}))
    engine = open_database(database_url)
    try:

        def sent() -> bool:
            with Session(engine) as session:
                newsletter = session.exec(select(Newsletter)).one()
                return newsletter.status == NewsletterStatus.sent

        first_seen(sent, timeout=60)
        with Session(engine) as session:
            statuses = {row.status for row in session.exec(select(Delivery))}
            assert session.exec(select(Post)).all() == []
    finally:
        engine.dispose()
    assert statuses == {DeliveryStatus.sent}
    copies = relay.copies()
    assert len(copies) == people
    assert set(copies.values()) == {1}
    # Both processes sent part of it: the leader from its job, the other from its send worker.
    shares = [sent_by(one), sent_by(two)]
    assert sum(shares) == people and min(shares) > 0, (shares, one.text(), two.text())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_second_process_stands_by_until_the_first_stops(
    serve: Callable[..., Served], database_url: str
) -> None:
    first = serve()
    first.wait_for(LEADS)
    second = serve()
    second.wait_for(STANDS_BY, timeout=60)  # up (however loaded the machine) and refused once
    if sys.platform == "linux":
        tries = LockFileTries(Path(f"{make_url(database_url).database}.scheduler.lock"))
        try:
            first_seen(lambda: tries.seen() >= 3)  # three more refused tries of the lock file
        finally:
            tries.close()
    else:
        time.sleep(1)  # several more tries of the lock file, every 0.3 s (no inotify here)
    assert LEADS not in second.text()
    assert first.stop(signal.SIGTERM) == 0
    second.wait_for(LEADS, timeout=5)
    assert second.stop() == 0


def newsletter_state(database_url: str) -> tuple[str, dict[str, str]]:
    """The one newsletter's status and each recipient's delivery status."""
    engine = open_database(database_url)
    try:
        with Session(engine) as session:
            newsletter = session.exec(select(Newsletter)).one()
            rows = session.exec(select(Delivery)).all()
            return newsletter.status, {row.email: row.status for row in rows}
    finally:
        engine.dispose()


@pytest.mark.parametrize("web", [False, True], ids=["scheduler-only", "with-web"])
def test_sigterm_during_a_send_exits_cleanly_and_a_restart_finishes_it_once(
    serve: Callable[..., Served], database_url: str, tmp_path: Path, web: bool
) -> None:
    from aiosmtpd.controller import Controller

    relay = SlowRelay()  # 20 ms a message, one connection: a send of several seconds
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        people = 300
        seed(database_url, people=people)
        options = ("--host", "127.0.0.1", "--port", str(free_port())) if web else ()
        mail = {
            "CAMPAIGN_MAIL_SMTP_PORT": str(controller.port),
            "CAMPAIGN_MAIL_SMTP_CONNECTIONS": "1",
        }
        first = serve(*options, **mail)
        first.wait_for(LEADS)
        sync(database_url, calendar_at(tmp_path / "lettre.toml", {"nl": whole_second(1)}))
        first_seen(lambda: len(relay.copies) >= 40)
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(20) == 0
        log = first.text()
        assert "scheduler: stopped" in log and "Traceback" not in log
        assert "newsletter 1: stopped with the service, left to resume" in log

        status, rows = newsletter_state(database_url)
        assert status == NewsletterStatus.sending  # left to resume, not failed or sent
        assert len(rows) == people  # nobody lost
        assert set(rows.values()) == {DeliveryStatus.sent, DeliveryStatus.pending}
        delivered = set(relay.copies)
        # What the relay took is recorded as sent, and nothing else is.
        assert {email for email, row in rows.items() if row == DeliveryStatus.sent} == delivered
        assert set(relay.copies.values()) == {1}
        assert len(delivered) < people

        second = serve(*options, **mail)
        first_seen(lambda: newsletter_state(database_url)[0] == NewsletterStatus.sent, 60)
        assert second.stop(signal.SIGTERM) == 0
    finally:
        controller.stop()
    status, rows = newsletter_state(database_url)
    assert set(rows.values()) == {DeliveryStatus.sent}
    assert len(relay.copies) == people
    assert set(relay.copies.values()) == {1}  # one copy each, across the two processes
