"""A sender address no message can carry: refused when written, and a send stops on it.

Before, an invalid From was accepted; ``send`` then failed every recipient one by one, marked
the newsletter ``sent`` and exited 0. Now the address is checked when it is written (settings,
``newsletter create``/``edit``, the dashboard form) and again before a send claims anything; a
batch whose every message fails the same way stops the send with the rows left pending.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.mail import OutboxTransport, OutgoingMessage, SendResult
from campaign.models import (
    Delivery,
    MailingList,
    Membership,
    Newsletter,
    NewsletterStatus,
    Subscriber,
)
from campaign.newsletters import queue

BAD = "lemois-at-example.org"


def _audience(cli) -> str:
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    for name in ("anne", "paul", "zoe"):
        added = cli("subscribers", "add", f"{name}@example.org", "--list", "Newsletter nationale")
        assert added.exit_code == 0, added.stderr
    created = cli(
        "newsletters", "create", "--title", "Le Mois", "--subject", "Novembre",
        "--template", "mois-ess", "--list", "Newsletter nationale",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    return created.stdout.strip()


def _store_from(engine: Engine, newsletter_id: str, address: str) -> None:
    """Write the address straight to the row, as a newsletter stored before the check was."""
    with Session(engine) as session:
        session.exec(
            update(Newsletter)
            .where(col(Newsletter.id) == int(newsletter_id))
            .values(from_address=address)
        )
        session.commit()


def _state(engine: Engine, newsletter_id: str) -> tuple[str, list[str]]:
    with Session(engine) as session:
        newsletter = session.get(Newsletter, int(newsletter_id))
        assert newsletter is not None
        rows = session.exec(
            select(Delivery.status).where(Delivery.newsletter_id == int(newsletter_id))
        ).all()
        return newsletter.status, sorted(rows)


def _newsletter(
    session: Session,
    emails: tuple[str, ...] = ("anne@example.org", "paul@example.org", "zoe@example.org"),
) -> int:
    """A sending newsletter with one pending row per address (rows written directly, so an
    address the importer would refuse can be one of them)."""
    mailing_list = MailingList(name="Newsletter nationale")
    session.add(mailing_list)
    session.flush()
    for address in emails:
        subscriber = Subscriber(email=address, first_name="Ami")
        session.add(subscriber)
        session.flush()
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    newsletter = Newsletter(
        title="Le Mois", subject="Novembre", template="mois-ess", list_ids=[mailing_list.id]
    )
    session.add(newsletter)
    session.commit()
    queue.snapshot(session, newsletter)
    session.commit()
    assert newsletter.id is not None and newsletter.status == NewsletterStatus.sending
    return newsletter.id


def test_a_newsletter_with_an_invalid_from_address_is_refused(cli) -> None:
    newsletter_id = _audience(cli)
    refused = cli(
        "newsletters", "create", "--title", "Autre", "--subject", "Décembre",
        "--template", "mois-ess", "--list", "Newsletter nationale", "--from-address", BAD,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "--from-address" in refused.stderr and BAD in refused.stderr
    assert "Traceback" not in refused.stderr
    assert cli("newsletters", "list", "--json").stdout.count('"id"') == 1  # nothing created
    edited = cli("newsletters", "edit", newsletter_id, "--from-address", "élodie@exemple.fr")
    assert edited.exit_code == 1 and "--from-address" in edited.stderr
    kept = cli("newsletters", "edit", newsletter_id, "--from-address", " Prix@Exemple.org ")
    assert kept.exit_code == 0, kept.stderr
    assert (
        '"from_address": "prix@exemple.org"'
        in cli("newsletters", "show", newsletter_id, "--json").stdout
    )


def test_a_stored_invalid_from_address_stops_the_send_with_the_rows_pending(
    cli, engine: Engine, workdir: Path
) -> None:
    newsletter_id = _audience(cli)
    with Session(engine) as session:  # sending began while the address was still good
        queue.snapshot(session, session.get(Newsletter, int(newsletter_id)))
        session.commit()
    _store_from(engine, newsletter_id, BAD)

    sent = cli("newsletters", "send", newsletter_id)

    assert sent.exit_code == 1
    assert f"Newsletter {newsletter_id} cannot be sent" in sent.stderr
    assert "from address" in sent.stderr and BAD in sent.stderr
    assert "Traceback" not in sent.stderr
    assert _state(engine, newsletter_id) == ("sending", ["pending"] * 3)
    outbox = workdir / "outbox"
    assert not outbox.exists() or len(mailbox.Maildir(outbox, create=False)) == 0

    _store_from(engine, newsletter_id, "lemois@example.org")  # fixed: the send goes out
    again = cli("newsletters", "send", newsletter_id)
    assert again.exit_code == 0, again.stderr
    assert _state(engine, newsletter_id) == ("sent", ["sent"] * 3)


def test_a_draft_with_an_invalid_from_address_is_not_queued(cli, engine: Engine) -> None:
    newsletter_id = _audience(cli)
    _store_from(engine, newsletter_id, "lemois@exemple.org\r\nBcc: tout@le-monde.org")
    sent = cli("newsletters", "send", newsletter_id)
    assert sent.exit_code == 1 and "from address" in sent.stderr
    assert _state(engine, newsletter_id) == ("draft", [])


def test_an_invalid_reply_to_in_settings_built_by_code_stops_the_send(
    engine: Engine, session: Session, tmp_path: Path, secret_key: str
) -> None:
    """Settings read from a file are checked at load; the send checks again what it uses."""
    newsletter_id = _newsletter(session)
    settings = Settings()
    settings.mail = settings.mail.model_copy(update={"reply_to": "contact@@exemple.org"})
    transport = OutboxTransport(tmp_path / "outbox")
    with pytest.raises(CampaignError, match=r"\[mail\] reply_to 'contact@@exemple.org'"):
        queue.send_newsletter(engine, newsletter_id, settings, transport)
    assert _state(engine, str(newsletter_id)) == ("sending", ["pending"] * 3)


class _SameErrorEveryTime:
    """A transport whose every message fails with the same words, as when something on the
    sending side breaks (a signing key, a relay's local policy) in a way no check foresaw."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, messages: Iterable[OutgoingMessage], on_results=None) -> list[SendResult]:  # type: ignore[no-untyped-def]
        self.calls += 1
        return [
            SendResult(m.to, False, error="DKIM signing failed: key unusable.") for m in messages
        ]

    def close(self) -> None:
        pass


def test_a_batch_failing_alike_stops_the_send_and_leaves_its_rows_pending(
    engine: Engine, session: Session, secret_key: str
) -> None:
    newsletter_id = _newsletter(session)
    transport = _SameErrorEveryTime()
    with pytest.raises(CampaignError, match="all 3 messages of a batch failed") as caught:
        queue.send_newsletter(engine, newsletter_id, Settings(), transport)
    assert "DKIM signing failed: key unusable." in str(caught.value)
    assert transport.calls == 1  # stopped at the first batch, not the whole audience
    assert _state(engine, str(newsletter_id)) == ("sending", ["pending"] * 3)


def test_recipients_failing_for_their_own_reasons_do_not_stop_the_send(
    engine: Engine, session: Session, tmp_path: Path, secret_key: str
) -> None:
    """Two unusable recipient addresses fail with different words: theirs alone."""
    newsletter_id = _newsletter(session, emails=("anne@example.org", "a b@x", "c d@x"))
    transport = OutboxTransport(tmp_path / "outbox")
    summary = queue.send_newsletter(engine, newsletter_id, Settings(), transport)
    assert (summary.sent, summary.failed, summary.status) == (1, 2, "sent")
