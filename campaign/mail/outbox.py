"""The outbox transport: every message is written to a local maildir, none is sent.

It lets the team look at exactly what would go out (``mutt -f outbox``, Thunderbird, or any
maildir reader) and keeps tests and demos off the network. Messages are built here as they will
be sent: multipart/alternative (plain text first, HTML second), UTF-8, with From, To, Subject,
Date and Message-ID headers.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from campaign.errors import CampaignError
from campaign.models.base import utcnow


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one address, already personalised."""

    from_address: str
    to: str
    subject: str
    text: str
    html: str
    from_name: str = ""
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # Empty: a random one. The sending queue derives it from the delivery row.
    message_id: str = ""


@dataclass(frozen=True)
class SendResult:
    """What became of one message: ``ok`` with its Message-ID, or the reason it failed."""

    to: str
    ok: bool
    message_id: str = ""
    error: str = ""
    where: str = ""  # the outbox file, for the outbox transport
    # sent | deferred (4xx, try again later) | bounced (5xx) | failed; empty: from ``ok``.
    status: str = ""
    code: int = 0  # the SMTP reply code, when there was one

    @property
    def outcome(self) -> str:
        return self.status or ("sent" if self.ok else "failed")


class TransportError(CampaignError):
    """The transport cannot go on (login refused, server unreachable, sender refused).

    ``results`` holds what became of the messages handled before it stopped; the others were not
    sent and can be tried again.
    """

    def __init__(self, message: str, results: list[SendResult] | None = None) -> None:
        super().__init__(message)
        self.results = list(results or [])


class Transport(Protocol):
    def send(self, messages: Iterable[OutgoingMessage]) -> list[SendResult]: ...

    def close(self) -> None: ...


def _address(address: str, name: str = "") -> Address:
    try:
        return Address(display_name=name, addr_spec=address.strip())
    except (ValueError, IndexError) as exc:
        raise CampaignError(f"{address!r} is not a valid email address ({exc}).") from None


def build_message(message: OutgoingMessage) -> EmailMessage:
    """The MIME message: multipart/alternative, text then HTML, UTF-8."""
    sender = _address(message.from_address, message.from_name)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = _address(message.to)
    if message.reply_to:
        email["Reply-To"] = _address(message.reply_to)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id or make_msgid(domain=sender.domain or None)
    email["MIME-Version"] = "1.0"
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text, subtype="plain", charset="utf-8")
    email.add_alternative(message.html, subtype="html", charset="utf-8")
    return email


class OutboxTransport:
    """Writes messages to the maildir ``folder`` (created when missing)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        try:
            self._maildir = mailbox.Maildir(self.folder, create=True)
        except OSError as exc:
            raise CampaignError(
                f"Cannot open the outbox {self.folder} ([mail] outbox_dir): {exc}."
            ) from None

    def send(self, messages: Iterable[OutgoingMessage]) -> list[SendResult]:
        results = []
        for message in messages:
            try:
                built = build_message(message)
                key = self._maildir.add(built)
            except CampaignError as exc:
                results.append(SendResult(message.to, False, error=str(exc)))
                continue
            except OSError as exc:
                results.append(SendResult(message.to, False, error=f"outbox: {exc}"))
                continue
            where = str(self.folder / "new" / key)
            results.append(SendResult(message.to, True, str(built["Message-ID"]), where=where))
        return results

    def close(self) -> None:
        self._maildir.close()
