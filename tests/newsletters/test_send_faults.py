"""Every fault of a send ends in a known state, and nobody gets two copies but the in-flight.

A real relay (aiosmtpd on loopback) cuts connections, hangs and refuses; the queue runs on
SQLite and PostgreSQL. A database lost mid-send is tested on a PostgreSQL of the test's own
(Debian's PostgreSQL 15 binaries), stopped and started again under a running ``campaign
newsletters send``, and on SQLite by a lock held longer than the command waits.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.db import open_database
from campaign.mail import TransportError, open_transport
from campaign.models import Delivery, Newsletter
from campaign.newsletters import queue
from tests.newsletters.test_send_crash import RECIPIENTS, _command
from tests.newsletters.test_send_crash import _newsletter as _big_newsletter
from tests.newsletters.test_send_crash import _newsletter as crash_newsletter
from tests.ports import free_port as _free_port

pytestmark = pytest.mark.usefixtures("secret_key")

PEOPLE = 40
CONNECTIONS = 3


def _settings(port: int, **mail: object) -> Settings:
    settings = Settings()
    settings.mail.transport = "smtp"
    settings.web.allow_insecure_links = True  # links to 127.0.0.1, to a test relay
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    settings.mail.smtp.connections = CONNECTIONS
    settings.mail.retry_minutes = [0]  # a deferred message is due again at once
    # Real mail refuses the sample identity (example.org, the sample postal address).
    settings.mail.from_address = "lemois@lemois-ess.org"
    settings.mail.postal_address = "CNCRESS, 34 bis rue Vignon, 75009 Paris"
    for key, value in mail.items():
        target = settings.mail.smtp if key in ("timeout",) else settings.mail
        setattr(target, key, value)
    return settings


def _newsletter(session: Session) -> int:
    """The crash tests' newsletter to ``PEOPLE`` subscribers, its queue snapshotted."""
    newsletter_id = crash_newsletter(session, PEOPLE)
    newsletter = session.get(Newsletter, newsletter_id)
    assert newsletter is not None
    queue.snapshot(session, newsletter)
    session.commit()
    return newsletter_id


def _send(engine: Engine, newsletter_id: int, settings: Settings) -> queue.SendSummary:
    transport = open_transport(settings)
    try:
        return queue.send_newsletter(
            engine, newsletter_id, settings, transport, batch_size=10, stale_after=timedelta(0)
        )
    finally:
        transport.close()


def _rows(session: Session, newsletter_id: int) -> dict[str, Delivery]:
    session.expire_all()
    rows = session.exec(select(Delivery).where(Delivery.newsletter_id == newsletter_id)).all()
    return {row.email: row for row in rows}


def _everyone(count: int = PEOPLE) -> set[str]:
    return {f"p{number}@example.org" for number in range(count)}


def test_a_poison_message_fails_after_max_attempts_and_never_blocks_the_others(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    relay.cut_on_data.add("p7@example.org")  # its connection is cut every time, mid-DATA
    newsletter_id = _newsletter(session)
    settings = _settings(port, max_attempts=3)

    # Deferred messages are due again at once (retry_minutes = [0]), so one run tries it
    # until max_attempts; with real delays the next runs would, the others long sent.
    summary = _send(engine, newsletter_id, settings)
    rows = _rows(session, newsletter_id)
    poison = rows["p7@example.org"]
    assert (poison.status, poison.attempts) == ("failed", 3)
    assert "closed the connection while this message was being sent" in poison.last_reply
    assert (summary.sent, summary.deferred, summary.failed) == (PEOPLE - 1, 2, 1)
    assert summary.status == "sent"  # the newsletter is finished
    assert relay.copies() == dict.fromkeys(_everyone() - {"p7@example.org"}, 1)


def test_connections_cut_after_accepting_resend_only_the_message_in_flight(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    cuts = {5, 17, 30}
    relay.cut_after_accepting.update(cuts)  # kept by the relay, the reply never sent
    newsletter_id = _newsletter(session)
    summary = _send(engine, newsletter_id, _settings(port))
    assert summary.sent == PEOPLE and summary.status == "sent"
    copies = relay.copies()
    assert set(copies) == _everyone()
    twice = [address for address, count in copies.items() if count > 1]
    assert len(twice) <= len(cuts) and max(copies.values()) == 2  # one in flight per cut


def test_a_relay_that_refuses_mid_send_leaves_nothing_it_accepted_unrecorded(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    relay.data_delay = 0.05  # every connection has a message written when the refusal comes
    relay.refuse_senders_from = 15
    newsletter_id = _newsletter(session)
    with pytest.raises(TransportError, match="refuses the sender"):
        _send(engine, newsletter_id, _settings(port))
    rows = _rows(session, newsletter_id)
    statuses = {row.status for row in rows.values()}
    assert "sending" not in statuses  # every row known: sent, or left to send untried
    sent = {email for email, row in rows.items() if row.status == "sent"}
    assert sent == set(relay.copies()) and len(sent) >= 12
    assert {row.attempts for email, row in rows.items() if email not in sent} == {0}

    relay.refuse_senders_from = 0  # the relay is fixed: the next run sends the rest, once
    assert _send(engine, newsletter_id, _settings(port)).status == "sent"
    assert relay.copies() == dict.fromkeys(_everyone(), 1)


def test_a_relay_that_hangs_defers_the_message_and_sends_the_others(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    relay.stall_on_data.add(6)  # no reply for 30 s to the sixth message
    newsletter_id = _newsletter(session)
    summary = _send(engine, newsletter_id, _settings(port, timeout=0.5, retry_minutes=[10]))
    rows = _rows(session, newsletter_id)
    hung = [row for row in rows.values() if row.status != "sent"]
    assert len(hung) == 1 and summary.deferred == 1
    assert (hung[0].status, hung[0].attempts) == ("deferred", 1)
    assert "may have been delivered" in hung[0].last_reply
    assert relay.copies() == dict.fromkeys(_everyone() - {hung[0].email}, 1)


# --- the database lost mid-send ------------------------------------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _require(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CAMPAIGN_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_PEERS=1: this test must run here)")
    pytest.skip(reason)


class OwnPostgres:
    """A PostgreSQL cluster of this test's own on 127.0.0.1, which it may stop and start.

    initdb and the server refuse to run as root: as root they run as the ``postgres`` user.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="campaign-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.root.chmod(0o755)
            shutil.chown(self.root, user="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")  # fmt: skip

    def _run(self, *args: object) -> None:
        done = subprocess.run(
            [*self.as_user, *map(str, args)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "log", "-o", options,
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                        "immediate", "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    reason = None
    if not (PG_BIN / "initdb").is_file():
        reason = f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing)"
    elif os.geteuid() == 0 and not shutil.which("runuser"):
        reason = "running as root without runuser to start PostgreSQL as its own user"
    _require(reason)
    server = OwnPostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def _start_send(newsletter_id: int, url: str, port: int) -> subprocess.Popen[str]:
    # Slow enough (100 messages/s) that the database goes away mid-send.
    argv, env = _command(newsletter_id, url, port, mail_smtp_rate_per_second="100")
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(relay, count: int, process: subprocess.Popen[str]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 120
    while len(relay.delivered) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the send never got going"
        time.sleep(0.005)


def _check_the_stop(process: subprocess.Popen[str]) -> None:
    """Exit 75, one sentence (beside the progress bar): no traceback, no SQL, no address."""
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 75, stderr
    message = [line for line in stderr.strip().splitlines() if not line.startswith("Sending ")]
    assert len(message) == 1 and message[0].startswith("Error: Newsletter "), stderr
    assert "stopped answering during the send" in stderr and "try again later" in stderr
    for leak in ("SELECT", "UPDATE", "INSERT", "@example.org", "Traceback", "[SQL"):
        assert leak not in stderr


def _resume_and_count(
    engine: Engine, newsletter_id: int, url: str, port: int, relay, window: int
) -> None:  # type: ignore[no-untyped-def]
    """Resume at once (claim_timeout 0): everyone has a copy, and the second copies are at most
    the messages in flight plus those accepted in the last commit window before the loss."""
    with Session(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.newsletter_id == newsletter_id)).all()
        unrecorded = {row.email for row in rows if row.status == "sending"}
    argv, env = _command(newsletter_id, url, port, mail_claim_timeout="0")
    resumed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "status sent" in resumed.stdout
    copies = relay.copies()
    assert set(copies) == _everyone(RECIPIENTS)
    twice = {address for address, count in copies.items() if count > 1}
    assert twice <= unrecorded and max(copies.values()) <= 2
    assert len(twice) <= 2 + window  # connections (2) + accepted in the last window


def test_losing_postgresql_mid_send_stops_with_one_sentence_and_resumes_once_back(
    own_postgres: OwnPostgres, smtp_server, workdir
) -> None:
    relay, port = smtp_server
    engine = open_database(own_postgres.url)
    try:
        with Session(engine) as session:
            newsletter_id = _big_newsletter(session)
            queue.snapshot(session, session.get(Newsletter, newsletter_id))
            session.commit()
        engine.dispose()
        process = _start_send(newsletter_id, own_postgres.url, port)
        _wait_for(relay, 60, process)
        own_postgres.stop()
        _check_the_stop(process)
        own_postgres.start()
        # 100 messages/s: at most 5 in the 40 ms window, doubled for the commit's own time.
        _resume_and_count(engine, newsletter_id, own_postgres.url, port, relay, window=10)
    finally:
        engine.dispose()


def test_a_sqlite_database_locked_mid_send_stops_with_one_sentence_and_resumes(
    tmp_path: Path, smtp_server, workdir
) -> None:
    relay, port = smtp_server
    path = tmp_path / "campaign.db"
    url = f"sqlite:///{path}?timeout=0.3"  # the sender waits 0.3 s for a lock, then gives up
    engine = open_database(url)
    try:
        with Session(engine) as session:
            newsletter_id = _big_newsletter(session)
            queue.snapshot(session, session.get(Newsletter, newsletter_id))
            session.commit()
        process = _start_send(newsletter_id, url, port)
        _wait_for(relay, 60, process)
        holder = sqlite3.connect(path, timeout=10)
        holder.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
        try:
            _check_the_stop(process)
        finally:
            holder.rollback()
            holder.close()
        _resume_and_count(engine, newsletter_id, url, port, relay, window=10)
    finally:
        engine.dispose()
