"""The SMTP transport: N reused connections, a shared rate limit, one result per recipient.

Each message is its own SMTP transaction (MAIL, RCPT, DATA) so that the server's reply can be
kept per recipient: 2xx is ``sent``, 4xx ``deferred`` (tried again later), 5xx ``bounced`` with
the reply text kept for the delivery row. The envelope sender (MAIL FROM) is the message's
``envelope_from``, the VERP bounce address the queue gives each delivery.

``[mail.smtp] connections`` threads each own one connection, opened on first use and renewed
after ``messages_per_connection`` messages; they take the messages of a batch one at a time from
a shared cursor, so no message is given to two of them, and each waits for a slot of the shared
:class:`~campaign.mail.ratelimit.RateLimiter` before its transaction. A connection that drops is
opened again and only the message whose transaction was not acknowledged is sent again. A login
the server refuses, a sender it refuses for good (5xx to MAIL FROM) or a server that cannot be
reached stops every connection with a :class:`TransportError` carrying the results so far, so
the queue stays resumable.

The password is read from the environment variable named by ``[mail.smtp] password_env`` when
a connection opens; it is never stored in settings, messages or logs.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from campaign.errors import CampaignError
from campaign.mail.mime import Composer
from campaign.mail.outbox import OutgoingMessage, SendResult, TransportError
from campaign.mail.ratelimit import RateLimiter

log = logging.getLogger(__name__)

# Errors meaning "the connection is gone", after which the message may be sent again.
_DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError)


class _Dropped(Exception):
    """Internal: the connection went away during a transaction."""


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


def _outcome(code: int) -> str:
    if 200 <= code < 300:
        return "sent"
    if 400 <= code < 500:
        return "deferred"
    return "bounced"


class _Connection:
    """One SMTP session of the transport, used by one thread at a time."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.smtp: smtplib.SMTP | None = None
        self.sent = 0  # messages on the current session

    def _open(self) -> smtplib.SMTP:
        transport = self.transport
        where = transport.where
        context = transport.ssl_context or ssl.create_default_context()
        try:
            if transport.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    transport.host,
                    transport.port,
                    timeout=transport.timeout,
                    context=context,
                    local_hostname=transport.local_hostname,
                )
            else:
                connection = smtplib.SMTP(
                    transport.host,
                    transport.port,
                    timeout=transport.timeout,
                    local_hostname=transport.local_hostname,
                )
            connection.ehlo()
            if transport.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(
                f"Cannot connect to the SMTP server {where} (security {transport.security}): {exc}."
            ) from None
        if transport.username:
            try:
                connection.login(transport.username, transport.secret())
            except smtplib.SMTPAuthenticationError as exc:
                connection.close()
                raise TransportError(
                    f"The SMTP server {where} refused the login of {transport.username!r} "
                    f"({exc.smtp_code} {_text(exc.smtp_error)}); check [mail.smtp] username and "
                    f"the password in {transport.password_env}."
                ) from None
            except smtplib.SMTPException as exc:
                connection.close()
                raise TransportError(f"Cannot log in to the SMTP server {where}: {exc}.") from None
        transport.opened()
        log.info("SMTP connection to %s opened", where)
        return connection

    def connected(self) -> smtplib.SMTP:
        if self.smtp is not None and self.sent >= self.transport.per_connection:
            self.quit()
        if self.smtp is None:
            self.smtp = self._open()
            self.sent = 0
        return self.smtp

    def quit(self) -> None:
        connection, self.smtp = self.smtp, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def drop(self) -> None:
        connection, self.smtp = self.smtp, None
        if connection is not None:
            connection.close()

    @staticmethod
    def _data(connection: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
        """DATA with a message already in CRLF form: only dot-stuffing is left to do.

        (``smtplib.SMTP.data`` would run two regular expressions over every message.)
        """
        connection.putcmd("data")
        code, reply = connection.getreply()
        if code != 354:
            return code, reply
        if data.startswith(b"."):
            data = b"." + data
        if b"\r\n." in data:  # rare in quoted-printable: copy the message only then
            data = data.replace(b"\r\n.", b"\r\n..")
        # One write: a separate little write of the final dot would wait for the server's
        # delayed ACK of the message (Nagle), tens of milliseconds per message.
        connection.send(data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n"))
        return connection.getreply()

    @staticmethod
    def _command(connection: smtplib.SMTP, line: str) -> tuple[int, bytes]:
        """One command and its reply. ``smtplib``'s ``mail``/``rcpt`` parse each address again
        with the ``email`` package; ours were checked when the message was composed (plain
        ASCII, no spaces or line ends), so the command is written as it is."""
        if not line.isascii() or "\r" in line or "\n" in line:
            raise CampaignError(f"Cannot write the SMTP command {line!r}: not a plain address.")
        connection.send(line.encode("ascii") + b"\r\n")
        return connection.getreply()

    def _transaction(self, message: OutgoingMessage, data: bytes) -> SendResult:
        connection = self.connected()
        sender = message.sender
        try:
            code, reply = self._command(connection, f"MAIL FROM:<{sender}>")
            if code == 421:
                raise _Dropped
            if code >= 400:
                connection.rset()
                if code >= 500:
                    raise TransportError(
                        f"The SMTP server {self.transport.where} refuses the sender {sender}: "
                        f"{code} {_text(reply)}. Check [mail] from_address and "
                        "return_path_domain, then run the send again."
                    )
                return SendResult(
                    message.to, False, error=f"{code} {_text(reply)}", status="deferred", code=code
                )
            code, reply = self._command(connection, f"RCPT TO:<{message.to.strip()}>")
            if code == 421:
                raise _Dropped
            if code >= 300:
                connection.rset()
                return SendResult(
                    message.to, False, error=f"{code} {_text(reply)}", status=_outcome(code),
                    code=code,
                )  # fmt: skip
            code, reply = self._data(connection, data)
            if code == 421:
                raise _Dropped
            if code >= 300:
                connection.rset()
        except _DROPPED:
            raise _Dropped from None
        self.sent += 1
        status = _outcome(code)
        return SendResult(
            message.to,
            status == "sent",
            message_id=message.message_id,
            error="" if status == "sent" else f"{code} {_text(reply)}",
            status=status,
            code=code,
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            data = self.transport.composer.compose(message)
        except CampaignError as exc:
            return SendResult(message.to, False, error=str(exc), status="failed")
        for attempt in (1, 2):
            self.transport.limiter.wait()
            try:
                return self._transaction(message, data)
            except _Dropped:
                self.drop()
                if attempt == 2:
                    raise TransportError(
                        f"The SMTP server {self.transport.where} closed the connection twice in "
                        f"a row while sending to {message.to}."
                    ) from None
                log.warning("SMTP connection to %s dropped; opening it again", self.transport.where)
        raise AssertionError("unreachable")


class SmtpTransport:
    """Sends through the relay of ``[mail.smtp]``; connections open lazily, closed by
    :meth:`close`."""

    def __init__(
        self,
        smtp: Any,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        composer: Composer | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.host: str = smtp.host
        self.port: int = smtp.port
        self.security: str = smtp.security
        self.username: str = smtp.username
        self.password_env: str = smtp.password_env
        self.timeout: float = smtp.timeout
        self.per_connection: int = smtp.messages_per_connection
        self.composer = composer or Composer()
        self.limiter = limiter or RateLimiter(smtp.rate_per_second, smtp.rate_per_hour)
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname
        self._password = password
        self._connections = [_Connection(self) for _ in range(smtp.connections)]
        self._pool: ThreadPoolExecutor | None = None
        self._count_lock = threading.Lock()
        self.connections_opened = 0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def secret(self) -> str:
        password = self._password or os.environ.get(self.password_env) or ""
        if not password:
            raise TransportError(
                f"SMTP login as {self.username!r} needs a password: set the environment variable "
                f"{self.password_env} ([mail.smtp] password_env)."
            )
        return password

    def opened(self) -> None:
        with self._count_lock:
            self.connections_opened += 1

    # --- sending ----------------------------------------------------------------------------

    def send(self, messages: Iterable[OutgoingMessage]) -> list[SendResult]:
        # A sequence is taken as it is: its items may be built on access (the queue builds
        # each message in the thread that sends it).
        batch = messages if isinstance(messages, Sequence) else list(messages)
        results: list[SendResult | None] = [None] * len(batch)
        cursor = iter(range(len(batch)))
        lock = threading.Lock()
        failures: list[TransportError] = []

        def work(connection: _Connection) -> None:
            while True:
                with lock:
                    if failures:
                        return
                    index = next(cursor, None)
                if index is None:
                    return
                try:
                    results[index] = connection.send(batch[index])
                except TransportError as exc:
                    with lock:
                        failures.append(exc)
                    return
                except CampaignError as exc:  # the message could not be built (template)
                    with lock:
                        failures.append(TransportError(str(exc)))
                    return

        workers = self._connections[: max(1, min(len(self._connections), len(batch)))]
        interrupted = TransportError(
            "Interrupted: the messages sent so far are recorded, the others left to send; "
            "run the send again to carry on.",
        )
        if len(workers) == 1:
            try:
                work(workers[0])
            except KeyboardInterrupt:  # the message in flight is not known to be sent
                raise TransportError(str(interrupted), results) from None
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=len(self._connections), thread_name_prefix="smtp"
                )
            futures = [self._pool.submit(work, connection) for connection in workers]
            try:
                wait(futures)
            except KeyboardInterrupt:  # let each connection finish its message, then stop
                with lock:
                    failures.insert(0, interrupted)
                wait(futures)
            for future in futures:
                future.result()  # a bug in a worker surfaces here rather than vanishing
        if failures:
            raise TransportError(str(failures[0]), results)
        return [result for result in results if result is not None]

    def close(self) -> None:
        for connection in self._connections:
            connection.quit()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
