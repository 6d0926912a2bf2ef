"""The outbox transport: parseable UTF-8 multipart/alternative messages in a maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.mail import OutboxTransport, OutgoingMessage, TransportError, open_transport
from tests.conftest import mode_of


def _message(to: str = "lea@example.org") -> OutgoingMessage:
    return OutgoingMessage(
        from_address="lemois@example.org",
        from_name="Le Mois de l'ESS",
        to=to,
        subject="Évènements à Rennes — « novembre »",
        text="Bonjour Léa,\nÀ bientôt.",
        html="<p>Bonjour Léa,</p><p>À bientôt.</p>",
        reply_to="contact@example.org",
    )


def test_messages_land_in_the_maildir_with_both_parts(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path / "outbox")
    results = transport.send([_message(), _message("paul@example.org")])
    transport.close()
    assert all(result.ok for result in results)
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    assert len(box) == 2
    for result in results:
        parsed = email.message_from_bytes(
            Path(result.where).read_bytes(), policy=email.policy.default
        )
        assert parsed["Message-ID"] == result.message_id
        assert parsed["Subject"] == "Évènements à Rennes — « novembre »"
        assert parsed["Reply-To"] == "contact@example.org"
        assert parsed.get_content_type() == "multipart/alternative"
        plain, html = parsed.iter_parts()
        assert plain.get_content_type() == "text/plain"
        assert plain.get_content_charset() == "utf-8"
        assert "Bonjour Léa" in plain.get_content()
        assert html.get_content_type() == "text/html"
        assert "<p>Bonjour Léa,</p>" in html.get_content()


def test_a_bad_address_fails_that_message_only(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path / "outbox")
    bad, good = transport.send([_message("pas une adresse@"), _message()])
    transport.close()
    assert not bad.ok and "not a valid email address" in bad.error
    assert good.ok


def test_the_configured_outbox_is_used(tmp_path: Path) -> None:
    settings = Settings()
    settings.mail.outbox_dir = str(tmp_path / "ici")
    transport = open_transport(settings)
    transport.send([_message()])
    transport.close()
    assert len(mailbox.Maildir(tmp_path / "ici", create=False)) == 1


@pytest.mark.usefixtures("usual_umask")
def test_the_outbox_and_its_messages_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path / "outbox")
    (result,) = transport.send([_message()])
    transport.close()
    for folder in ("", "tmp", "new", "cur"):
        assert mode_of(tmp_path / "outbox" / folder) == 0o700, folder
    assert mode_of(Path(result.where)) == 0o600


def test_a_sender_no_message_can_carry_stops_the_send_instead_of_failing_each(
    tmp_path: Path,
) -> None:
    transport = OutboxTransport(tmp_path / "outbox")
    messages = [_message(), _message("paul@example.org")]
    broken = [
        OutgoingMessage(**{**m.__dict__, "from_address": "lemois-at-example.org"}) for m in messages
    ]
    with pytest.raises(TransportError, match=r"From address .*'lemois-at-example\.org'") as caught:
        transport.send(broken)
    transport.close()
    assert caught.value.results == []  # nothing tried: everything is left to send
    assert len(mailbox.Maildir(tmp_path / "outbox", create=False)) == 0


def test_an_outbox_that_cannot_be_written_stops_the_send_with_the_results_so_far(
    tmp_path: Path,
) -> None:
    """Disk full or a folder gone wrong fails every message alike: not the recipients' doing."""
    transport = OutboxTransport(tmp_path / "outbox")
    first = transport.send([_message()])
    assert first[0].ok
    (tmp_path / "outbox" / "tmp").rmdir()
    (tmp_path / "outbox" / "tmp").write_text("not a folder")  # every write now fails
    with pytest.raises(TransportError, match=r"Cannot write to the outbox") as caught:
        transport.send([_message("paul@example.org"), _message("anne@example.org")])
    transport.close()
    assert caught.value.results == []
