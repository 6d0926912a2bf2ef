"""The outbox transport: every message is written to a local maildir, none is sent.

It lets the team look at exactly what would go out (``mutt -f outbox``, Thunderbird, or any
maildir reader) and keeps tests and demos off the network. The files hold the very bytes the SMTP
transport would send (:mod:`campaign.mail.mime`): multipart/alternative (plain text first, HTML
second), UTF-8, with From, To, Subject, Date and Message-ID headers.

This module also holds the shared types of every transport (:class:`OutgoingMessage`,
:class:`SendResult`, :class:`Transport`) and :func:`build_message`, the reference way of building
a message with the ``email`` package, which the fast composer is tested against.
"""

from __future__ import annotations

import mailbox
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from campaign.clock import utcnow
from campaign.errors import CampaignError
from campaign.files import PRIVATE_FILE
from campaign.mail.mime import Composer, SenderError, message_id_of
from campaign.messages import Message


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one address, already personalised."""

    from_address: str
    to: str
    subject: str
    text: str
    html: str
    from_name: str = ""
    # Empty: replies go to ``from_address``, which the Reply-To header then names (every message
    # carries one, as docs/reference/newsletters.md says).
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # Empty: a random one. The sending queue derives it from the delivery row.
    message_id: str = ""
    to_name: str = ""
    # The SMTP envelope sender (MAIL FROM, the future Return-Path); empty: ``from_address``.
    # The sending queue puts the VERP bounce address of the delivery here.
    envelope_from: str = ""

    # The HTML as chunks whose concatenation is the body (see CompiledNewsletter.
    # personalise_chunks): the composer encodes the chunks shared by a group once. When given,
    # ``html`` is left empty.
    html_parts: tuple[str, ...] = ()
    # The same for the plain text; when given, ``text`` is left empty.
    text_parts: tuple[str, ...] = ()

    @property
    def sender(self) -> str:
        return self.envelope_from or self.from_address

    @property
    def html_body(self) -> str:
        return self.html or "".join(self.html_parts)

    @property
    def text_body(self) -> str:
        return self.text or "".join(self.text_parts)


@dataclass(frozen=True)
class SendResult:
    """What became of one message: ``ok`` with its Message-ID, or the reason it failed.

    Transports return one per message, in the order of the messages given.
    """

    to: str
    ok: bool
    message_id: str = ""
    error: str = ""
    where: str = ""  # the outbox file, for the outbox transport
    # sent | deferred (4xx, try again later) | bounced (5xx) | failed; empty: from ``ok``.
    status: str = ""
    code: int = 0  # the SMTP reply code, when there was one
    # Why it failed as a message (``error`` is its CLI wording, as stored), when the transport
    # says it itself rather than quoting the server.
    reason: Message | None = None

    @property
    def outcome(self) -> str:
        return self.status or ("sent" if self.ok else "failed")


class TransportError(CampaignError):
    """The transport cannot go on (login refused, server unreachable, sender refused).

    ``results`` is aligned with the messages given to ``send``: what became of each message
    handled before it stopped, ``None`` for those not tried (they can be tried again).
    """

    def __init__(
        self, message: str | Message, results: Sequence[SendResult | None] | None = None
    ) -> None:
        super().__init__(message)
        self.results: list[SendResult | None] = list(results or [])


Report = Callable[[list[tuple[int, SendResult]]], None]
"""Told of results as they come, as ``(index in the batch, result)`` pairs. A caller that
records each result within moments of the server's reply loses at most those moments to a
crash, instead of a whole batch (the queue commits in this call)."""

REPORT_EVERY = 0.04
"""Seconds a result may wait before it is reported: the queue's window of unrecorded sends."""


class ResultFeed:
    """The results of a ``send`` not reported yet: handed to ``report`` once the oldest has
    waited ``every`` seconds, and all of them when the send ends (:meth:`flush` with
    ``force``). Without a ``report`` it keeps nothing."""

    def __init__(self, report: Report | None, every: float = REPORT_EVERY) -> None:
        self.report = report
        self.every = every
        self.waiting: list[tuple[int, SendResult]] = []
        self.since = 0.0

    def add(self, index: int, result: SendResult) -> None:
        if self.report is None:
            return
        if not self.waiting:
            self.since = time.monotonic()
        self.waiting.append((index, result))

    def due_in(self) -> float | None:
        """Seconds until the results waiting must be reported; None when none waits."""
        if not self.waiting:
            return None
        return max(0.0, self.since + self.every - time.monotonic())

    def flush(self, force: bool = False) -> None:
        if not self.waiting or self.report is None:
            return
        if not force and time.monotonic() - self.since < self.every:
            return
        waiting, self.waiting = self.waiting, []
        self.report(waiting)


class Transport(Protocol):
    def send(
        self, messages: Iterable[OutgoingMessage], report: Report | None = None
    ) -> list[SendResult]:
        """One result per message, in order. With ``report``, every result is also reported
        (once, within :data:`REPORT_EVERY` seconds of being known) before ``send`` returns or
        raises, unless ``report`` itself raised: then the send stops and that error is raised
        again."""
        ...

    def close(self) -> None: ...


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
        self, messages: Iterable[OutgoingMessage], report: Report | None = None
    ) -> list[SendResult]:
        """One result per message (each also given to ``report``, see :class:`Transport`).
        A sender that cannot be written or an outbox that cannot be written to (disk full)
        would fail every message alike: that stops with a :class:`TransportError` carrying the
        results so far, the rest left to send."""
        results: list[SendResult] = []
        feed = ResultFeed(report)
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
