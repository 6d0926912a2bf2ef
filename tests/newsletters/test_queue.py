"""The delivery queue against a real SMTP server: final states, bounces, no double sending."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.mail import open_transport
from campaign.models import (
    Delivery,
    Link,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
    SubscriberStatus,
)
from campaign.newsletters import queue
from campaign.tracking.tokens import UNSUBSCRIBE_MAIL, Signer

pytestmark = pytest.mark.usefixtures("secret_key")

POSTAL_ADDRESS = "CNCRESS, 34 bis rue Vignon, 75009 Paris"
PEOPLE = ["anne", "nobody", "grey", "oscar", "lea", "paul", "zoe"]


def _settings(port: int, **smtp: object) -> Settings:
    settings = Settings()
    settings.mail.transport = "smtp"
    # Real mail refuses the sample identity (example.org, the sample postal address).
    settings.mail.from_address = "lemois@lemois-ess.org"
    settings.mail.postal_address = POSTAL_ADDRESS
    settings.web.allow_insecure_links = True  # links to 127.0.0.1, to a test relay
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    for key, value in smtp.items():
        setattr(settings.mail.smtp, key, value)
    return settings


def _newsletter(session: Session) -> int:
    mailing_list = MailingList(name="Newsletter nationale")
    session.add(mailing_list)
    session.flush()
    for name in PEOPLE:
        subscriber = Subscriber(email=f"{name}@example.org", first_name=name.title())
        session.add(subscriber)
        session.flush()
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    newsletter = Newsletter(
        title="Le Mois",
        subject="Vos évènements",
        template="mois-ess",
        list_ids=[mailing_list.id],
        content={"more_url": "https://lemois-ess.org/evenements"},
    )
    session.add(newsletter)
    session.commit()
    assert newsletter.id is not None
    return newsletter.id


def _states(session: Session, newsletter_id: int) -> dict[str, str]:
    session.expire_all()
    rows = session.exec(select(Delivery).where(Delivery.newsletter_id == newsletter_id)).all()
    return {row.email.split("@")[0]: row.status for row in rows}


def _start(session: Session, newsletter_id: int) -> int:
    added = queue.snapshot(session, session.get(Newsletter, newsletter_id))
    session.commit()
    return added


def _time_passes(session: Session, delay: timedelta) -> None:
    """Move every retry time ``delay`` earlier, as if that much time had passed."""
    for row in session.exec(select(Delivery).where(Delivery.next_attempt_at.is_not(None))):
        row.next_attempt_at -= delay
        session.add(row)
    session.commit()


def _send(
    engine: Engine, newsletter_id: int, port: int, smtp: dict | None = None, **options
) -> queue.SendSummary:
    settings = _settings(port, **(smtp or {}))
    transport = open_transport(settings)
    try:
        return queue.send_newsletter(engine, newsletter_id, settings, transport, **options)
    finally:
        transport.close()


def test_sending_reaches_everyone_once_and_records_each_reply(
    engine: Engine, session: Session, smtp_server, secret_key: str
) -> None:
    relay, port = smtp_server
    relay.bounce.add("nobody@example.org")
    relay.defer_once.add("grey@example.org")
    newsletter_id = _newsletter(session)
    assert _start(session, newsletter_id) == len(PEOPLE)
    began = session.get(Newsletter, newsletter_id).sent_at
    assert began is not None  # the newsletter's date in reports
    assert _start(session, newsletter_id) == 0  # idempotent
    assert session.get(Newsletter, newsletter_id).sent_at == began

    first = _send(engine, newsletter_id, port, batch_size=3)
    assert (first.sent, first.bounced, first.deferred, first.remaining) == (5, 1, 1, 1)
    assert first.status == "sending"  # grey is deferred: the next run tries again
    states = _states(session, newsletter_id)
    assert states == {
        "anne": "sent", "nobody": "bounced", "grey": "deferred", "oscar": "sent",
        "lea": "sent", "paul": "sent", "zoe": "sent",
    }  # fmt: skip
    nobody = session.exec(select(Subscriber).where(Subscriber.email == "nobody@example.org")).one()
    assert nobody.status == SubscriberStatus.bounced
    bounced_row = session.exec(select(Delivery).where(Delivery.email == "nobody@example.org")).one()
    assert "5.1.1" in bounced_row.last_reply and bounced_row.attempts == 1
    # Grey waits a minute before the next try; a run before then sends nothing.
    grey = session.exec(select(Delivery).where(Delivery.email == "grey@example.org")).one()
    assert "451 4.7.1" in grey.last_reply
    assert (first.waiting, first.next_attempt_at) == (1, grey.next_attempt_at)
    wait = grey.next_attempt_at - grey.updated_at
    assert wait == timedelta(minutes=1)
    early = _send(engine, newsletter_id, port)
    assert (early.handled, early.waiting, early.status) == (0, 1, "sending")
    _time_passes(session, wait)

    second = _send(engine, newsletter_id, port)
    assert (second.sent, second.handled, second.status) == (1, 1, "sent")
    assert _states(session, newsletter_id)["grey"] == "sent"
    others = session.exec(select(Subscriber).where(Subscriber.email != "nobody@example.org"))
    assert {subscriber.status for subscriber in others} == {SubscriberStatus.active}

    copies = relay.copies()
    assert copies == {f"{name}@example.org": 1 for name in PEOPLE if name != "nobody"}

    # A third run, and a new snapshot, send nothing new.
    session.expire_all()
    assert _start(session, newsletter_id) == 0
    with pytest.raises(Exception, match="is sent, not sending"):
        _send(engine, newsletter_id, port)
    assert relay.copies() == copies

    anne = session.exec(select(Delivery).where(Delivery.email == "anne@example.org")).one()
    delivered = [
        (sender, email.message_from_bytes(content, policy=email.policy.default))
        for sender, recipients, content in relay.delivered
        if recipients == ["anne@example.org"]
    ]
    ((sender, message),) = delivered
    # The Message-ID is a signed token naming the delivery and its newsletter.
    left, _, right = message["Message-ID"].strip("<>").partition("@")
    assert right == "lemois-ess.org"
    assert Signer([secret_key]).verify_address(left, "message-id") == (anne.id, newsletter_id)
    # VERP: the envelope sender names the delivery, for bounces that quote nothing.
    local, _, domain = sender.partition("@")
    prefix, _, token = local.partition("+")
    assert (prefix, domain) == ("bounces", "lemois-ess.org")
    assert Signer([secret_key]).verify_address(token, "bounce") == (anne.id,)
    assert message["To"].addresses[0].display_name == "Anne"
    # Replies go to the From address, named in Reply-To ([mail] reply_to is empty).
    assert str(message["Reply-To"]) == "lemois@lemois-ess.org"
    # The mailto of List-Unsubscribe names the delivery too, at the bounce domain, where
    # `campaign bounces ingest` reads it (never the From mailbox, which nothing reads).
    mailto = re.search(r"<mailto:([^?>]+)\?subject=unsubscribe>", message["List-Unsubscribe"])
    assert mailto, message["List-Unsubscribe"]
    local, _, domain = mailto[1].partition("@")
    prefix, _, token = local.partition("+")
    assert (prefix, domain) == ("unsubscribe", "lemois-ess.org")
    assert Signer([secret_key]).verify_address(token, UNSUBSCRIBE_MAIL) == (anne.id,)
    # Every per-recipient link is signed for Anne's delivery.
    signer = Signer([secret_key])
    unsubscribe = re.search(r"<https?://[^>]*/u/([\w-]+)>", message["List-Unsubscribe"])
    assert unsubscribe and signer.verify(unsubscribe[1], "unsubscribe") == (anne.id,)
    html = message.get_body(("html",)).get_content()
    (pixel,) = re.findall(r'/o/([\w-]+)\.gif"', html)
    assert signer.verify(pixel, "open") == (anne.id,)
    view = re.findall(r'/v/([\w-]+)"', html)
    assert view and {signer.verify(token, "view") for token in view} == {(anne.id,)}
    clicks = [signer.verify(token, "click") for token in re.findall(r'/c/([\w-]+)"', html)]
    assert clicks and all(ids and ids[0] == anne.id for ids in clicks)
    links = {link.id: link.url for link in session.exec(select(Link)).all()}
    assert {links[ids[1]] for ids in clicks} == {
        "https://lemois-ess.org/evenements",
        "https://x.com/Mois_ESS",  # the footer's link to the campaign's account
    }
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Anne" in message.get_body(("plain",)).get_content()


def test_pause_stops_the_run_and_resume_finishes_it(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)

    def pause_after_first_batch(done: int, total: int) -> None:
        with Session(engine) as other:
            queue.pause(other, newsletter_id)
            other.commit()

    paused = _send(engine, newsletter_id, port, batch_size=2, progress=pause_after_first_batch)
    assert (paused.sent, paused.stopped, paused.status) == (2, "newsletter paused", "paused")
    assert len(relay.delivered) == 2
    with pytest.raises(Exception, match="paused"):
        _send(engine, newsletter_id, port)

    queue.resume(session, newsletter_id)
    session.commit()
    finished = _send(engine, newsletter_id, port, batch_size=2)
    assert (finished.sent, finished.status) == (len(PEOPLE) - 2, "sent")
    assert relay.copies() == {f"{name}@example.org": 1 for name in PEOPLE}
    assert set(_states(session, newsletter_id).values()) == {"sent"}


def test_a_cancelled_newsletter_sends_nothing(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)
    queue.cancel(session, newsletter_id)
    session.commit()
    with pytest.raises(Exception, match="cancelled"):
        _send(engine, newsletter_id, port)
    assert relay.delivered == []
    assert set(_states(session, newsletter_id).values()) == {"pending"}


def test_a_message_whose_connection_breaks_twice_is_deferred_and_the_rest_sent(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)
    relay.hang_up_on_data.update({3, 4})  # the third message's connection breaks twice
    summary = _send(engine, newsletter_id, port, {"connections": 1}, batch_size=5)
    assert (summary.sent, summary.deferred) == (len(PEOPLE) - 1, 1)
    third = session.exec(select(Delivery).where(Delivery.email == "grey@example.org")).one()
    session.refresh(third)
    assert (third.status, third.attempts) == ("deferred", 1)
    assert "closed the connection while this message was being sent" in third.last_reply
    assert relay.copies() == {f"{name}@example.org": 1 for name in PEOPLE if name != "grey"}


def test_the_send_pause_resume_cancel_commands(cli, smtp_server, monkeypatch) -> None:
    relay, port = smtp_server
    relay.bounce.add("nobody@example.org")
    for name, value in (
        ("TRANSPORT", "smtp"), ("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(port)),
        ("SMTP_SECURITY", "none"), ("FROM_ADDRESS", "lemois@lemois-ess.org"),
        ("POSTAL_ADDRESS", POSTAL_ADDRESS),
    ):  # fmt: skip
        monkeypatch.setenv(f"CAMPAIGN_MAIL_{name}", value)
    monkeypatch.setenv("CAMPAIGN_WEB_ALLOW_INSECURE_LINKS", "true")  # links to 127.0.0.1
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    for name in ("anne", "nobody", "oscar"):
        added = cli("subscribers", "add", f"{name}@example.org", "--list", "Newsletter nationale")
        assert added.exit_code == 0, added.stderr
    created = cli(
        "newsletters", "create", "--title", "Le Mois", "--subject", "Novembre",
        "--template", "mois-ess", "--list", "Newsletter nationale",
    )  # fmt: skip
    newsletter_id = created.stdout.strip()
    assert cli("newsletters", "pause", newsletter_id).exit_code == 1  # a draft is not sending

    sent = cli("newsletters", "send", newsletter_id)
    assert sent.exit_code == 0, sent.stderr
    assert "2 sent, 0 deferred, 1 bounced, 0 failed; 0 left to send; status sent" in sent.stdout
    again = cli("newsletters", "send", newsletter_id, "--json")
    assert again.exit_code == 0, again.stderr
    assert '"sent": 0' in again.stdout and '"status": "sent"' in again.stdout
    assert len(relay.delivered) == 2

    second = cli(
        "newsletters", "create", "--title", "Le Mois 2", "--subject", "Décembre",
        "--template", "mois-ess", "--list", "Newsletter nationale",
    ).stdout.strip()  # fmt: skip
    assert cli("newsletters", "cancel", second).exit_code == 0
    refused = cli("newsletters", "send", second)
    assert refused.exit_code == 1 and "cancelled" in refused.stderr
    assert cli("newsletters", "resume", second).exit_code == 1
    assert len(relay.delivered) == 2


def test_a_message_deferred_too_often_fails(engine: Engine, session: Session, smtp_server) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)
    relay.defer_always = {"grey@example.org"}
    waits = []
    for attempt in range(1, 6):
        summary = _send(engine, newsletter_id, port)
        grey = session.exec(select(Delivery).where(Delivery.email == "grey@example.org")).one()
        session.refresh(grey)
        assert grey.attempts == attempt
        if attempt < 5:
            assert (grey.status, summary.waiting, summary.status) == ("deferred", 1, "sending")
            waits.append(grey.next_attempt_at - grey.updated_at)
            _time_passes(session, waits[-1])
    assert waits == [timedelta(minutes=m) for m in (1, 5, 15, 60)]
    assert (grey.status, summary.failed, summary.status) == ("failed", 1, "sent")
    assert "451" in grey.last_reply
    assert relay.rcpt_calls["grey@example.org"] == 5


def test_a_refused_login_stops_the_send_and_a_later_run_finishes_it(
    engine: Engine, session: Session, smtp_server, monkeypatch
) -> None:
    relay, port = smtp_server
    relay.credentials = ("lemois", "s3cret")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)
    login = {"username": "lemois", "password_env": "TEST_SMTP_PASSWORD"}
    with pytest.raises(Exception, match="refused the login of 'lemois'"):
        _send(engine, newsletter_id, port, login)
    assert set(_states(session, newsletter_id).values()) == {"pending"}
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    assert _send(engine, newsletter_id, port, login).status == "sent"
    assert relay.copies() == {f"{name}@example.org": 1 for name in PEOPLE}


def test_a_refused_sender_stops_the_send_resumably(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)
    relay.refuse_senders = True
    with pytest.raises(Exception, match=r"refuses the sender bounces\+\w+@lemois-ess.org: 553"):
        _send(engine, newsletter_id, port)
    assert set(_states(session, newsletter_id).values()) == {"pending"}
    relay.refuse_senders = False
    assert _send(engine, newsletter_id, port).status == "sent"
    assert relay.copies() == {f"{name}@example.org": 1 for name in PEOPLE}


def test_the_mailto_follows_the_bounce_domain_and_can_be_left_out(
    engine: Engine, session: Session, smtp_server, secret_key: str
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    _start(session, newsletter_id)
    settings = _settings(port)
    settings.mail.return_path_domain = "retours.lemois-ess.org"
    settings.mail.reply_to = "contact@lemois-ess.org"

    def pause_after_first_batch(done: int, total: int) -> None:
        with Session(engine) as other:
            queue.pause(other, newsletter_id)
            other.commit()

    transport = open_transport(settings)
    try:
        queue.send_newsletter(
            engine,
            newsletter_id,
            settings,
            transport,
            batch_size=2,
            progress=pause_after_first_batch,
        )
        first = email.message_from_bytes(relay.delivered[0][2], policy=email.policy.default)
        assert "<mailto:unsubscribe+" in first["List-Unsubscribe"]
        assert "@retours.lemois-ess.org?subject=unsubscribe>" in first["List-Unsubscribe"]
        assert str(first["Reply-To"]) == "contact@lemois-ess.org"
        with Session(engine) as other:  # the rest without the mailto
            queue.resume(other, newsletter_id)
            other.commit()
        settings.mail.unsubscribe_prefix = ""
        queue.send_newsletter(engine, newsletter_id, settings, transport)
    finally:
        transport.close()
    assert len(relay.delivered) == len(PEOPLE)
    last = email.message_from_bytes(relay.delivered[-1][2], policy=email.policy.default)
    assert re.fullmatch(r"<http[^>,]+/u/[\w-]+>", last["List-Unsubscribe"])  # the link alone


def test_a_send_over_smtp_refuses_links_no_recipient_can_open(
    engine: Engine, session: Session, smtp_server, secret_key: str
) -> None:
    relay, port = smtp_server
    newsletter_id = _newsletter(session)
    settings = _settings(port)
    settings.web.allow_insecure_links = False  # the default: http://127.0.0.1:8000
    newsletter = session.get(Newsletter, newsletter_id)
    with pytest.raises(CampaignError, match=r"Newsletter \d+ cannot be sent over SMTP: \[web\] "):
        queue.snapshot(session, newsletter, settings)
    session.rollback()
    assert queue.counts(session, newsletter_id) == {}  # nobody queued, still a draft
    assert session.get(Newsletter, newsletter_id).status == "draft"
    _start(session, newsletter_id)  # queued as before this check existed
    transport = open_transport(settings)
    try:
        with pytest.raises(CampaignError, match="allow_insecure_links"):
            queue.send_newsletter(engine, newsletter_id, settings, transport)
        assert relay.delivered == []
        assert queue.counts(session, newsletter_id) == {"pending": len(PEOPLE)}
        settings.web.public_url = "https://liens.lemois-ess.org"  # what recipients can open
        summary = queue.send_newsletter(engine, newsletter_id, settings, transport)
    finally:
        transport.close()
    assert summary.sent == len(PEOPLE)
    first = email.message_from_bytes(relay.delivered[0][2], policy=email.policy.default)
    assert "<https://liens.lemois-ess.org/u/" in first["List-Unsubscribe"]
