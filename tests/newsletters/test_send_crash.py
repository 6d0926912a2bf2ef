"""A sending process killed with SIGKILL mid-campaign, then resumed: one copy each.

The real command runs as a subprocess against the aiosmtpd relay on loopback; when the relay has
received some messages the process is killed (no cleanup, no atexit, exactly like a power cut or
the OOM killer). A second ``send`` with ``[mail] claim_timeout = 0`` resumes at once. Everyone
ends up with one message, except at most the messages in flight at the moment of the kill (one
per connection) and those accepted in the last commit window (40 ms), not a whole batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign.models import Delivery, MailingList, Membership, Newsletter, Subscriber
from campaign.newsletters import queue
from tests.conftest import TEST_SECRET_KEY

RECIPIENTS = 240
BATCH = 20


def _newsletter(session: Session, people: int = RECIPIENTS) -> int:
    """A draft newsletter to ``people`` subscribers of one list (p0@… to pN@…)."""
    mailing_list = MailingList(name="Newsletter nationale")
    session.add(mailing_list)
    session.flush()
    for number in range(people):
        subscriber = Subscriber(email=f"p{number}@example.org", first_name=f"P{number}")
        session.add(subscriber)
        session.flush()
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    newsletter = Newsletter(
        title="Le Mois", subject="Novembre", template="mois-ess", list_ids=[mailing_list.id]
    )
    session.add(newsletter)
    session.commit()
    assert newsletter.id is not None
    return newsletter.id


def _command(newsletter_id: int, database_url: str, port: int, **settings: str):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CAMPAIGN_") or key == "CAMPAIGN_TEST_DATABASE_URL"
    }
    env.update(
        COLUMNS="200",
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SECRET_KEY=TEST_SECRET_KEY,
        CAMPAIGN_MAIL_TRANSPORT="smtp",
        CAMPAIGN_WEB_ALLOW_INSECURE_LINKS="true",  # links to 127.0.0.1, to a test relay
        CAMPAIGN_MAIL_SMTP_HOST="127.0.0.1",
        CAMPAIGN_MAIL_SMTP_PORT=str(port),
        CAMPAIGN_MAIL_SMTP_SECURITY="none",
        CAMPAIGN_MAIL_SMTP_CONNECTIONS="2",
        CAMPAIGN_MAIL_BATCH_SIZE=str(BATCH),
        # Real mail refuses the sample identity (example.org, the sample postal address).
        CAMPAIGN_MAIL_FROM_ADDRESS="lemois@lemois-ess.org",
        CAMPAIGN_MAIL_POSTAL_ADDRESS="CNCRESS, 34 bis rue Vignon, 75009 Paris",
        **{f"CAMPAIGN_{key.upper()}": value for key, value in settings.items()},
    )
    code = "from campaign.cli import main; main()"
    return [sys.executable, "-c", code, "newsletters", "send", str(newsletter_id)], env


def test_a_killed_send_resumes_with_one_copy_each_but_the_messages_in_flight(
    engine: Engine, session: Session, database_url: str, smtp_server, workdir
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    queue.snapshot(session, session.get(Newsletter, newsletter_id))
    session.commit()

    # Slow enough (100 messages/s) that the kill lands mid-campaign.
    argv, env = _command(newsletter_id, database_url, port, mail_smtp_rate_per_second="100")
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(relay.delivered) < 3 * BATCH + 5:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the send never got going"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    session.expire_all()
    rows = session.exec(select(Delivery).where(Delivery.newsletter_id == newsletter_id)).all()
    in_flight = {row.email for row in rows if row.status == "sending"}
    statuses = {row.status for row in rows}
    assert 0 < len(in_flight) <= BATCH and "pending" in statuses  # killed mid-campaign
    before = relay.copies()
    assert 0 < len(before) < RECIPIENTS

    # The in-flight rows are stale at once with claim_timeout = 0; a resumed run sends the rest.
    argv, env = _command(newsletter_id, database_url, port, mail_claim_timeout="0")
    resumed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "status sent" in resumed.stdout

    session.expire_all()
    rows = session.exec(select(Delivery).where(Delivery.newsletter_id == newsletter_id)).all()
    assert {row.status for row in rows} == {"sent"}
    copies = relay.copies()
    assert set(copies) == {f"p{number}@example.org" for number in range(RECIPIENTS)}
    twice = {address for address, count in copies.items() if count > 1}
    assert max(copies.values()) <= 2
    assert twice <= in_flight  # only messages in flight at the kill were sent again
    # At 100 messages/s, the 40 ms window holds about 4 messages (10 allows for the commit's
    # own time on a loaded machine): far fewer than the batch of 20.
    assert len(twice) <= 2 + 10


def test_sigterm_stops_after_the_messages_in_flight_and_nobody_gets_two(
    engine: Engine, session: Session, database_url: str, smtp_server, workdir
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    queue.snapshot(session, session.get(Newsletter, newsletter_id))
    session.commit()
    argv, env = _command(newsletter_id, database_url, port, mail_smtp_rate_per_second="100")
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(relay.delivered) < 2 * BATCH + 5:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the send never got going"
        time.sleep(0.01)
    process.terminate()  # what systemd or the scheduler does to stop a service
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Interrupted: the messages sent so far are recorded" in stderr.decode()

    session.expire_all()
    rows = session.exec(select(Delivery).where(Delivery.newsletter_id == newsletter_id)).all()
    assert "sending" not in {row.status for row in rows}  # nothing left in flight
    sent = {row.email for row in rows if row.status == "sent"}
    assert sent == set(relay.copies())  # every message the relay took is recorded as sent

    # No claim_timeout needed: a new run sends exactly the rest.
    argv, env = _command(newsletter_id, database_url, port)
    resumed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert relay.copies() == {f"p{number}@example.org": 1 for number in range(RECIPIENTS)}
