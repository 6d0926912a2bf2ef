"""The sender identity stored in the database wins over the config file in the messages sent
(over aiosmtpd), and a real SMTP send refuses the sample identity the outbox still takes."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from campaign.config import Settings
from campaign.mail import OutboxTransport, open_transport
from campaign.models import MailingList, Membership, Newsletter, Subscriber
from campaign.newsletters import queue
from campaign.sender import (
    SenderRefused,
    forget_sender,
    is_example_domain,
    is_sample_postal_address,
    save_sender,
    sender_identity,
)

pytestmark = pytest.mark.usefixtures("secret_key")

REAL_POSTAL = "CNCRESS, 34 bis rue Vignon, 75009 Paris"
STORED = {
    "from_name": "Les Prix ESS",
    "from_address": "prix@prix-ess.org",
    "reply_to": "equipe@prix-ess.org",
    "postal_address": "ESS France, 34 bis rue Vignon, 75009 Paris",
}


def _settings(port: int = 0, **mail: object) -> Settings:
    settings = Settings()
    settings.web.allow_insecure_links = True  # links to 127.0.0.1, to a test relay
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    for key, value in mail.items():
        setattr(settings.mail, key, value)
    return settings


def _newsletter(session: Session) -> int:
    mailing_list = MailingList(name="Newsletter nationale")
    session.add(mailing_list)
    session.flush()
    subscriber = Subscriber(email="anne@coop.fr", first_name="Anne")
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


def _send(engine: Engine, session: Session, settings: Settings, transport=None):
    newsletter_id = _newsletter(session)
    queue.snapshot(session, session.get(Newsletter, newsletter_id), settings)
    session.commit()
    transport = transport or open_transport(settings)
    try:
        return queue.send_newsletter(engine, newsletter_id, settings, transport)
    finally:
        transport.close()


def test_the_stored_identity_is_in_the_headers_and_footer_of_what_is_sent(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    settings = _settings(
        port, transport="smtp", from_address="lemois@lemois-ess.org", postal_address=REAL_POSTAL
    )
    save_sender(session, STORED, actor="web:admin@example.org")
    session.commit()
    identity = sender_identity(session, settings)
    assert identity.from_address == "prix@prix-ess.org" and identity.source("reply_to") == (
        "database"
    )

    summary = _send(engine, session, settings)
    assert summary.sent == 1
    ((sender, _recipients, content),) = relay.delivered
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["From"].addresses[0].display_name == "Les Prix ESS"
    assert message["From"].addresses[0].addr_spec == "prix@prix-ess.org"
    assert str(message["Reply-To"]) == "equipe@prix-ess.org"
    assert sender.endswith("@prix-ess.org")  # the bounce address at the sender's domain
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "ESS France, 34 bis rue Vignon, 75009 Paris" in text
    assert "ESS France, 34 bis rue Vignon, 75009 Paris" in html
    assert REAL_POSTAL not in text  # the file's address is overridden
    assert settings.mail.from_address == "lemois@lemois-ess.org"  # the settings given unchanged


def test_forgetting_the_stored_identity_goes_back_to_the_file(session: Session) -> None:
    settings = _settings(from_address="lemois@lemois-ess.org")
    save_sender(session, STORED, actor="tester")
    forget_sender(session)
    identity = sender_identity(session, settings)
    assert identity.from_address == "lemois@lemois-ess.org" and identity.stored == {}


def test_a_stored_identity_is_checked_before_it_is_stored(session: Session) -> None:
    with pytest.raises(SenderRefused) as refused:
        save_sender(session, {**STORED, "reply_to": "equipe-at-prix"}, actor="tester")
    assert (refused.value.code, refused.value.field) == ("invalid_address", "reply_to")
    with pytest.raises(SenderRefused) as refused:
        save_sender(session, {**STORED, "postal_address": "  "}, actor="tester")
    assert (refused.value.code, refused.value.field) == ("empty", "postal_address")
    assert sender_identity(session, _settings()).stored == {}  # nothing half-stored


def test_a_real_send_from_the_sample_identity_is_refused_with_a_code_and_field(
    engine: Engine, session: Session, smtp_server
) -> None:
    relay, port = smtp_server
    settings = _settings(port, transport="smtp")  # the shipped defaults: example.org
    with pytest.raises(SenderRefused) as refused:
        _send(engine, session, settings)
    assert (refused.value.code, refused.value.field) == ("example_domain", "from_address")
    assert "[mail]" not in str(refused.value) and "--" not in str(refused.value)

    # A real address stored in the database, the sample postal address still in the file.
    save_sender(session, {"from_address": "lemois@lemois-ess.org"}, actor="tester")
    session.commit()
    newsletter = session.get(Newsletter, 1)
    with pytest.raises(SenderRefused) as refused:
        queue.snapshot(session, newsletter, settings)
    assert (refused.value.code, refused.value.field) == (
        "sample_postal_address",
        "postal_address",
    )
    # A newsletter's own from address at an example domain is refused too, named as its own.
    save_sender(session, {"postal_address": REAL_POSTAL}, actor="tester")
    newsletter.from_address = "mois@example.com"
    with pytest.raises(SenderRefused) as refused:
        queue.check_sender(newsletter, queue.with_sender(session, settings))
    assert refused.value.values["newsletter"] is True
    assert relay.delivered == []


def test_the_outbox_takes_the_sample_identity(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    settings = _settings(transport="outbox", outbox_dir=str(tmp_path / "outbox"))
    summary = _send(engine, session, settings, OutboxTransport(settings.mail.outbox_dir))
    assert summary.sent == 1
    (message,) = mailbox.Maildir(tmp_path / "outbox").values()
    assert "lemois@example.org" in message["From"]


def test_the_command_line_refuses_in_english_naming_no_setting(cli, smtp_server, monkeypatch):
    _relay, port = smtp_server
    for name, value in (
        ("TRANSPORT", "smtp"), ("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(port)),
        ("SMTP_SECURITY", "none"),
    ):  # fmt: skip
        monkeypatch.setenv(f"CAMPAIGN_MAIL_{name}", value)
    monkeypatch.setenv("CAMPAIGN_WEB_ALLOW_INSECURE_LINKS", "true")
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    assert (
        cli("subscribers", "add", "anne@coop.fr", "--list", "Newsletter nationale").exit_code == 0
    )
    created = cli(
        "newsletters", "create", "--title", "Le Mois", "--subject", "Novembre",
        "--template", "mois-ess", "--list", "Newsletter nationale",
    )  # fmt: skip
    refused = cli("newsletters", "send", created.stdout.strip())
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())
    assert "cannot be sent over SMTP" in said and "'lemois@example.org'" in said
    assert "example domain" in said
    assert "([mail] from_address in the config file" in said  # the CLI says where to fix it


def test_example_domains_and_the_sample_postal_address_are_recognised() -> None:
    for address in ("a@example.org", "a@EXAMPLE.com", "a@news.example.net", "a@site.test"):
        assert is_example_domain(address), address
    for address in ("a@lemois-ess.org", "a@example.org.fr", "a@myexample.org"):
        assert not is_example_domain(address), address
    assert is_sample_postal_address("CNCRESS, 00 rue de l'Exemple, 75000 Paris")
    assert is_sample_postal_address("CRESS Bretagne, 00 Rue de l’exemple, 35000 Rennes")
    assert not is_sample_postal_address(REAL_POSTAL)
