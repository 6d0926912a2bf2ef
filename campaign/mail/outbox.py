"""The outbox transport: every message is written to a local maildir, none is sent.

It lets the team look at exactly what would go out (``mutt -f outbox``, Thunderbird, or any
maildir reader) and keeps tests and demos off the network. The files hold the very bytes the SMTP
transport would send (:mod:`campaign.mail.mime`): multipart/alternative (plain text first, HTML
second), UTF-8, with From, To, Subject, Date and Message-ID headers.

This module also holds :func:`build_message`, the reference way of building a message with the
``email`` package, which the fast composer is tested against. The types every transport shares
live in :mod:`campaign.mail.transport` (still importable from here).
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from campaign.clock import utcnow
from campaign.errors import CampaignError
from campaign.files import PRIVATE_FILE
from campaign.mail.mime import Composer, SenderError, message_id_of
from campaign.mail.transport import (
    OutgoingMessage,
    ResultCallback,
    ResultFeed,
    SendResult,
    Transport,
    TransportError,
)
from campaign.messages import Message

# The transport's types stay importable from here for the sending queue, which imported them
# from this module before they had one of their own (campaign.mail.transport).
__all__ = [
    "OutboxTransport",
    "OutgoingMessage",
    "SendResult",
    "Transport",
    "TransportError",
    "build_message",
]


def _address(address: str, name: str = "") -> Address:
    try:
        return Address(display_name=name, addr_spec=address.strip())
    except (ValueError, IndexError) as exc:
        raise CampaignError.of(
            "mail.invalid_address_because", "address", address=address, reason=str(exc)
        ) from None


def build_message(message: OutgoingMessage) -> EmailMessage:
    """The MIME message: multipart/alternative, text then HTML, UTF-8."""
    sender = _address(message.from_address, message.from_name)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = _address(message.to, message.to_name)
    email["Reply-To"] = _address(message.reply_to or message.from_address)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id or make_msgid(domain=sender.domain or None)
    email["MIME-Version"] = "1.0"
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text_body, subtype="plain", charset="utf-8")
    email.add_alternative(message.html_body, subtype="html", charset="utf-8")
    return email


class OutboxTransport:
    """Writes messages to the maildir ``folder`` (created when missing).

    The messages hold personal data: the folders are 0700 (as :mod:`mailbox` makes them) and
    each message 0600.
    """

    def __init__(self, folder: str | Path, composer: Composer | None = None) -> None:
        self.folder = Path(folder)
        self.composer = composer or Composer()
        try:
            self._maildir = mailbox.Maildir(self.folder, create=True)
        except OSError as exc:
            raise CampaignError.of(
                "outbox.cannot_open", "mail.outbox", folder=str(self.folder), reason=str(exc)
            ) from None

    def send(
        self, messages: Iterable[OutgoingMessage], on_results: ResultCallback | None = None
    ) -> list[SendResult]:
        """One result per message (each also given to ``on_results``, see :class:`Transport`).
        A sender that cannot be written or an outbox that cannot be written to (disk full)
        would fail every message alike: that stops with a :class:`TransportError` carrying the
        results so far, the rest left to send."""
        results: list[SendResult] = []
        feed = ResultFeed(on_results)
        try:
            self._write_all(messages, results, feed)
        except TransportError:
            feed.flush(force=True)
            raise
        feed.flush(force=True)
        return results

    def _write_all(
        self, messages: Iterable[OutgoingMessage], results: list[SendResult], feed: ResultFeed
    ) -> None:
        for message in messages:
            feed.flush()
            try:
                data = self.composer.compose(message)
                # Maildir files use the local line end; the envelope sender is kept as
                # Return-Path, as a delivering MTA would write it.
                key = self._maildir.add(
                    b"Return-Path: <" + message.sender.encode("ascii", "replace") + b">\n"
                    + data.replace(b"\r\n", b"\n")
                )  # fmt: skip
                # Maildir writes messages with the umask's mode (often 0644); the folders it
                # makes are 0700, so no one else could read the message meanwhile.
                os.chmod(self.folder / "new" / key, PRIVATE_FILE)
            except SenderError as exc:
                raise TransportError(str(exc), results) from None
            except CampaignError as exc:  # this recipient's address
                results.append(SendResult(message.to, False, error=str(exc)))
                feed.add(len(results) - 1, results[-1])
                continue
            except OSError as exc:
                raise TransportError(
                    Message(  # not message(): the loop's variable is the message sent
                        "outbox.cannot_write",
                        "mail.outbox",
                        {"folder": str(self.folder), "reason": str(exc)},
                    ),
                    results,
                ) from None
            where = str(self.folder / "new" / key)
            results.append(SendResult(message.to, True, message_id_of(data), where=where))
            feed.add(len(results) - 1, results[-1])

    def close(self) -> None:
        self._maildir.close()
